"""Property-based test of issue #7 points 1-3: a report (检举控告) never reaches the accused, and no
petition is left where nobody can act.

A hypothesis ``RuleBasedStateMachine`` (a sibling of ``test_state_machine``, which checks the table
itself) registers one petition per example — a report from the portal whose accused is not yet
confirmed, a report against county A's department, against county A's petition office itself,
against the county government or against the city government, or an ordinary complaint — and then
applies random actions of the procedure, including ``name_subject`` with a random accused, by
everyone who might act on it: county A's office, its departments and government, the city's
petition office, discipline organ, supervisor and leader, the province's petition office and
leader, the petitioner, and the daily job (``engine.System``).  A frozen clock moves on now and then.
Recusal is not drawn: with one or two people per body, stepping aside would leave a body without
staff, which says nothing about the procedure (a real office has others).

After every step:

* an unconfirmed report is still registered (nothing routed it);
* nobody inside the accused organisation sees the report, except the registering office while it
  has to route it; no open assignment is to the accused or inside it; an appeal never goes to it;
* liveness: unless the state is final, someone — a member of staff of the bodies above, the
  petitioner or the daily job — is offered an action that moves the procedure on (not only
  recusal, the urgent flag, an evaluation or a withdrawal).  This is the property that the review
  of a reply by the accused's subordinate broke: the review went to the accused, who may not see
  the report, and nobody could act.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from freezegun import freeze_time
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.services import create_organisation
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.choices import FINAL_STATUSES, Purpose, Status
from xinfang.petitions.models import Petition
from xinfang.workflow import appeals, services
from xinfang.workflow.engine import Citizen, System, TransitionRefused, allowed_actions, check_allowed
from xinfang.workflow.models import Appeal, Assignment
from xinfang.workflow.transitions import STATUTORY, TRANSITIONS

from ..factories import make_staff, register
from ..procedure import serve_reply, serve_review

MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

REPLY = {"outcome": "support", "facts": "经查属实", "basis": "有关规定", "opinion": "支持"}
OPINION = {"facts": "经复查属实", "basis": "第三十五条", "opinion": "维持"}
REASONS = "该事项需依法处理"


def _call(action: str, user: Any, number: str, version: int, a: dict[str, Any]) -> Petition:
    """Take ``action`` with good arguments (the sibling machine drives the bad ones)."""
    kwargs: dict[str, Any] = {"user": user, "number": number, "version": version}
    if action == "name_subject":
        return services.name_subject(
            **kwargs, subject_organisation=a["subject"], no_subject_organisation=a["subject"] is None
        )
    if action in {"forward", "assign"}:
        return services.ACTION_SERVICES[action](**kwargs, unit=a["unit"])
    if action in {"reply"}:  # served the day it is issued: the windows run from service
        petition = services.reply(**kwargs, **REPLY)
        serve_reply(number)
        return petition
    if action in {"review", "recheck"}:
        petition = services.ACTION_SERVICES[action](**kwargs, outcome=a["appeal_outcome"], **OPINION)
        if petition.status == Status.REVIEWED:
            serve_review(number)
        return petition
    if action == "record_agreement":
        return services.record_agreement(**kwargs, parties="信访人与用人单位", terms="补发全部工资")
    if action == "evaluate":
        return appeals.evaluate(**kwargs, office_rating="satisfied", unit_rating="satisfied")
    if action == "request_extension":
        return services.request_extension(**kwargs, days=10, reasons=REASONS)
    if action == "conclude":
        return appeals.conclude(**kwargs, conclusion=a["conclusion"])
    if action == "merge":
        return services.merge(**kwargs, into="")
    if action == "redirect":
        return services.redirect(**kwargs, channel="人民法院")
    if action == "recuse":
        return services.recuse(**kwargs, reasons=REASONS)
    takes = {"decline", "return", "reject_extension", "reject_completion", "request_review",
             "request_recheck", "withdraw", "report_urgent", "dispute_jurisdiction"}  # fmt: skip
    if action in takes:
        return services.ACTION_SERVICES[action](**kwargs, reasons=REASONS)
    if action == "overrule_return":
        return services.overrule_return(**kwargs, comment=REASONS)
    if action == "decide_jurisdiction":
        return services.ACTION_SERVICES[action](**kwargs, unit=a["unit"], reasons=REASONS)
    return services.ACTION_SERVICES[action](**kwargs)


def _offered(petition: Petition, user: Any) -> set[str]:
    """What ``user`` may do now.  The daily job reads no page (``allowed_actions`` offers it nothing,
    having no scope): what it may do is what ``check_allowed`` lets it."""
    if not isinstance(user, System):
        return {t.action for t in allowed_actions(petition, user) if t.action in STATUTORY}
    offered = set()
    for transition in TRANSITIONS.values():
        if transition.action not in STATUTORY:
            continue
        try:
            check_allowed(petition, user, transition)
        except TransitionRefused:
            continue
        offered.add(transition.action)
    return offered


# Offered to someone, these alone do not move the procedure on.
PASSIVE = {"recuse", "report_urgent", "evaluate", "withdraw"}
# Rarely taken: they end the example early or only flag it.
RARE = {"recuse", "report_urgent", "withdraw", "decline", "redirect", "merge", "refuse_repeat", "conclude"}


def test_reports_never_reach_the_accused_and_someone_can_always_act(world):
    a = world.a
    city_office = world.city_supervisor.organisation
    province_office = create_organisation(
        name="西地省信访局",
        kind=OrganisationKind.PETITION_OFFICE,
        level=Level.PROVINCE,
        parent=world.province,
    )
    discipline = create_organisation(
        name="A市纪委监委", kind=OrganisationKind.DISCIPLINE, level=Level.CITY, parent=world.city
    )
    other_department = create_organisation(
        name="甲县住建局", kind=OrganisationKind.DEPARTMENT, level=Level.COUNTY, parent=a.government
    )
    staff = [
        world.intake_a,
        world.supervisor_a,
        world.leader_a,
        world.handler_a,
        make_staff("handler_other", other_department, "handler"),
        make_staff("handler_town", a.township, "handler"),
        make_staff("handler_city_office", city_office, "handler"),
        make_staff("handler_discipline", discipline, "handler"),
        make_staff("handler_province", province_office, "handler"),
        world.city_supervisor,
        make_staff("leader_city", world.city, "leader"),
        make_staff("leader_province", world.province, "leader"),
    ]
    units = [a.department, other_department, a.township, city_office, discipline, province_office]
    subjects = {
        "complaint": None,
        "report_unnamed": None,
        "report_department": a.department,
        "report_office": a.office,
        "report_government": a.government,
        "report_city": world.city,
    }
    accused_choices = [None, a.department, a.office, a.government, world.city]

    class Accusations(RuleBasedStateMachine):
        @initialize(variant=st.sampled_from(sorted(subjects)))
        def register_petition(self, variant: str) -> None:
            self.clock = freeze_time("2026-03-02 02:00:00")
            self.frozen = self.clock.start()
            subject = subjects[variant]
            if variant == "complaint":
                registration = register(a.office, world.intake_a, a.township)
            elif variant == "report_unnamed":  # from the portal: the accused in free text only
                registration = register(a.office, None, a.township, purpose=Purpose.REPORT)
            else:
                registration = register(
                    a.office, world.intake_a, a.township, purpose=Purpose.REPORT,
                    subject_organisation_id=subject.pk,
                )  # fmt: skip
            self.petition = registration.petition
            self.actors = [*staff, Citizen(petition_id=self.petition.pk), System()]
            self.offers = self._offers()

        def teardown(self) -> None:
            if getattr(self, "clock", None) is not None:
                self.clock.stop()

        def _offers(self) -> dict[int, set[str]]:
            self.petition.refresh_from_db()
            return {i: _offered(self.petition, u) for i, u in enumerate(self.actors)}

        @rule(data=st.data())
        def act(self, data: st.DataObject) -> None:
            offers = self.offers  # as the last invariant saw them (nothing changed since)
            offered = sorted(
                {(action, i) for i, actions in offers.items() for action in actions if action != "recuse"}
            )
            moving = [(action, i) for action, i in offered if action not in RARE]
            choices = moving if moving and data.draw(st.integers(0, 9), label="rare") else offered
            if not choices:
                return
            action, who = data.draw(st.sampled_from(choices), label="action")
            args = {
                "unit": data.draw(st.sampled_from(units), label="unit"),
                "subject": data.draw(st.sampled_from(accused_choices), label="subject"),
                "appeal_outcome": data.draw(
                    st.sampled_from(["uphold", "change", "rehandle"]), label="outcome"
                ),
                "conclusion": data.draw(st.sampled_from(["review_lapsed", "recheck_lapsed"]), label="why"),
            }
            if action == "recheck" and args["appeal_outcome"] == "rehandle":
                args["appeal_outcome"] = "uphold"
            try:
                with transaction.atomic():
                    _call(action, self.actors[who], self.petition.number, self.petition.version, args)
            except (TransitionRefused, PetitionNotFound):
                pass  # a wrong unit, a window still open …: the sibling machine judges refusals
            wait = data.draw(st.sampled_from([0] * 10 + [1, 3, 31]), label="wait")
            if wait:
                self.frozen.tick(dt.timedelta(days=wait))

        @invariant()
        def an_unconfirmed_report_is_never_routed(self) -> None:
            p = self.petition
            p.refresh_from_db()
            if p.purpose == Purpose.REPORT and not p.subject_confirmed:
                assert p.status in {Status.REGISTERED, Status.WITHDRAWN}, p.status
                assert not Assignment.objects.filter(petition=p).exists()

        @invariant()
        def the_accused_never_sees_nor_handles_it(self) -> None:
            p = self.petition
            subject = p.subject_organisation if p.is_confidential else None
            if subject is None:
                return
            for member in staff:
                inside = member.organisation.is_within(subject)
                routing_it = member.organisation_id == p.office_id and p.status in {"registered", "returned"}
                if inside and not routing_it:
                    assert not Petition.objects.restrict(member).filter(pk=p.pk).exists(), member.username
            for assignment in Assignment.objects.filter(petition=p, ended_at__isnull=True):
                assert not assignment.unit.is_within(subject), assignment.unit.name
            for appeal in Appeal.objects.filter(petition=p):
                assert not appeal.body.is_within(subject), appeal.body.name

        @invariant()
        def someone_can_always_act(self) -> None:
            p = self.petition
            if p.status in FINAL_STATUSES:
                self.offers = {}
                return
            offers = self.offers = self._offers()
            # (a replied or reviewed petition is moved on by the petitioner, or by the daily job once
            # the window has lapsed: the System is among the actors)
            moving = {action for actions in offers.values() for action in actions} - PASSIVE
            assert moving, (p.status, offers)

    run_state_machine_as_test(Accusations, settings=MACHINE_SETTINGS)
