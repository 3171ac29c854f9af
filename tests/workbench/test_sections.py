"""Each workbench section holds exactly the petitions that need this person or their organisation
now, for the roles it concerns — and the count, the queue behind it and the export agree."""

from __future__ import annotations

import io

import pytest
from django.test import RequestFactory
from django.utils import timezone
from openpyxl import load_workbook

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Petition
from xinfang.petitions.views import queue_queryset
from xinfang.workbench.exports import petitions_xlsx
from xinfang.workbench.sections import SECTIONS, apply_section, section_counts, sections_for

pytestmark = pytest.mark.django_db

# Who sees what on the morning of tests/workbench/conftest.py (section key -> petition names).
EXPECTED = {
    "intake_a": {
        "dispose": {"registered", "returned"},
        "approve": {"replied", "window_passed"},  # completion reports awaiting the office
        "follow_up": {"replied"},  # window_passed: the evaluation window closed
        "supervision": set(),
        "due_soon": set(),
        "overdue": {"own"},  # the office's own matter
        "mine": set(),
    },
    "handler_a": {
        "new": {"assigned", "forwarded"},
        "handling": {"accepted", "mine", "due_soon", "overdue", "extension"},
        "supervision": {"accepted", "mine"},
        "appeals": set(),
        "due_soon": {"due_soon"},
        "overdue": {"overdue"},
        "mine": {"mine"},
    },
    "supervisor_a": {
        "dispose": {"registered", "returned"},
        "handling": {"own"},
        "approve": {"replied", "window_passed"},
        "supervision": set(),
        "supervision_review": {"due_soon"},
        "appeals": {"review"},  # the office acts for its government in review work
        "follow_up": {"replied"},
        "due_soon": {"due_soon"},  # a petition office's supervisor watches every deadline in scope
        "overdue": {"overdue", "own"},
        "mine": set(),
        "listed": {"mine"},
    },
    "leader_a": {
        "new": set(),
        "handling": set(),
        "approve": {"extension"},  # the department's extension: the county's leader approves
        # notices to the department are the department's to answer; its leaders above hear of an
        # unanswered one through the escalation (supervision.selectors.notices_to_answer)
        "supervision": set(),
        "appeals": {"review"},
        "due_soon": set(),
        "overdue": set(),
        "mine": set(),
        "listed": {"mine"},
    },
    "city_supervisor": {
        "dispose": set(),
        "handling": set(),
        "approve": set(),
        "supervision": set(),
        "supervision_review": set(),
        "appeals": set(),
        "follow_up": set(),
        "due_soon": {"due_soon"},
        "overdue": {"overdue", "own"},
        "mine": set(),
        "listed": {"mine"},
    },
    "handler_b": {
        "new": set(),
        "handling": set(),
        "supervision": set(),
        "appeals": set(),
        "due_soon": set(),
        "overdue": set(),
        "mine": set(),
    },
}

CASES = [(who, key) for who, sections in EXPECTED.items() for key in sections]


def _user(desk, who):
    return getattr(desk.world, who)


@pytest.mark.parametrize("who", list(EXPECTED))
def test_each_role_sees_its_sections_only(desk, who):
    """A section shows only to the roles it concerns (the intake clerk has no 办理中, the handler
    no 待处置, nobody but a petition office's staff 待回访)."""
    user = _user(desk, who)
    assert [s.key for s in sections_for(user)] == [s.key for s in SECTIONS if s.key in EXPECTED[who]]


