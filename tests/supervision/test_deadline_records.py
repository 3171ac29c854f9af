"""The unit's response deadline of a supervision notice kept as a record (issue #9 §1): opened when
the notice is issued, met or late when the unit answers, a new one when the office returns the
answer with a new date, void when the notice is lifted (or the petition ends) within its date,
late when lifted after it — and counted by the roll-up (supervision_due, supervision_on_time,
deadlines_missed)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from freezegun import freeze_time

from xinfang.stats import figures, rollup
from xinfang.stats.figures import Period, Slice
from xinfang.supervision import services
from xinfang.supervision.models import NoticeKind, SupervisionNotice
from xinfang.workflow import services as workflow
from xinfang.workflow.models import DeadlineKind, DeadlineOutcome, DeadlineRecord

# A Monday morning in Beijing; every date below is counted from it.
START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def supervision_records(petition) -> list[DeadlineRecord]:
    return list(
        DeadlineRecord.objects.filter(petition=petition, kind=DeadlineKind.SUPERVISION).order_by("pk")
    )


def supervise(world, petition, respond_by: dt.date) -> SupervisionNotice:
    return services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.FORMAL,
                              requirements="请于期限内反馈办理进展。", respond_by=respond_by)  # fmt: skip


def answer(world, petition) -> None:
    services.answer_supervision(
        user=world.handler_a, number=petition.number, text="已约谈用人单位，正在补发。"
    )


def test_issuing_opens_the_units_record(world, petition):
    due = timezone.localdate() + 5 * DAY
    notice = supervise(world, petition, due)
    (record,) = supervision_records(petition)
    assert record.organisation == world.a.department == notice.unit
    assert record.organisation_path == world.a.department.path
    assert (record.started_on, record.due_on, record.reference) == (timezone.localdate(), due, notice.pk)
    assert record.closed_on is None and record.outcome == ""


def test_answer_within_the_date_is_met_by_the_person_who_answered(world, petition):
    supervise(world, petition, timezone.localdate() + 5 * DAY)
    answer(world, petition)
    (record,) = supervision_records(petition)
    assert record.outcome == DeadlineOutcome.MET
    assert (record.closed_on, record.closed_by, record.closed_by_action) == (
        timezone.localdate(), world.handler_a, "answer_supervision",
    )  # fmt: skip


def test_answer_after_the_date_is_late(world, registration):
    from ..procedure import to_accepted

    with freeze_time(START) as frozen:
        number = registration.petition.number
        to_accepted(world, number)
        petition = registration.petition
        supervise(world, petition, timezone.localdate() + 3 * DAY)
        frozen.tick(6 * DAY)
        answer(world, petition)
    (record,) = supervision_records(petition)
    assert record.outcome == DeadlineOutcome.LATE and record.closed_on == dt.date(2026, 3, 8)


def test_a_returned_answer_opens_a_new_record_with_the_new_date(world, petition):
    supervise(world, petition, timezone.localdate() + 5 * DAY)
    answer(world, petition)
    new_date = timezone.localdate() + 9 * DAY
    notice = services.return_supervision_answer(
        user=world.supervisor_a, number=petition.number, reasons="未说明补发时间。", respond_by=new_date
    )
    first, second = supervision_records(petition)
    assert first.outcome == DeadlineOutcome.MET  # the first answer was on time; that stays
    assert (second.due_on, second.reference, second.closed_on) == (new_date, notice.pk, None)
    answer(world, petition)
    second.refresh_from_db()
    assert second.outcome == DeadlineOutcome.MET
    services.accept_supervision_answer(user=world.supervisor_a, number=petition.number)
    assert [r.outcome for r in supervision_records(petition)] == ["met", "met"]  # accepting adds none


def test_lifting_within_the_date_voids_the_open_record(world, petition):
    supervise(world, petition, timezone.localdate() + 5 * DAY)
    services.lift_supervision(user=world.supervisor_a, number=petition.number, reasons="督办对象有误。")
    (record,) = supervision_records(petition)
    assert record.outcome == DeadlineOutcome.VOID and record.closed_by == world.supervisor_a
    assert record.closed_by_action == "lift_supervision"


def test_lifting_after_the_date_keeps_the_violation(world, registration):
    """催办 ignored past its date, lifted to issue 挂牌督办: the unit's miss stays on record."""
    from ..procedure import to_accepted

    with freeze_time(START) as frozen:
        to_accepted(world, registration.petition.number)
        petition = registration.petition
        supervise(world, petition, timezone.localdate() + 2 * DAY)
        frozen.tick(4 * DAY)
        services.lift_supervision(user=world.supervisor_a, number=petition.number, reasons="改为挂牌督办。")
    (record,) = supervision_records(petition)
    assert record.outcome == DeadlineOutcome.LATE and record.closed_by_action == "lift_supervision"


