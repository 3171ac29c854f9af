"""xinfang backfill_deadlines: the records derived from a petition's timeline are the records the
services wrote while it happened (each petition driven through the real services, its records
deleted, backfilled, compared)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from freezegun import freeze_time

from xinfang.workflow import appeals, backfill, services
from xinfang.workflow.models import DeadlineKind, DeadlineRecord, DecisionLetter

from ..factories import make_draft
from ..procedure import OPINION, REPLY, serve_reply

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 10, 0)


def register(world):
    draft = make_draft(world.a.township)
    return services.register(draft=draft, office=world.a.office, actor=world.intake_a).petition.number


def records() -> list[tuple]:
    return list(
        DeadlineRecord.objects.order_by("petition_id", "pk").values_list(
            "petition_id", "kind", "organisation_id", "organisation_path", "started_on", "due_on",
            "closed_on", "closed_by_id", "outcome", "closed_by_action",
        )
    )  # fmt: skip


def backfilled() -> list[tuple]:
    """Forget the records (and the evaluation windows), backfill, and read them again."""
    DeadlineRecord.objects.all().delete()
    DecisionLetter.objects.update(evaluation_due_on=None)
    out = io.StringIO()
    call_command("backfill_deadlines", stdout=out)
    assert "rebuilt the counts" in out.getvalue()
    return records()


def later(clock, days: int) -> None:  # noqa: ANN001
    clock.tick(dt.timedelta(days=days))


def test_backfill_derives_the_records_the_services_wrote(world):
    with freeze_time(START) as clock:
        waiting = register(world)  # still with the office: an open disposal record
        late = register(world)
        later(clock, 20)  # disposed of late, the unit objects, is overruled, accepts late
        services.forward(user=world.intake_a, number=late, unit=world.a.department)
        later(clock, 2)
        services.return_petition(user=world.handler_a, number=late, reasons="不属于本单位职责。")
        later(clock, 1)
        services.overrule_return(user=world.supervisor_a, number=late, comment="属你单位职责。")
        later(clock, 30)
        services.unit_accept(user=world.handler_a, number=late)
        assigned = register(world)
        later(clock, 3)  # assigned with a completion report, extended, replied, reviewed, rechecked
        services.assign(
            user=world.intake_a, number=assigned, unit=world.a.department,
            report_due_on=dt.date(2026, 6, 30),
        )  # fmt: skip
        later(clock, 2)
        services.unit_accept(user=world.handler_a, number=assigned)
        later(clock, 40)
        services.request_extension(user=world.handler_a, number=assigned, reasons="需现场核查。", days=20)
        later(clock, 1)
        services.approve_extension(user=world.leader_a, number=assigned)
        later(clock, 35)
        services.reply(user=world.handler_a, number=assigned, **REPLY)
        later(clock, 2)  # served by post two days later: the evaluation window runs from then
        serve_reply(assigned)
        later(clock, 3)
        appeals.request_review(user=world.intake_a, number=assigned, reasons="不服。")
        later(clock, 10)
        appeals.review(user=world.leader_a, number=assigned, **OPINION)
        later(clock, 5)
        appeals.request_recheck(user=world.intake_a, number=assigned, reasons="仍不服。")
        later(clock, 4)
        appeals.start_hearing(user=world.city_supervisor, number=assigned)
        later(clock, 2)
        appeals.end_hearing(user=world.city_supervisor, number=assigned)
        withdrawn = register(world)
        later(clock, 1)
        services.accept(user=world.intake_a, number=withdrawn)
        later(clock, 3)
        services.withdraw(user=world.intake_a, number=withdrawn, reasons="已协商解决。")
        declined = register(world)
        later(clock, 2)
        services.decline(user=world.intake_a, number=declined, reasons="不属于信访事项。")

        written = records()
        windows = sorted(DecisionLetter.objects.values_list("pk", "evaluation_due_on"))
        assert all(due is not None for _pk, due in windows)
        kinds = {r[1] for r in written}
        outcomes = {r[8] for r in written}
        # The scenario covers every rule of track: open, met, late, extended, void, the report.
        assert {DeadlineKind.EXTENSION, DeadlineKind.COMPLETION_REPORT, DeadlineKind.RECHECK} <= kinds
        assert {"", "met", "late", "extended", "void"} <= outcomes
        assert waiting and declined
        assert backfilled() == written
        assert sorted(DecisionLetter.objects.values_list("pk", "evaluation_due_on")) == windows
        # Idempotent: petitions that have records are skipped.
        call_command("backfill_deadlines", "--no-rebuild", stdout=io.StringIO())
        assert records() == written


def test_derive_mirrors_track_on_a_plain_timeline():
    day = dt.date(2026, 3, 2)
    d = dt.timedelta
    ticks = [
        backfill.Tick("register", day, "", "registered", day + d(15), 1, 7),
        backfill.Tick("forward", day + d(20), "registered", "forwarded", day + d(27), 2, 7),
        backfill.Tick("unit_accept", day + d(22), "forwarded", "accepted", day + d(82), 2, 8),
        backfill.Tick("reply", day + d(50), "accepted", "replied", day + d(80), 2, 8),
    ]  # fmt: skip
    derived = backfill.derive(day, ticks)
    assert [(d.kind, d.organisation_id, d.outcome, d.closed_by_action) for d in derived] == [
        ("disposal", 1, "late", "forward"),
        ("unit_acceptance", 2, "met", "unit_accept"),
        ("handling", 2, "met", "reply"),
    ]
    assert derived[0].started_on == day and derived[1].started_on == day + d(20)
