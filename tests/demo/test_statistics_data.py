"""The seed's deadline records, letters and evaluations (issue #9): consistent with each seeded
petition's history, the same as the backfill derives from its timeline, and counted for the
current and the previous year."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from xinfang.demo.tree import load_tree
from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES, Status
from xinfang.petitions.models import Petition
from xinfang.stats import figures
from xinfang.stats.figures import Period, Slice
from xinfang.workflow import backfill
from xinfang.workflow.deadline_records import MAIN_KINDS
from xinfang.workflow.models import DeadlineKind, DeadlineRecord, DecisionLetter, Evaluation

pytestmark = pytest.mark.django_db
COUNT = 400


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db) -> str:
    with override_settings(DEBUG=False):
        return seed("--demo", "--no-accounts", "--petitions", str(COUNT))


def records() -> list[tuple]:
    return list(
        DeadlineRecord.objects.order_by("petition_id", "pk").values_list(
            "petition_id", "kind", "organisation_id", "organisation_path", "started_on", "due_on",
            "closed_on", "closed_by_id", "outcome", "closed_by_action",
        )
    )  # fmt: skip


def test_records_agree_with_the_petitions_states(seeded):
    petitions = {p.pk: p for p in Petition.objects.all()}
    open_main = {}
    for r in DeadlineRecord.objects.filter(kind__in=MAIN_KINDS, closed_on__isnull=True):
        assert r.petition_id not in open_main, "two clocks running at once"
        open_main[r.petition_id] = r
    for pk, petition in petitions.items():
        record = open_main.get(pk)
        if petition.status in STAFF_DEADLINE_STATUSES:
            # the running clock is the petition's own, held by the body that must act
            assert record is not None and record.due_on == petition.due_on, petition.number
            if petition.status == Status.REGISTERED:
                assert (record.kind, record.organisation_id) == (DeadlineKind.DISPOSAL, petition.office_id)
        else:
            assert record is None, f"{petition.number} is {petition.status} with a running deadline"
    # every petition had the office's disposal deadline, from the day it was received
    disposal = DeadlineRecord.objects.filter(kind=DeadlineKind.DISPOSAL)
    assert disposal.count() == COUNT
    assert not disposal.exclude(started_on=F("petition__received_on")).exists()
    # met and late by the due date; a realistic share late, some still open and overdue
    closed = DeadlineRecord.objects.exclude(closed_on=None)
    assert not closed.filter(outcome="met", closed_on__gt=F("due_on")).exists()
    assert not closed.filter(outcome="late", closed_on__lte=F("due_on")).exists()
    late = closed.filter(outcome="late").count()
    assert 0.01 * closed.count() < late < 0.2 * closed.count()
    # Whether one of the 400 is still open *and* overdue on the day the suite runs depends on that
    # day (the stories end today): it failed once in CI on PostgreSQL.  The demo morning makes
    # overdue work on purpose, and tests/demo/test_morning.py checks it.
    # assignments (交办) owe a completion report: met by the reply, or late
    reports = DeadlineRecord.objects.filter(kind=DeadlineKind.COMPLETION_REPORT)
    assert {"met", "late"} <= set(reports.values_list("outcome", flat=True))
    assert not DeadlineRecord.objects.exclude(organisation_path=F("organisation__path")).exists()


def test_letters_and_evaluations(seeded):
    letters = DecisionLetter.objects.all()
    # served 1 to 5 days after issue, some later by post, a few recent ones not yet: the evaluation
    # window runs from service (issue #10 point 8), and an unserved letter has none
    served = letters.exclude(served_on=None)
    assert served.exists() and not served.filter(evaluation_due_on=None).exists()
    assert not letters.filter(served_on=None).exclude(evaluation_due_on=None).exists()
    assert not served.filter(served_on__lte=F("issued_at__date")).exists()
    assert not served.filter(evaluation_due_on__lte=F("served_on")).exists()
    delays = {(letter.served_on - timezone.localdate(letter.issued_at)).days for letter in served}
    assert min(delays) >= 1 and max(delays) > 5  # some by post, later
    evaluations = Evaluation.objects.select_related("letter")
    assert evaluations.count() > 0.4 * letters.count()
    for e in evaluations:
        assert e.letter.petition_id == e.petition_id and e.unit_id == e.letter.organisation_id
        assert e.letter.served_on <= e.recorded_at.date() <= e.letter.evaluation_due_on
    ratings = set(evaluations.values_list("unit_rating", flat=True))
    assert ratings == {"satisfied", "basically_satisfied", "dissatisfied"}
    # some replies went unevaluated and their window has passed: lapsed
    lapsed = letters.filter(evaluation_due_on__lt=timezone.localdate()).exclude(
        pk__in=Evaluation.objects.values("letter_id")
    )
    assert lapsed.exists()


def test_seeded_records_are_what_the_backfill_derives_from_the_timeline(seeded):
    """One derivation: the seed's rows and the backfill's agree, so the two cannot drift apart."""
    written = records()
    windows = sorted(DecisionLetter.objects.values_list("pk", "evaluation_due_on"))
    DeadlineRecord.objects.all().delete()
    DecisionLetter.objects.update(evaluation_due_on=None)
    petitions, count = backfill.backfill(batch_size=150)
    assert petitions == COUNT and count == len(written)
    assert records() == written
    assert sorted(DecisionLetter.objects.values_list("pk", "evaluation_due_on")) == windows


def test_the_leader_sees_a_populated_current_and_previous_year(seeded):
    assert "Statistics rebuilt" in seeded
    city = load_tree().cities[0].government
    today = timezone.localdate()
    names = ["received", "replied", "handling_due", "acceptance_due", "evaluation_due", "unit_evaluated"]
    for year in (today.year, today.year - 1):
        period = Period(dt.date(year, 1, 1), min(dt.date(year, 12, 31), today))
        totals = figures.counts(names, period, Slice(scope=city.path))[None]
        for name in names:
            if year == today.year and today.month == 1 and name != "received":
                continue  # early January: the year's replies and deadlines are yet to come
            assert totals[name] > 0, (year, name)
    # counties side by side, each with its own figures
    period = Period(dt.date(today.year - 1, 1, 1), today)
    by_county = figures.counts(["received"], period, Slice(scope=city.path), by="child")
    assert len([k for k, v in by_county.items() if v["received"]]) >= 2
