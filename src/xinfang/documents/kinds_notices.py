"""The notice kinds: documents that record a step the procedure has taken (receipt, acceptance,
non-acceptance, redirect, forwarding and assignment slips, extension, hearing, supervision letter,
conclusion) and the mediation or settlement agreement (Art. 33).  Issuing them takes no workflow
step, except the agreement, whose issue records the agreement on the timeline
(``workflow.services.record_agreement``); they are numbered, printed and served like every document.

Each ``build`` draws the body from what the procedure holds — the petition and its petitioners,
the event of the step (its organisation, the reasons or channel a decline or redirect recorded),
the assignment, the extension request, the appeal and hearing, the supervision notice — so the
drafter only corrects or completes the fields the kind lists as editable.  Values are strings: the
body is stored as JSON and printed as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xinfang.core import page_memo
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Channel, Conclusion, EventKind, Status
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.supervision.models import NoticeKind, SupervisionNotice
from xinfang.supervision.selectors import page_notices
from xinfang.workflow import services as workflow_services
from xinfang.workflow.appeals import appeals_with_hearings
from xinfang.workflow.deadlines import rule_for
from xinfang.workflow.engine import handling_organisation, open_appeal
from xinfang.workflow.models import (
    Appeal,
    AppealKind,
    Assignment,
    AssignmentKind,
    DeadlineKind,
    DeadlineRecord,
    ExtensionDecision,
    ExtensionRequest,
    Hearing,
    Step,
)

from .choices import Addressee, DocumentKind
from .kinds import BodyField, Kind, register
from .models import Document

QUERY_CODE_NOTICE = _("查询码已在登记时告知信访人；如遗失，可凭身份证件到信访部门重新获取。")
# Art. 33: where an agreement may be recorded — from acceptance until the matter is concluded (the
# states of the ``record_agreement`` transition, workflow/transitions.py AGREEMENT_STATES).
AGREEMENT_STATES = frozenset(
    {Status.ACCEPTED, Status.REPLIED, Status.UNDER_REVIEW, Status.REVIEWED, Status.UNDER_RECHECK}
)
AGREEMENT_FORMS = (("mediation", _("调解协议书")), ("settlement", _("和解协议书")))


# --- what every notice draws from the petition ----------------------------------------------------


def day(value: dt.date | None) -> str:
    """2026年12月2日: a date in the body (the 成文日期 alone is in Chinese numerals)."""
    return f"{value.year}年{value.month}月{value.day}日" if value is not None else ""


def petitioners(petition: Petition) -> str:
    people = sorted(petition.petitioners.all(), key=lambda p: (not p.is_representative, p.position))
    names = [p.name for p in people]
    if len(names) > 3:  # a collective visit: the representatives stand for the others
        return gettext("{names}等{count}人").format(names="、".join(names[:3]), count=len(names))
    return "、".join(names)


def petition_fields(petition: Petition) -> dict[str, str]:
    """The petition as every notice prints it."""
    return {
        "petitioners": petitioners(petition),
        "channel_label": str(Channel(petition.channel).label),
        "received_on_text": day(petition.received_on),
        "request_summary": petition.content,
        "locality": petition.locality.name,
    }


def _page_events(petition: Petition) -> list[PetitionEvent] | None:
    """The timeline the petition page already loaded (with actors and bodies), else None: which
    documents a petition has reached is asked for every kind, and each asked the database."""
    return page_memo.prefetched(petition, "events") if page_memo.active(petition) else None


def last_event(petition: Petition, *kinds: str) -> PetitionEvent | None:
    events = _page_events(petition)
    if events is not None:
        found = [e for e in events if e.kind in kinds]
        return max(found, key=lambda e: (e.at, e.pk)) if found else None
    return (
        PetitionEvent.objects.filter(petition=petition, kind__in=kinds)
        .select_related("organisation", "actor")
        .order_by("-at", "-pk")
        .first()
    )


def _event_day(event: PetitionEvent | None) -> str:
    return day(timezone.localdate(event.at)) if event is not None else ""


def _event_organisation(petition: Petition, *kinds: str) -> Organisation:
    event = last_event(petition, *kinds)
    return event.organisation if event is not None and event.organisation is not None else petition.office


def last_assignment(petition: Petition, kind: str | None = None) -> Assignment | None:
    rows = Assignment.objects.filter(petition=petition).select_related("unit", "assigned_by")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return rows.order_by("-assigned_at", "-pk").first()


def routing_note(petition: Petition, organisation: Organisation) -> str:
    """ "，经甲县信访局于2026年12月1日交办甲县人社局" when the unit that accepted was sent the
    matter; nothing when the office handles its own."""
    assignment = last_assignment(petition)
    if assignment is None or assignment.unit_id != organisation.pk:
        return ""
    return gettext("，经{office}于{date}{verb}{unit}").format(
        office=petition.office.name, date=day(timezone.localdate(assignment.assigned_at)),
        verb=AssignmentKind(assignment.kind).label, unit=assignment.unit.name,
    )  # fmt: skip


def _period(step: str, organisation: Organisation) -> str:
    rule = rule_for(step, organisation)
    return f"{rule.length}{rule.get_unit_display()}"


# --- 登记回执 -------------------------------------------------------------------------------------


def _receipt_body(petition: Petition) -> dict[str, Any]:
    return {
        **petition_fields(petition),
        "registered_on": day(timezone.localdate(petition.registered_at)),
        "disposal_notice": gettext(
            "本机关将自收到之日起{period}内区分情况依法处理（转送、交办有权处理的机关、单位，受理，"
            "或者告知不予受理），并告知您处理情况（《信访工作条例》第二十二条、第二十三条）。"
        ).format(period=_period(Step.DISPOSAL, petition.office)),
        "note": "",
    }


def _receipt_context(document: Document) -> dict[str, Any]:
    # The query code is shown once and kept only as a hash: an issued receipt never holds it.  The
    # clerk's registration screen prints the one copy that carries it with
    # ``rendering.render_docx(document, extra={"query_code": registration.query_code})``.
    return {"query_code": "", "query_code_notice": str(QUERY_CODE_NOTICE)}


# --- 受理告知书 -----------------------------------------------------------------------------------


def _acceptance_issuer(petition: Petition) -> Organisation:
    return _event_organisation(petition, EventKind.ACCEPTED)


def _acceptance_body(petition: Petition) -> dict[str, Any]:
    organisation = _acceptance_issuer(petition)
    event = last_event(petition, EventKind.ACCEPTED)
    due = petition.due_on if petition.status == Status.ACCEPTED else None
    handling = gettext(
        "本机关将依照《信访工作条例》第三十二条、第三十四条的规定，自受理之日起{period}内办结并书面答复您"
        "{due}；情况复杂的，经本机关负责人批准，可以适当延长办理期限，并告知您延期理由。"
    ).format(
        period=_period(Step.HANDLING, organisation),
        due=gettext("（办理期限至{date}）").format(date=day(due)) if due else "",
    )
    return {
        **petition_fields(petition),
        "accepted_on": _event_day(event),
        "routing_note": routing_note(petition, organisation),
        "handling": handling,
    }


# --- 不予受理告知书, 告知书 -----------------------------------------------------------------------


def _decline_body(petition: Petition) -> dict[str, Any]:
    event = last_event(petition, EventKind.DECLINED)
    return {
        **petition_fields(petition),
        "declined_on": _event_day(event),
        "reasons": (event.data or {}).get("reasons", "") if event is not None else "",
        "basis": gettext("《信访工作条例》第二十二条、第二十三条"),
        "channel": "",
    }


def _redirect_body(petition: Petition) -> dict[str, Any]:
    event = last_event(petition, EventKind.REDIRECTED)
    return {
        **petition_fields(petition),
        "redirected_on": _event_day(event),
        "channel": (event.data or {}).get("channel", "") if event is not None else "",
        "basis": gettext("《信访工作条例》第二十二条第二款、第三十一条"),
        "explanation": gettext(
            "对依法应当通过诉讼、仲裁、行政复议等法定途径解决的投诉请求，信访人应当依照有关法律、"
            "行政法规规定的程序向有关机关提出。"
        ),
    }


# --- 转送单, 交办单 -------------------------------------------------------------------------------


def _slip_body(kind: str) -> Any:
    def build(petition: Petition) -> dict[str, Any]:
        assignment = last_assignment(petition, kind)
        if assignment is None:
            return petition_fields(petition)
        unit = assignment.unit
        routed_on = timezone.localdate(assignment.assigned_at)
        acceptance = (
            DeadlineRecord.objects.filter(
                petition=petition, kind=DeadlineKind.UNIT_ACCEPTANCE, organisation=unit, started_on=routed_on
            )
            .order_by("-pk")
            .values_list("due_on", flat=True)
            .first()
        )
        event = last_event(
            petition, EventKind.ASSIGNED if kind == AssignmentKind.ASSIGN else EventKind.FORWARDED
        )
        handling = _period(Step.HANDLING, unit)
        if assignment.report_required:
            report = gettext("须报送办结报告：请于{date}前将办理结果书面报送{office}。").format(
                date=day(assignment.report_due_on) or gettext("办结后"), office=petition.office.name
            )
        else:
            report = gettext("不须报送办结报告；办理结果直接书面答复信访人。")
        instructions = (event.comment if event is not None else "") or gettext(
            "请你单位依照《信访工作条例》第二十三条的规定，自收到之日起{period}内确认受理；不属于你单位"
            "职责范围的，在此期限内说明理由退回。受理后依法办理，并书面答复信访人。"
        ).format(period=_period(Step.OBJECTION, unit))
        clerk = assignment.assigned_by
        return {
            **petition_fields(petition),
            "routing_verb": str(AssignmentKind(kind).label),
            "routed_on": day(routed_on),
            "acceptance_due_on": day(acceptance),
            "handling_deadline": gettext("自受理之日起{period}内办结").format(period=handling)
            + (
                gettext("，限办日期{date}").format(date=day(assignment.report_due_on))
                if assignment.report_due_on
                else ""
            ),  # fmt: skip
            "report_requirement": report,
            "instructions": instructions,
            "clerk": (clerk.get_full_name() or clerk.username) if clerk is not None else "",
        }

    return build


def _slip_unit(kind: str) -> Any:
    def unit(petition: Petition) -> Organisation | None:
        assignment = last_assignment(petition, kind)
        return assignment.unit if assignment is not None else None

    return unit


# --- 延期告知书 -----------------------------------------------------------------------------------


def _approved_extension(petition: Petition) -> ExtensionRequest | None:
    return page_memo.remember(
        petition,
        "approved_extension",
        lambda: (
            ExtensionRequest.objects.filter(petition=petition, decision=ExtensionDecision.APPROVED)
            .select_related("organisation")
            .order_by("-decided_at", "-pk")
            .first()
        ),
    )


def _extension_body(petition: Petition) -> dict[str, Any]:
    request = _approved_extension(petition)
    if request is None:
        return petition_fields(petition)
    return {
        **petition_fields(petition),
        "reason": request.reason,
        "days": str(request.days),
        "old_due_on": day(request.old_due_on),
        "new_due_on": day(request.new_due_on),
        "approved_on": day(timezone.localdate(request.decided_at)) if request.decided_at else "",
    }


def _extension_issuer(petition: Petition) -> Organisation:
    request = _approved_extension(petition)
    return request.organisation if request is not None else handling_organisation(petition)


# --- 听证通知书 -----------------------------------------------------------------------------------


def _recheck(petition: Petition) -> Appeal | None:
    return (
        Appeal.objects.filter(petition=petition, kind=AppealKind.RECHECK)
        .select_related("body")
        .order_by("-received_on", "-pk")
        .first()
    )


def _contested_review(petition: Petition) -> Appeal | None:
    return (
        Appeal.objects.filter(petition=petition, kind=AppealKind.REVIEW, decided_on__isnull=False)
        .select_related("body")
        .order_by("-decided_on", "-pk")
        .first()
    )


def _hearing_available(petition: Petition) -> bool:
    if petition.status == Status.UNDER_RECHECK:
        return True
    if page_memo.active(petition):  # the petition page: the appeals its after-reply panel shows
        return any(appeal.hearings.all() for appeal in appeals_with_hearings(petition))
    return Hearing.objects.filter(appeal__petition=petition).exists()


def _hearing_issuer(petition: Petition) -> Organisation:
    appeal = _recheck(petition)
    return appeal.body if appeal is not None else petition.office


def _hearing_body(petition: Petition) -> dict[str, Any]:
    appeal = _recheck(petition)
    review = _contested_review(petition)
    hearing = appeal.hearings.order_by("-started_on").first() if appeal is not None else None
    return {
        **petition_fields(petition),
        "respondent": review.body.name if review is not None else "",
        "appeal_received_on": day(appeal.received_on) if appeal is not None else "",
        "matters": appeal.request if appeal is not None else "",
        "hearing_time": day(hearing.started_on) if hearing is not None else "",
        "place": "",
        "requirements": gettext(
            "请携带本通知和身份证件按时参加听证，可以委托代理人，可以提供相关证据材料。无正当理由不参加的，"
            "不影响听证的进行。听证所需时间不计入复核期限（《信访工作条例》第三十六条）。"
        ),
    }


# --- 督办函 ---------------------------------------------------------------------------------------


def _last_notice(petition: Petition) -> SupervisionNotice | None:
    if page_memo.active(petition):  # the petition page: the notices its supervision panel shows
        notices = page_notices(petition)  # newest first
        return notices[0] if notices else None
    return (
        SupervisionNotice.objects.filter(petition=petition)
        .select_related("office", "unit", "leader")
        .order_by("-issued_at", "-pk")
        .first()
    )


def _supervision_body(petition: Petition) -> dict[str, Any]:
    notice = _last_notice(petition)
    if notice is None:
        return petition_fields(petition)
    assignment = last_assignment(petition)
    overdue = petition.due_on is not None and petition.due_on < timezone.localdate()
    leader = notice.leader
    return {
        **petition_fields(petition),
        "notice_kind_label": str(NoticeKind(notice.kind).label),
        "routed_by": petition.office.name if assignment is not None else "",
        "routed_on": (
            gettext("于{date}").format(date=day(timezone.localdate(assignment.assigned_at)))
            if assignment is not None
            else ""
        ),  # fmt: skip
        "routing_verb": str(AssignmentKind(assignment.kind).label) if assignment is not None else "",
        "reasons": gettext("该事项已超过办理期限尚未办结") if overdue else "",
        "requirements": notice.requirements,
        "recommendation": "",
        "respond_by": day(notice.respond_by),
        "leader": (leader.get_full_name() or leader.username) if leader is not None else "",
    }


def _supervision_issuer(petition: Petition) -> Organisation:
    notice = _last_notice(petition)
    return notice.office if notice is not None else petition.office


def _supervision_unit(petition: Petition) -> Organisation | None:
    notice = _last_notice(petition)
    return notice.unit if notice is not None else None


# --- 终结告知书 -----------------------------------------------------------------------------------


def _conclusion_body(petition: Petition) -> dict[str, Any]:
    steps = []
    letter = petition.decision_letters.select_related("organisation").order_by("-issued_at").first()
    if letter is not None:
        steps.append(gettext("{unit}于{date}作出处理意见").format(
            unit=letter.organisation.name, date=day(timezone.localdate(letter.issued_at))))  # fmt: skip
    for appeal in petition.appeals.filter(decided_on__isnull=False).select_related("body").order_by("pk"):
        text = gettext("{body}于{date}作出{kind}意见")
        steps.append(text.format(body=appeal.body.name, date=day(appeal.decided_on),
                                 kind=AppealKind(appeal.kind).label))  # fmt: skip
    history = "，".join(steps) + "。" if steps else ""
    return {
        **petition_fields(petition),
        "history": history,
        "conclusion_label": str(Conclusion(petition.conclusion).label) if petition.conclusion else "",
        "concluded_on": day(petition.concluded_on),
    }


# --- 调解/和解协议书 ------------------------------------------------------------------------------


def _agreement_issuer(petition: Petition) -> Organisation:
    appeal = open_appeal(petition)
    return appeal.body if appeal is not None else handling_organisation(petition)


def _agreement_body(petition: Petition) -> dict[str, Any]:
    issuer = _agreement_issuer(petition)
    return {
        **petition_fields(petition),
        "form": "mediation",
        "parties": gettext("信访人{people}；{unit}").format(people=petitioners(petition), unit=issuer.name),
        "matter": petition.title,
        "terms": "",
        "performance": "",
    }


def _agreement_context(document: Document) -> dict[str, Any]:
    form = document.body.get("form", "mediation")
    return {
        "agreement_title": str(dict(AGREEMENT_FORMS).get(form, AGREEMENT_FORMS[0][1])),
        "agreement_way": gettext("主持调解") if form == "mediation" else gettext("见证，当事人自行和解"),
    }


def _issue_agreement(document: Document, user: Any) -> None:
    """Art. 33: issuing the signed agreement records it as a step of the procedure (timeline, audit)
    in the issuing transaction; the office concludes the matter once it is carried out."""
    body = document.body
    terms = body["terms"]
    if body.get("performance"):
        terms = gettext("{terms}（履行方式和期限：{performance}）").format(
            terms=terms.rstrip("。"), performance=body["performance"]
        )
    workflow_services.record_agreement(
        user=user, number=document.petition.number, parties=body["parties"], terms=terms
    )


def _has_event(kind: str) -> Any:
    def available(petition: Petition) -> bool:
        events = _page_events(petition)
        if events is not None:
            return any(e.kind == kind for e in events)
        return PetitionEvent.objects.filter(petition=petition, kind=kind).exists()

    return available


def _has_assignment(kind: str) -> Any:
    def available(petition: Petition) -> bool:
        if page_memo.active(petition):  # the petition page: every kind's slip from one query
            kinds = page_memo.remember(
                petition,
                "assignment_kinds",
                lambda: set(Assignment.objects.filter(petition=petition).values_list("kind", flat=True)),
            )
            return kind in kinds
        return Assignment.objects.filter(petition=petition, kind=kind).exists()

    return available


SLIP_FIELDS = (BodyField("instructions", _("办理意见")),)


def _slip_kind(code: str, letter: str, assignment_kind: str) -> Kind:
    """转送单 and 交办单: the office's slip to the unit of the routing of that kind."""
    return Kind(
        code=code, prefix_letter=letter, addressee=Addressee.UNIT, fields=SLIP_FIELDS,
        build=_slip_body(assignment_kind), available=_has_assignment(assignment_kind),
        issuer=lambda petition: petition.office, addressee_unit=_slip_unit(assignment_kind),
    )  # fmt: skip


