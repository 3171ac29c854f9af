"""考核 (assessment, issue #9 §5): scoring formula known answers, define → run → publish through
the services and through the pages, frozen published scores, versioned and audited re-publication,
who sees what, and bad input refused in Chinese with nothing written."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from xinfang.audit.models import AuditEvent
from xinfang.stats import assessment as services
from xinfang.stats import figures, rollup
from xinfang.stats.assessment import deduction_points, score_indicator
from xinfang.stats.figures import Period, Slice
from xinfang.stats.models import (
    AssessmentPublication,
    AssessmentResult,
    AssessmentScheme,
    BonusItem,
    Indicator,
    SchemeStatus,
)
from xinfang.workflow import services as workflow
from xinfang.workflow.deadline_records import close, open_record
from xinfang.workflow.models import DeadlineKind

from ..factories import make_draft, make_staff

TODAY = timezone.localdate()
START, END = TODAY - dt.timedelta(days=60), TODAY - dt.timedelta(days=1)


def D(text: str) -> Decimal:  # noqa: N802 - reads like the literal it stands for
    return Decimal(text)


# --- the formula ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "weight", "higher", "expected"),
    [
        ("95", "95", "20", True, "20.00"),  # at the target: full points
        ("99.5", "95", "20", True, "20.00"),  # beyond it: still full, never more
        ("76", "95", "20", True, "16.00"),  # short of it: 20 × 76 / 95
        ("75", "90", "20", True, "16.67"),  # 16.666… rounded half up
        ("0", "90", "20", True, "0.00"),
        (None, "90", "20", True, "20.00"),  # a rate with nothing to judge scores full
        ("3", "5", "10", False, "10.00"),  # lower is better, under the target: full
        ("10", "5", "10", False, "5.00"),  # over it: 10 × 5 / 10
        ("7.5", "5", "10", False, "6.67"),
        ("2", "0", "10", False, "0.00"),  # a zero tolerance: anything above scores nothing
        ("0", "0", "10", False, "10.00"),
        ("40", "50", "8", True, "6.40"),  # a count indicator: 40 of a target of 50
    ],
)
def test_indicator_score_known_answers(value, target, weight, higher, expected):
    score = score_indicator(
        None if value is None else D(value), target=D(target), weight=D(weight), higher_is_better=higher
    )
    assert score == D(expected)


@pytest.mark.parametrize(
    ("count", "per_item", "cap", "expected"),
    [(3, "2", "5", "5.00"), (3, "2", None, "6.00"), (2, "2", "5", "4.00"), (0, "2", "5", "0.00"),
     (7, "0.5", None, "3.50")],
)  # fmt: skip
def test_deduction_known_answers(count, per_item, cap, expected):
    assert deduction_points(count, points_per_item=D(per_item), cap=D(cap) if cap else None) == D(expected)


def test_equal_totals_share_a_rank(world):
    scores = [
        services.UnitScore(
            unit=u, detail={}, indicator_points=t, deduction_points=D(0), bonus_points=D(0), total=t
        )
        for u, t in [(world.a.government, D(10)), (world.b.government, D(12)), (world.a.township, D(10))]
    ]
    services._rank(scores)
    assert [(s.unit, s.rank) for s in scores] == [
        (world.b.government, 1), (world.a.government, 2), (world.a.township, 2)
    ]  # fmt: skip


# --- a known world ----------------------------------------------------------------------------


def _petition(world, county, clerk):
    draft = make_draft(county.township, received_on=TODAY - dt.timedelta(days=10))
    return workflow.register(draft=draft, office=county.office, actor=clerk).petition


def _deadline(petition, unit, kind, due_on, *, closed_on=None):
    record = open_record(
        petition, kind=kind, organisation=unit, started_on=due_on - dt.timedelta(days=5), due_on=due_on
    )
    if closed_on is not None:
        close(record, on=closed_on, user=None, action="unit_accept")
    return record


@pytest.fixture
def facts(world):
    """County A: four acceptance deadlines (three met, one late) and two handling deadlines still
    open past their date — timely acceptance 75 %, three deadlines missed.  County B: two
    acceptance deadlines met, none missed."""
    a = _petition(world, world.a, world.intake_a)
    b = _petition(world, world.b, world.intake_b)
    due = TODAY - dt.timedelta(days=20)
    for _ in range(3):
        _deadline(
            a, world.a.department, DeadlineKind.UNIT_ACCEPTANCE, due, closed_on=due - dt.timedelta(days=1)
        )
    _deadline(a, world.a.department, DeadlineKind.UNIT_ACCEPTANCE, due, closed_on=due + dt.timedelta(days=4))
    for _ in range(2):
        _deadline(a, world.a.department, DeadlineKind.HANDLING, TODAY - dt.timedelta(days=5))
    for _ in range(2):
        _deadline(b, world.b.department, DeadlineKind.UNIT_ACCEPTANCE, due, closed_on=due)
    rollup.rebuild()
    return {"a": a, "b": b}


@pytest.fixture
def city_leader(world):
    return make_staff("city_office_leader", world.city_supervisor.organisation, "leader")


def _define(world, user=None):
    user = user or world.city_supervisor
    scheme = services.create_scheme(
        user=user, name="2026年度信访工作考核", assessor=world.city, start=START, end=END, units=[]
    )
    services.set_indicator(
        user=user, scheme_id=scheme.pk, figure="timely_acceptance_rate", weight="20", target="90"
    )
    services.set_indicator(user=user, scheme_id=scheme.pk, figure="repeat_rate", weight="10", target="5")
    services.set_deduction(
        user=user, scheme_id=scheme.pk, metric="deadlines_missed", points_per_item="2", cap="5"
    )
    services.add_bonus(
        user=user, scheme_id=scheme.pk, unit=world.b.government, points="1.5", reason="获省级表彰"
    )
    return scheme


def _by_unit(scores):
    return {s.unit_name: s for s in scores}


def test_run_scores_each_unit_with_known_answers(world, facts):
    # given
    scheme = _define(world)
    # when
    ranking = services.run(scheme)
    # then: the default units are the city's counties (not the city's own petition office)
    scores = _by_unit(ranking.units)
    assert set(scores) == {world.a.government.name, world.b.government.name}
    a, b = scores[world.a.government.name], scores[world.b.government.name]
    rate = a.detail["indicators"][0]
    assert (rate["numerator"], rate["denominator"], rate["value"], rate["score"]) == (3, 4, "75.00", "16.67")
    assert a.detail["indicators"][1]["score"] == "10.00"  # repeat rate 0 % against 5 %: full
    assert a.detail["deductions"][0]["count"] == 3 and a.detail["deductions"][0]["points"] == "5.00"  # capped
    assert a.total == D("21.67") and a.rank == 2
    assert b.detail["deductions"][0]["count"] == 0
    assert b.bonus_points == D("1.5") and b.total == D("31.50") and b.rank == 1
    # The one read of the whole area gives what reading each unit's scope gives.
    for unit in (world.a.government, world.b.government):
        direct = figures.counts(
            ["deadlines_missed", "acceptance_due"], Period(START, END), Slice(scope=unit.path)
        )[None]
        score = scores[unit.name]
        assert score.detail["deductions"][0]["count"] == direct["deadlines_missed"]
        assert score.detail["indicators"][0]["denominator"] == direct["acceptance_due"]


def test_published_score_is_frozen_and_a_republication_is_version_two(world, facts):
    scheme = _define(world)
    first = services.publish(user=world.city_supervisor, scheme_id=scheme.pk)
    assert first.version == 1 and first.reason == ""
    frozen = {r.unit_name: (r.total, r.rank, r.detail) for r in first.results.all()}
    assert frozen[world.b.government.name][0] == D("31.50")
    assert (
        AuditEvent.objects.filter(action="stats.assessment_published", object_id=str(scheme.pk)).count() == 1
    )
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.PUBLISHED

    # when: county B misses a deadline and receives a new petition after publication
    late = _petition(world, world.b, world.intake_b)
    _deadline(late, world.b.department, DeadlineKind.HANDLING, TODAY - dt.timedelta(days=3))
    rollup.rebuild()

    # then: the published result does not move …
    assert {r.unit_name: (r.total, r.rank, r.detail) for r in first.results.all()} == frozen
    # … and a fresh run does
    assert _by_unit(services.run(scheme).units)[world.b.government.name].total == D("29.50")

    # A re-publication needs a reason; with one it is version 2, audited with the reason.
    with pytest.raises(ValidationError) as refused:
        services.publish(user=world.city_supervisor, scheme_id=scheme.pk, reason="  ")
    assert "须说明理由" in str(refused.value)
    assert AssessmentPublication.objects.filter(scheme=scheme).count() == 1
    second = services.publish(user=world.city_supervisor, scheme_id=scheme.pk, reason="更正乙县超期数据")
    assert second.version == 2
    assert second.results.get(unit=world.b.government).total == D("29.50")
    assert first.results.get(unit=world.b.government).total == D("31.50")
    event = AuditEvent.objects.get(action="stats.assessment_republished")
    assert event.data["reason"] == "更正乙县超期数据" and event.data["version"] == 2


def test_publishing_refuses_before_the_period_ends_and_writes_nothing(client, world, facts):
    scheme = services.create_scheme(
        user=world.city_supervisor, name="本月考核", assessor=world.city.children.get(kind="petition_office"),
        start=TODAY - dt.timedelta(days=3), end=TODAY, units=[world.a.government],
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        services.publish(user=world.city_supervisor, scheme_id=scheme.pk)
    messages = " ".join(refused.value.messages)
    assert "考核期尚未结束" in messages and "还没有考核指标或扣分规则" in messages
    assert not AssessmentPublication.objects.exists() and not AssessmentResult.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="stats.assessment_publ").exists()
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.DRAFT
    # the confirmation page says so before anyone tries
    client.force_login(world.city_supervisor)
    page = client.get(reverse("stats:assessment_publish", args=[scheme.pk])).content.decode()
    assert 'id="assessment-not-ended"' in page


def test_bad_definitions_are_refused_in_chinese_with_nothing_written(world):
    user = world.city_supervisor
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.create_scheme(
            user=user, name=" ", assessor=world.a.government, start=END, end=START, units=[world.province]
        )
    errors = refused.value.message_dict
    assert errors["name"] == ["请填写方案名称。"]
    assert "考核机关须为本信访工作机构或其所属人民政府。" in errors["assessor"]
    assert "考核期截止日期不能早于起始日期。" in errors["end"]
    assert "被考核单位须为本机关辖区内两级以内的单位（不含本机关）。" in errors["units"]
    assert not AssessmentScheme.objects.exists() and AuditEvent.objects.count() == events

    scheme = services.create_scheme(user=user, name="考核", assessor=world.city, start=START, end=END)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.set_indicator(user=user, scheme_id=scheme.pk, figure="nonsense", weight="-1", target="120")
    assert set(refused.value.message_dict) == {"figure", "weight"}
    with pytest.raises(ValidationError) as refused:
        services.set_indicator(
            user=user, scheme_id=scheme.pk, figure="repeat_rate", weight="10", target="120"
        )
    assert refused.value.message_dict["target"] == ["比率的目标值为百分数，不能超过100。"]
    with pytest.raises(ValidationError) as refused:
        services.set_deduction(user=user, scheme_id=scheme.pk, metric="deadlines_missed", points_per_item="0")
    assert refused.value.message_dict["points_per_item"] == ["须为大于0的数。"]
    with pytest.raises(ValidationError) as refused:
        services.add_bonus(user=user, scheme_id=scheme.pk, unit=world.a.department, points="2", reason="")
    assert set(refused.value.message_dict) == {"unit", "reason"}
    assert not Indicator.objects.exists() and not BonusItem.objects.exists()
    assert AuditEvent.objects.count() == events

    services.set_indicator(user=user, scheme_id=scheme.pk, figure="repeat_rate", weight="10", target="5")
    with pytest.raises(ValidationError) as refused:
        services.set_indicator(user=user, scheme_id=scheme.pk, figure="repeat_rate", weight="5", target="5")
    assert refused.value.message_dict["figure"] == ["该指标已在方案中。"]
    assert Indicator.objects.get().higher_is_better is False  # the rate's own direction


def test_only_a_petition_offices_supervisor_or_leader_manages(world):
    with pytest.raises(services.AssessmentRefused):
        services.create_scheme(
            user=world.handler_a, name="x", assessor=world.a.government, start=START, end=END
        )
    scheme = services.create_scheme(
        user=world.city_supervisor, name="x", assessor=world.city, start=START, end=END
    )
    # county A's supervisor manages county A's schemes, not the city's
    with pytest.raises(AssessmentScheme.DoesNotExist):
        services.access_scheme(world.supervisor_a, scheme.pk)


# --- the pages --------------------------------------------------------------------------------


def test_define_run_publish_through_the_pages(client, world, facts, city_leader):
    client.force_login(city_leader)
    assert client.get(reverse("stats:assessment_list")).status_code == 200
    # a scheme with an error keeps what was typed
    response = client.post(
        reverse("stats:assessment_new"),
        {"name": "年度考核", "assessor": world.city.pk, "start": END.isoformat(), "end": START.isoformat()},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "考核期截止日期不能早于起始日期。" in page and "年度考核" in page
    assert not AssessmentScheme.objects.exists()
    response = client.post(
        reverse("stats:assessment_new"),
        {"name": "年度考核", "assessor": world.city.pk, "start": START.isoformat(), "end": END.isoformat()},
    )
    scheme = AssessmentScheme.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "stats:assessment_detail", args=[scheme.pk]
    )

    # an indicator typed wrong: the scheme page again, with the typed values and the error
    response = client.post(
        reverse("stats:assessment_indicator_add", args=[scheme.pk]),
        {"figure": "timely_acceptance_rate", "weight": "20", "target": "190"},
    )
    page = response.content.decode()
    assert (
        response.status_code == 200
        and "比率的目标值为百分数，不能超过100。" in page
        and 'value="190"' in page
    )
    assert not scheme.indicators.exists()
    client.post(
        reverse("stats:assessment_indicator_add", args=[scheme.pk]),
        {"figure": "timely_acceptance_rate", "weight": "20", "target": "90"},
    )
    client.post(
        reverse("stats:assessment_indicator_add", args=[scheme.pk]),
        {"figure": "repeat_rate", "weight": "10", "target": "5"},
    )
    client.post(
        reverse("stats:assessment_deduction_add", args=[scheme.pk]),
        {"metric": "deadlines_missed", "points_per_item": "2", "cap": "5"},
    )
    response = client.post(
        reverse("stats:assessment_bonus_add", args=[scheme.pk]),
        {"unit": world.b.government.pk, "points": "1.5", "reason": ""},
    )
    assert response.status_code == 200 and not BonusItem.objects.exists()
    client.post(
        reverse("stats:assessment_bonus_add", args=[scheme.pk]),
        {"unit": world.b.government.pk, "points": "1.5", "reason": "获省级表彰"},
    )
    assert AuditEvent.objects.filter(action="stats.assessment_bonus_added").count() == 1
    # editing an indicator
    indicator = scheme.indicators.get(figure="repeat_rate")
    response = client.post(
        reverse("stats:assessment_indicator_edit", args=[scheme.pk, indicator.pk]),
        {"figure": "repeat_rate", "weight": "10", "target": "5", "direction": "lower"},
    )
    assert response.status_code == 302

    preview = client.get(reverse("stats:assessment_preview", args=[scheme.pk])).content.decode()
    assert "21.67" in preview and "31.50" in preview and not AssessmentPublication.objects.exists()

    confirm = client.get(reverse("stats:assessment_publish", args=[scheme.pk])).content.decode()
    assert 'id="assessment-not-ended"' not in confirm
    assert "发布后分数冻结，数据变化不再影响已发布结果；如需更正须重新发布并说明理由" in confirm
    response = client.post(reverse("stats:assessment_publish", args=[scheme.pk]), {"reason": ""})
    assert response.status_code == 302
    publication = AssessmentPublication.objects.get()
    ranking = client.get(reverse("stats:assessment_ranking", args=[scheme.pk])).content.decode()
    assert ranking.index(world.b.government.name) < ranking.index(world.a.government.name)
    assert "第1版" in ranking

    export = client.get(reverse("stats:assessment_ranking", args=[scheme.pk]) + "?format=xlsx")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[1][:2] == ["名次", "单位"] and rows[1][-1] == "总分"
    assert rows[2][:2] == [1, world.b.government.name] and rows[2][-1] == 31.5
    assert rows[3][:2] == [2, world.a.government.name] and rows[3][-1] == 21.67
    assert AuditEvent.objects.filter(action="stats.assessment_exported").count() == 1

    # re-publishing without a reason is refused on the page, with a reason it is version 2
    response = client.post(reverse("stats:assessment_publish", args=[scheme.pk]), {"reason": ""})
    assert response.status_code == 200 and "须说明理由" in response.content.decode()
    client.post(reverse("stats:assessment_publish", args=[scheme.pk]), {"reason": "补录加分"})
    assert list(scheme.publications.values_list("version", flat=True).order_by("version")) == [1, 2]
    listing = client.get(reverse("stats:assessment_list")).content.decode()
    assert f'id="scheme-{scheme.pk}"' in listing and "第2版" in listing
    assert publication.results.count() == 2


def test_a_unit_sees_its_own_published_score_only(client, world, facts):
    scheme = _define(world)
    publication = services.publish(user=world.city_supervisor, scheme_id=scheme.pk)
    own = publication.results.get(unit=world.a.government)
    other = publication.results.get(unit=world.b.government)

    # county A's leader and its department's handler see county A's result …
    for user in (world.leader_a, world.handler_a):
        client.force_login(user)
        listing = client.get(reverse("stats:assessment_list")).content.decode()
        assert f'id="result-{own.pk}"' in listing and f'id="result-{other.pk}"' not in listing
        response = client.get(reverse("stats:assessment_result", args=[own.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "21.67" in page and "第2名（共2个单位）" in page
        # … and not county B's, nor the ranking of all units
        assert client.get(reverse("stats:assessment_result", args=[other.pk])).status_code == 404
        assert client.get(reverse("stats:assessment_ranking", args=[scheme.pk])).status_code == 403
    client.force_login(world.handler_b)
    assert client.get(reverse("stats:assessment_result", args=[own.pk])).status_code == 404
    # county A's own office manages its own schemes, not the city's: "not found"
    client.force_login(world.supervisor_a)
    assert client.get(reverse("stats:assessment_detail", args=[scheme.pk])).status_code == 404
    assert client.get(reverse("stats:assessment_ranking", args=[scheme.pk])).status_code == 404
    client.force_login(world.sysadmin)
    assert client.get(reverse("stats:assessment_list")).status_code == 403
    client.logout()
    assert client.get(reverse("stats:assessment_list")).status_code == 302


def test_each_deduction_links_to_the_petitions_behind_it(client, world, facts):
    scheme = _define(world)
    publication = services.publish(user=world.city_supervisor, scheme_id=scheme.pk)
    own = publication.results.get(unit=world.a.government)
    assert own.detail["deductions"][0]["count"] == 3
    client.force_login(world.leader_a)
    page = client.get(reverse("stats:assessment_result", args=[own.pk]))
    link = next(a["href"] for a in _links(page.content.decode()) if "deadlines_missed" in a["href"])
    query = parse_qs(urlparse(link).query, keep_blank_values=True)
    assert query == {
        "metric": ["deadlines_missed"], "start": [START.isoformat()], "end": [END.isoformat()],
        "scope": [str(world.a.government.pk)],
    }  # fmt: skip
    # the list behind the link holds the three missed deadlines the score was made of
    drill = client.get(link)
    assert drill.status_code == 200 and drill.context["total"] == 3
    # a department's handler sees the county's score, but the county's lists are outside their area
    client.force_login(world.handler_a)
    page = client.get(reverse("stats:assessment_result", args=[own.pk])).content.decode()
    assert "21.67" in page and "metric=deadlines_missed" not in page


def _links(html: str) -> list[dict[str, str]]:
    from html.parser import HTMLParser

    found: list[dict[str, str]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "a":
                found.append({k: v or "" for k, v in attrs})

    Parser().feed(html)
    return [a for a in found if "href" in a]


def test_a_failing_publication_leaves_nothing_behind(world, facts, monkeypatch):
    """The audit event is written last in the transaction: if it fails, no version, no result rows
    and no status change remain."""
    scheme = _define(world)

    def broken(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(services, "record_event", broken)
    with pytest.raises(RuntimeError):
        services.publish(user=world.city_supervisor, scheme_id=scheme.pk)
    assert not AssessmentPublication.objects.exists() and not AssessmentResult.objects.exists()
    scheme.refresh_from_db()
    assert scheme.status == SchemeStatus.DRAFT


def test_running_costs_the_same_queries_for_more_units(world, facts):
    """The figures of all units come from one read of the area, not one read per unit."""
    scheme = _define(world)
    with CaptureQueriesContext(connection) as two_units:
        services.run(scheme)
    more = [world.a.government, world.b.government, world.a.department, world.b.department, world.a.township]
    services.update_scheme(
        user=world.city_supervisor, scheme_id=scheme.pk, name=scheme.name, assessor=world.city,
        start=START, end=END, units=more,
    )  # fmt: skip
    with CaptureQueriesContext(connection) as five_units:
        scores = _by_unit(services.run(scheme).units)
    assert len(five_units) <= len(two_units) <= 12
    # nested units each count their own subtree: county A's department holds all of A's deadlines
    assert scores[world.a.department.name].detail["deductions"][0]["count"] == 3
    assert scores[world.a.township.name].detail["deductions"][0]["count"] == 0


def test_editing_and_removing_through_the_pages_is_audited(client, world, facts):
    scheme = _define(world)
    client.force_login(world.city_supervisor)
    deduction = scheme.deductions.get()
    response = client.post(
        reverse("stats:assessment_deduction_edit", args=[scheme.pk, deduction.pk]),
        {"metric": "deadlines_missed", "points_per_item": "abc", "cap": ""},
    )
    assert response.status_code == 200 and 'value="abc"' in response.content.decode()
    client.post(
        reverse("stats:assessment_deduction_edit", args=[scheme.pk, deduction.pk]),
        {"metric": "deadlines_missed", "points_per_item": "1", "cap": ""},
    )
    deduction.refresh_from_db()
    assert deduction.points_per_item == D("1") and deduction.cap is None
    response = client.post(
        reverse("stats:assessment_edit", args=[scheme.pk]),
        {"name": "改名后的考核", "assessor": world.city.pk, "start": START.isoformat(),
         "end": END.isoformat(), "units": [world.a.government.pk]},
    )  # fmt: skip
    assert response.status_code == 302
    bonus = scheme.bonuses.get()
    indicator = scheme.indicators.first()
    client.post(reverse("stats:assessment_bonus_delete", args=[scheme.pk, bonus.pk]))
    client.post(reverse("stats:assessment_indicator_delete", args=[scheme.pk, indicator.pk]))
    client.post(reverse("stats:assessment_deduction_delete", args=[scheme.pk, deduction.pk]))
    assert not scheme.bonuses.exists() and not scheme.deductions.exists() and scheme.indicators.count() == 1
    actions = set(AuditEvent.objects.filter(object_id=str(scheme.pk)).values_list("action", flat=True))
    assert {
        "stats.assessment_changed", "stats.assessment_bonus_removed", "stats.assessment_indicator_removed",
        "stats.assessment_deduction_removed", "stats.assessment_deduction_set",
    } <= actions  # fmt: skip
    removed = AuditEvent.objects.get(action="stats.assessment_bonus_removed")
    assert removed.data["reason"] == "获省级表彰"
    # a removed item is gone for a second click: a message, not an error page
    response = client.post(reverse("stats:assessment_bonus_delete", args=[scheme.pk, bonus.pk]), follow=True)
    assert "该加分项已不在方案中" in response.content.decode()
    scheme.refresh_from_db()
    assert scheme.name == "改名后的考核" and list(scheme.units.all()) == [world.a.government]
