"""The roll-up against the facts, on a small known world (the first, quick check; the full
known-answer suite is test_agreement.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from xinfang.stats import figures, rollup
from xinfang.stats.figures import Period, Slice
from xinfang.stats.metrics import METRICS
from xinfang.workflow import services
from xinfang.workflow.models import DeadlineKind, DeadlineRecord

from ..factories import make_draft
from ..procedure import to_replied


def new_registration(world, **overrides):
    """Registered the way the pages and the API register: with the disposal clock started."""
    draft = make_draft(world.a.township, **overrides)
    return services.register(draft=draft, office=world.a.office, actor=world.intake_a)


def test_registration_and_reply_are_counted_and_drillable(world):
    first = new_registration(world).petition
    second = new_registration(world, headcount=6).petition
    to_replied(world, first.number)
    kinds = list(DeadlineRecord.objects.filter(petition=first).order_by("pk").values_list("kind", "outcome"))
    assert kinds[:3] == [
        (DeadlineKind.DISPOSAL, "met"), (DeadlineKind.UNIT_ACCEPTANCE, "met"), (DeadlineKind.HANDLING, "met")
    ]  # fmt: skip
    rollup.refresh()
    today = timezone.localdate()
    period = Period(today - dt.timedelta(days=40), today + dt.timedelta(days=400))
    scope = Slice(scope=world.a.government.path)
    totals = figures.counts(list(METRICS), period, scope)[None]
    assert totals["received"] == 2
    assert totals["persons"] == 1 + 6
    assert totals["collective"] == 1
    assert totals["replied"] == 1
    for name in METRICS:
        rows = figures.drill(name, period, scope)
        assert figures.drill_total(name, rows) == totals.get(name, 0), name
    incremental = sorted(
        (r.metric, r.organisation_id, r.dimension, r.key, r.value) for r in rollup.DailyCount.objects.all()
    )
    rollup.rebuild()
    rebuilt = sorted(
        (r.metric, r.organisation_id, r.dimension, r.key, r.value) for r in rollup.DailyCount.objects.all()
    )
    assert incremental == rebuilt
    assert second.pk
