"""The work queue's rows (issue #8 §2): open work by default, a switch for all, overdue only for
deadlines staff must meet, "assigned to me" and workbench sections — through ``queue_queryset``,
the one function behind the queue page and its export."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from django.utils import timezone

from xinfang.petitions.filtersets import PetitionFilter
from xinfang.petitions.models import Petition
from xinfang.petitions.views import queue_queryset
from xinfang.workflow import services

from ..procedure import new_registration, to_accepted, to_replied

pytestmark = pytest.mark.django_db


def numbers(user, **params) -> set[str]:
    request = RequestFactory().get("/staff/", params)
    request.user = user
    _form, qs = queue_queryset(request)
    return set(qs.values_list("number", flat=True))


def set_due(petition, days: int) -> None:
    Petition.objects.filter(pk=petition.pk).update(due_on=timezone.localdate() + dt.timedelta(days=days))


@pytest.fixture
def mixed(world):
    """An open petition, a declined one and a withdrawn one, all registered by county A's office."""
    open_ = new_registration(world, title="待办").petition
    declined = new_registration(world, title="不予受理").petition
    services.decline(user=world.intake_a, number=declined.number, reasons="不属于信访事项")
    withdrawn = new_registration(world, title="撤回").petition
    services.withdraw(user=world.intake_a, number=withdrawn.number, reasons="信访人撤回")
    return open_, declined, withdrawn


def test_the_queue_lists_open_work_by_default(world, mixed):
    open_, declined, withdrawn = mixed
    assert numbers(world.intake_a) == {open_.number}


def test_the_switch_shows_final_petitions_too(world, mixed):
    open_, declined, withdrawn = mixed
    assert numbers(world.intake_a, all="on") == {open_.number, declined.number, withdrawn.number}


def test_choosing_a_final_status_shows_it(world, mixed):
    open_, declined, withdrawn = mixed
    assert numbers(world.intake_a, status="declined") == {declined.number}
    assert numbers(world.intake_a, status="registered") == {open_.number}


def test_an_invalid_filter_falls_back_to_open_work(world, mixed):
    open_, declined, withdrawn = mixed
    assert numbers(world.intake_a, status="no-such-status") == {open_.number}


def test_overdue_is_a_passed_staff_deadline_only(world):
    late = new_registration(world, title="受理后超期").petition
    to_accepted(world, late.number)
    set_due(late, -1)
    in_time = new_registration(world, title="受理未超期").petition
    to_accepted(world, in_time.number)
    set_due(in_time, 0)  # due today is not overdue yet
    window = new_registration(world, title="答复后复查期限已过").petition
    to_replied(world, window.number)
    set_due(window, -5)  # the petitioner's review window ran out: nothing for staff to do late
    registered_late = new_registration(world, title="登记后超期").petition
    set_due(registered_late, -2)

    assert numbers(world.intake_a, overdue="on", all="on") == {late.number, registered_late.number}
    assert numbers(world.handler_a, overdue="on") == {late.number}  # the department sees its own
    assert window.number in numbers(world.intake_a)  # still listed as open work, just not overdue


def test_mine_lists_the_petitions_i_handle(world):
    mine = new_registration(world, title="我承办").petition
    to_accepted(world, mine.number)
    services.assign_handler(user=world.handler_a, number=mine.number, staff="handler_a")
    other = new_registration(world, title="未指定承办人").petition
    to_accepted(world, other.number)

    assert numbers(world.handler_a, mine="on") == {mine.number}
    assert numbers(world.handler_a) == {mine.number, other.number}
    assert numbers(world.intake_a, mine="on") == set()  # nobody named the clerk


def test_mine_never_widens_the_scope(world):
    theirs = register_in_b(world)
    assert numbers(world.handler_a, mine="on") == set()
    assert theirs.number not in numbers(world.handler_a, all="on")


def register_in_b(world):
    from ..factories import register

    return register(world.b.office, world.intake_b, world.b.township).petition


def test_a_workbench_section_narrows_the_queue_like_the_workbench(world):
    from xinfang.workbench import sections

    first = new_registration(world, title="一").petition
    second = new_registration(world, title="二").petition
    services.assign(user=world.intake_a, number=first.number, unit=world.a.department)
    services.assign(user=world.intake_a, number=second.number, unit=world.a.department)
    for section in sections.SECTIONS:
        expected = set(
            sections.apply_section(
                section.key, Petition.objects.restrict(world.handler_a), world.handler_a
            ).values_list("number", flat=True)
        )
        assert numbers(world.handler_a, section=section.key) == expected, section.key


def test_an_unknown_section_leaves_the_queue_unchanged(world, mixed):
    open_, declined, withdrawn = mixed
    assert numbers(world.intake_a, section="no-such-section") == {open_.number}


def test_the_filter_itself_leaves_open_only_off_by_default(world, mixed):
    """The API's default is unchanged for existing clients: the filter dataclass lists everything."""
    qs = PetitionFilter().apply(Petition.objects.restrict(world.intake_a))
    assert qs.count() == 3
    assert PetitionFilter(open_only=True).apply(Petition.objects.restrict(world.intake_a)).count() == 1


def test_latest_deadline_first_over_open_work_puts_undated_petitions_last(world):
    """Open work in reverse deadline order: the latest deadline first, an undated open petition (a
    recheck in a hearing has no running deadline) after the dated ones."""
    soon, later, undated = (new_registration(world, title=t).petition for t in ("近", "远", "无期限"))
    set_due(soon, 2)
    set_due(later, 20)
    Petition.objects.filter(pk=undated.pk).update(due_on=None)
    request = RequestFactory().get("/staff/", {"sort": "-due_on"})
    request.user = world.intake_a
    _form, qs = queue_queryset(request)
    assert list(qs.values_list("number", flat=True)) == [later.number, soon.number, undated.number]
    request = RequestFactory().get("/staff/", {"sort": "due_on"})
    request.user = world.intake_a
    _form, qs = queue_queryset(request)
    assert list(qs.values_list("number", flat=True)) == [soon.number, later.number, undated.number]