@pytest.mark.parametrize(("who", "key"), CASES, ids=[f"{w}-{k}" for w, k in CASES])
def test_section_count_queue_and_export_agree(desk, who, key):
    """The section holds exactly the expected petitions; the figure on the workbench, the queue
    behind it (?section=key) and the XLSX export hold
    the same petitions: one definition of the section feeds all three."""
    user = _user(desk, who)
    count = {s.key: n for s, n in section_counts(user)}[key]
    request = RequestFactory().get("/staff/", {"section": key})
    request.user = user
    _form, qs = queue_queryset(request)
    listed = list(qs.values_list("number", flat=True))
    section = next(s for s in SECTIONS if s.key == key)
    response = petitions_xlsx(qs, "测试", user, section=section)
    sheet = load_workbook(io.BytesIO(response.content)).active
    exported = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert count == len(listed) == len(exported) == len(EXPECTED[who][key])
    assert exported == listed  # same rows, same order
    assert set(listed) == desk.numbers(*EXPECTED[who][key])
    event = AuditEvent.objects.filter(action="petition.export").latest("pk")
    assert event.data["count"] == count and event.actor_id == user.pk


@pytest.mark.parametrize("who", list(EXPECTED))
def test_nothing_outside_the_scope_ever_appears(desk, who):
    user = _user(desk, who)
    scope = set(Petition.objects.restrict(user).values_list("pk", flat=True))
    for section in sections_for(user):
        assert set(section.queryset(user).values_list("pk", flat=True)) <= scope
    if who != "handler_b":
        b = desk.p["b_registered"].pk
        assert all(b not in s.queryset(user).values_list("pk", flat=True) for s in sections_for(user))


def test_county_b_sees_none_of_county_a(desk):
    a_numbers = {p.number for n, p in desk.p.items() if not n.startswith("b_")}
    for user in (desk.world.handler_b, desk.world.intake_b, desk.leader_b):
        for section in sections_for(user):
            assert not a_numbers & set(section.queryset(user).values_list("number", flat=True))


def test_the_petitioners_window_is_never_overdue(desk):
    """A replied petition whose review window passed is not overdue for anyone (issue #8 §2)."""
    passed = desk.p["window_passed"]
    assert passed.due_on < timezone.localdate()
    for who in EXPECTED:
        user = _user(desk, who)
        overdue = apply_section("overdue", Petition.objects.restrict(user), user)
        assert not overdue.filter(pk=passed.pk).exists()
        assert (
            not apply_section("due_soon", Petition.objects.restrict(user), user).filter(pk=passed.pk).exists()
        )


def test_the_requester_never_approves_their_own_extension(desk):
    """A leader who asked for the extension does not see it as waiting for their approval."""
    from xinfang.workflow.models import ExtensionRequest

    ExtensionRequest.objects.filter(petition=desk.p["extension"]).update(requested_by=desk.world.leader_a)
    approve = next(s for s in SECTIONS if s.key == "approve")
    assert not approve.queryset(desk.world.leader_a).filter(pk=desk.p["extension"].pk).exists()


def test_apply_section_unknown_key_leaves_the_list_and_foreign_section_empties_it(desk):
    user = desk.world.intake_a
    qs = Petition.objects.restrict(user)
    assert apply_section("no-such-section", qs, user).count() == qs.count()
    assert apply_section("", qs, user).count() == qs.count()
    assert apply_section("handling", qs, user).count() == 0  # not a section of an intake clerk


def test_administrators_have_no_sections(desk):
    for user in (desk.world.sysadmin, desk.world.secadmin, desk.world.auditor):
        assert sections_for(user) == []
        assert section_counts(user) == []


@pytest.mark.parametrize("who", list(EXPECTED))
def test_supervision_sections_match_the_supervision_selectors(desk, who):
    """The sections read the supervision selectors unscoped (the petitions are restricted once,
    by the section): the result must be what the scoped selectors give."""
    from xinfang.supervision import selectors

    user = _user(desk, who)
    pairs = {
        "supervision": selectors.notices_to_answer,
        "supervision_review": selectors.answers_to_review,
        "listed": selectors.listed_notices,
    }
    for section in sections_for(user):
        if section.key in pairs:
            expected = set(pairs[section.key](user).values_list("petition_id", flat=True))
            assert set(section.queryset(user).values_list("pk", flat=True)) == expected
