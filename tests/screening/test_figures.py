"""排查率 and 化解率: each figure equals the rows behind its link, the 化解率 of the figures page
equals the ledger's counts; the quarterly briefing freezes its figures and its DOCX lists the units."""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone
from docx import Document

from xinfang.screening import briefings, figures, services
from xinfang.screening.models import Briefing, ScreeningRound

from ..factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger_world(world, make_dispute):
    today = timezone.localdate()
    period = figures.Period.quarter(*figures.current_quarter(today))
    first = period.start
    a = make_dispute(screened_on=first)
    b = make_dispute(screened_on=first, kind="labour")
    make_dispute(screened_on=first, organisation=world.a.department)
    services.transition(actor=world.intake_a, dispute=a, to="resolved", note="调解成功")
    services.transition(actor=world.intake_a, dispute=b, to="handed_over", note="移交县法院")
    town = make_staff("town_clerk", world.a.township, "handler")
    rnd = services.issue_round(
        actor=world.supervisor_a, title="本月排查", period_start=first, period_end=today, due_on=today
    )
    services.complete_return(actor=town, round_return=rnd.returns.get(unit=world.a.township), zero=True)
    # due yesterday: the department's return is late (due and not done), the township's on time
    due = max(first, today - dt.timedelta(days=1))
    ScreeningRound.objects.filter(pk=rnd.pk).update(due_on=due)
    rnd.returns.filter(unit=world.a.township).update(completed_on=due)
    return period


def _count_rows(client, url: str, marker: str) -> int:
    """The rows of a list page: ``id="<marker><pk>"``."""
    html = client.get(url).content.decode()
    return len(re.findall(marker + r'\d+"', html))


def test_figures_agree_with_the_rows_behind_their_links(client, world, ledger_world):
    client.force_login(world.supervisor_a)
    rows = {r.unit_id: r for r in figures.unit_figures(world.supervisor_a, ledger_world)}
    town = rows[world.a.township.pk]
    assert (town.screened, town.resolved, town.resolution_rate) == (2, 1, 50.0)
    dept = rows[world.a.department.pk]
    assert (dept.screened, dept.resolved) == (1, 0)
    for row in rows.values():
        for flt, expected in (
            (figures.cohort_filter(row.unit_id, ledger_world, resolved=False), row.screened),
            (figures.cohort_filter(row.unit_id, ledger_world, resolved=True), row.resolved),
        ):
            assert _count_rows(client, figures.ledger_url(flt), 'id="dispute-') == expected
        due = _count_rows(client, figures.returns_url(row.unit_id, ledger_world), 'id="return-')
        on_time = _count_rows(
            client, figures.returns_url(row.unit_id, ledger_world, on_time=True), 'id="return-'
        )
        assert (due, on_time) == (row.returns_due, row.returns_on_time)
    if timezone.localdate() > ledger_world.start:  # the round is due (yesterday) and so counted
        assert (town.returns_due, town.returns_on_time) == (1, 1) and town.screening_rate == 100.0
        assert (dept.returns_due, dept.returns_on_time) == (1, 0) and dept.screening_rate == 0.0
    html = client.get(reverse("screening:figures")).content.decode()
    assert world.a.township.name in html and "50.0%" in html


def test_figures_links_carry_the_ledger_filters(world, ledger_world):
    url = figures.ledger_url(figures.cohort_filter(world.a.township.pk, ledger_world, resolved=True))
    query = parse_qs(urlparse(url).query)
    assert query["status"] == ["resolved"] and query["screened_from"] == [ledger_world.start.isoformat()]


def test_the_briefing_is_frozen_and_its_docx_lists_units_and_counts(
    client, world, ledger_world, make_dispute
):
    year, quarter = figures.current_quarter(timezone.localdate())
    briefing = briefings.generate_briefing(actor=world.supervisor_a, year=year, quarter=quarter)
    units = {u["unit"]: u for u in briefing.figures["units"]}
    assert units[world.a.township.name]["new"] == 2 and units[world.a.township.name]["resolved"] == 1
    assert briefing.figures["totals"]["new"] == 3
    first_docx = briefings.render_docx(briefing)
    make_dispute()  # later changes do not alter an issued briefing
    again = briefings.generate_briefing(actor=world.supervisor_a, year=year, quarter=quarter)
    assert again.pk == briefing.pk and Briefing.objects.count() == 1
    assert briefings.render_docx(Briefing.objects.get(pk=briefing.pk)) == first_docx
    doc = Document(io.BytesIO(first_docx))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert world.a.township.name in cells and world.a.department.name in cells and "合计" in cells
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "新排查矛盾纠纷3件" in text
    client.force_login(world.supervisor_a)
    response = client.get(reverse("screening:briefing_docx", args=[briefing.pk]))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    html = client.get(reverse("screening:briefing", args=[briefing.pk]), {"format": "print"}).content.decode()
    assert world.a.township.name in html and "mainnav" not in html
    client.force_login(world.intake_b)
    assert client.get(reverse("screening:briefing", args=[briefing.pk])).status_code == 404


def test_only_office_supervisors_and_leaders_generate_briefings(client, world):
    year, quarter = figures.current_quarter(timezone.localdate())
    with pytest.raises(services.ScreeningRefused):
        briefings.generate_briefing(actor=world.handler_a, year=year, quarter=quarter)
    client.force_login(world.handler_a)
    response = client.post(reverse("screening:briefings"), {"year": year, "quarter": quarter})
    assert response.status_code == 403
    client.force_login(world.supervisor_a)
    response = client.post(reverse("screening:briefings"), {"year": year + 1, "quarter": 1})
    assert response.status_code == 200 and "请选择已经开始的季度" in response.content.decode()