register(
    Kind(
        code=DocumentKind.RECEIPT,
        prefix_letter="登",
        addressee=Addressee.PETITIONER,
        fields=(BodyField("note", _("其他告知事项"), required=False),),
        build=_receipt_body,
        available=lambda petition: True,  # every registered petition; reprinted on request
        issuer=lambda petition: petition.office,
        context=_receipt_context,
    ),
    Kind(
        code=DocumentKind.ACCEPTANCE,
        prefix_letter="受",
        addressee=Addressee.PETITIONER,
        fields=(BodyField("handling", _("办理程序和期限")),),
        build=_acceptance_body,
        available=_has_event(EventKind.ACCEPTED),
        issuer=_acceptance_issuer,
    ),
    Kind(
        code=DocumentKind.NON_ACCEPTANCE,
        prefix_letter="不受",
        addressee=Addressee.PETITIONER,
        fields=(
            BodyField("reasons", _("不予受理的理由")),
            BodyField("basis", _("依据")),
            BodyField("channel", _("应当通过的途径或者有权处理的机关")),
        ),
        build=_decline_body,
        available=_has_event(EventKind.DECLINED),
        issuer=lambda petition: _event_organisation(petition, EventKind.DECLINED),
    ),
    Kind(
        code=DocumentKind.REDIRECT,
        prefix_letter="告",
        addressee=Addressee.PETITIONER,
        fields=(
            BodyField("channel", _("应当通过的法定途径")),
            BodyField("basis", _("依据")),
            BodyField("explanation", _("说明"), required=False),
        ),
        build=_redirect_body,
        available=_has_event(EventKind.REDIRECTED),
        issuer=lambda petition: _event_organisation(petition, EventKind.REDIRECTED),
    ),
    _slip_kind(DocumentKind.FORWARDING, "转", AssignmentKind.FORWARD),
    _slip_kind(DocumentKind.ASSIGNMENT, "交", AssignmentKind.ASSIGN),
    Kind(
        code=DocumentKind.EXTENSION,
        prefix_letter="延",
        addressee=Addressee.PETITIONER,
        fields=(BodyField("reason", _("延期理由")),),
        build=_extension_body,
        available=lambda petition: _approved_extension(petition) is not None,
        issuer=_extension_issuer,
    ),
    Kind(
        code=DocumentKind.HEARING,
        prefix_letter="听",
        addressee=Addressee.PETITIONER,
        fields=(
            BodyField("matters", _("听证事项")),
            BodyField("hearing_time", _("听证时间"), multiline=False),
            BodyField("place", _("听证地点"), multiline=False),
            BodyField("requirements", _("注意事项"), required=False),
        ),
        build=_hearing_body,
        available=_hearing_available,
        issuer=_hearing_issuer,
    ),
    Kind(
        code=DocumentKind.SUPERVISION,
        prefix_letter="督",
        addressee=Addressee.UNIT,
        fields=(
            BodyField("reasons", _("督办事由")),
            BodyField("requirements", _("督办要求")),
            BodyField("recommendation", _("改进建议"), required=False),
        ),
        build=_supervision_body,
        available=lambda petition: _last_notice(petition) is not None,
        issuer=_supervision_issuer,
        addressee_unit=_supervision_unit,
    ),
    Kind(
        code=DocumentKind.CONCLUSION,
        prefix_letter="终",
        addressee=Addressee.PETITIONER,
        fields=(BodyField("history", _("办理经过"), required=False),),
        build=_conclusion_body,
        available=lambda petition: petition.status == Status.CONCLUDED,
        issuer=lambda petition: petition.office,
    ),
    Kind(
        code=DocumentKind.AGREEMENT,
        prefix_letter="协",
        addressee=Addressee.PETITIONER,
        fields=(
            BodyField("form", _("协议种类"), multiline=False, choices=AGREEMENT_FORMS),
            BodyField("parties", _("当事人")),
            BodyField("matter", _("争议事项")),
            BodyField("terms", _("协议内容")),
            BodyField("performance", _("履行方式和期限"), required=False),
        ),
        build=_agreement_body,
        available=lambda petition: petition.status in AGREEMENT_STATES,
        issuer=_agreement_issuer,
        context=_agreement_context,
        on_issue=_issue_agreement,
        requires_approval=True,
    ),
)
