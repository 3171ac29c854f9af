"""The template filters of the deadline light (workflow library) and query_with (core library)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory
from freezegun import freeze_time

TODAY = dt.date(2025, 10, 8)


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context)).strip()


@freeze_time("2025-10-08 10:00:00+08:00")
@pytest.mark.parametrize(
    ("days", "light"),
    [(10, "green"), (4, "green"), (3, "yellow"), (0, "yellow"), (-1, "red")],
)
def test_deadline_filters_come_from_the_workflow_library(days, light):
    due = TODAY + dt.timedelta(days=days)
    out = render("{% load workflow %}{{ due|deadline_light }} {{ due|days_left }}", due=due)
    assert out == f"{light} {days}"


def test_no_deadline_has_no_light():
    assert render("{% load workflow %}{{ due|deadline_light }}|{{ due|days_left }}", due=None) == "none|None"


@freeze_time("2025-10-08 10:00:00+08:00")
def test_filters_agree_with_the_deadline_engine():
    from xinfang.workflow import deadlines
    from xinfang.workflow.templatetags import workflow as tags

    for days in range(-5, 8):
        due = TODAY + dt.timedelta(days=days)
        assert tags.deadline_light(due) == deadlines.deadline_light(due)
        assert tags.days_left(due) == deadlines.days_left(due)


def test_core_library_no_longer_has_the_deadline_filters():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load xinfang %}{{ due|deadline_light }}")


def test_query_with_replaces_and_drops_parameters():
    request = RequestFactory().get("/queue/", {"page": "2", "sort": "due_on"})
    out = render('{% load xinfang %}{% query_with page=3 sort="" %}', request=request)
    assert out == "?page=3"