def test_only_the_lifted_notices_record_ends(world, staff, petition):
    due = timezone.localdate() + 5 * DAY
    county = supervise(world, petition, due)
    services.supervise(user=world.city_supervisor, number=petition.number, kind=NoticeKind.URGE,
                       requirements="请加快办理。", respond_by=due)  # fmt: skip
    services.lift_supervision(user=world.supervisor_a, number=petition.number, reasons="市局已督办。")
    by_notice = {r.reference: r.outcome for r in supervision_records(petition)}
    assert by_notice.pop(county.pk) == DeadlineOutcome.VOID
    assert list(by_notice.values()) == [""]  # the city's notice still runs


def test_a_petition_that_ends_ends_the_open_response_deadline(world, registration):
    number = registration.petition.number
    petition = registration.petition
    services.supervise(user=world.city_supervisor, number=number, kind=NoticeKind.URGE,
                       requirements="请尽快处理。", respond_by=timezone.localdate() + 5 * DAY)  # fmt: skip
    workflow.withdraw(user=world.intake_a, number=number, reasons="信访人书面申请撤回。")
    (record,) = supervision_records(petition)
    assert record.outcome == DeadlineOutcome.VOID and record.closed_by_action == "withdraw"


def test_the_rollup_counts_supervision_deadlines(world, registration):
    """The stats receiver marks the record's due day on every supervision action; once the date has
    passed it is counted as due, and as met or missed."""
    from ..procedure import to_accepted

    with freeze_time(START) as frozen:
        to_accepted(world, registration.petition.number)
        petition = registration.petition
        supervise(world, petition, timezone.localdate() + 2 * DAY)  # 4 March
        rollup.refresh()
        frozen.tick(5 * DAY)  # 7 March: the date passed unanswered
        today = timezone.localdate()
        march, scope = Period.month(2026, 3), Slice(scope=world.a.government.path)
        names = ["supervision_due", "supervision_on_time", "deadlines_missed"]
        totals = figures.counts(names, march, scope, today=today)[None]
        assert (totals["supervision_due"], totals.get("supervision_on_time", 0)) == (1, 0)
        missed_before = totals["deadlines_missed"]
        assert DeadlineRecord.objects.filter(kind=DeadlineKind.SUPERVISION, closed_on=None).count() == 1
        answer(world, petition)  # late
        rollup.refresh()
        totals = figures.counts(names, march, scope, today=today)[None]
        assert totals["supervision_due"] == 1 and totals["deadlines_missed"] == missed_before
        services.return_supervision_answer(user=world.supervisor_a, number=petition.number,
                                           reasons="不完整。", respond_by=today + 2 * DAY)  # fmt: skip
        answer(world, petition)  # on time
        rollup.refresh()
        frozen.tick(5 * DAY)
        totals = figures.counts(names, march, scope, today=timezone.localdate())[None]
        assert (totals["supervision_due"], totals["supervision_on_time"]) == (2, 1)
