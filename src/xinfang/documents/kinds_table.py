"""The kinds whose issue *is* a procedure step: the decision letter (the reply, Art. 32) and the
review and recheck opinions (Arts. 35-36).  Issuing one performs the workflow transition in the same
transaction; serving it starts the petitioner's next window (``workflow.appeals.serve_*``).

The notices that record a step already taken (receipt, acceptance, forwarding, extension …) are in
``kinds_notices``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xinfang.petitions.choices import Status
from xinfang.petitions.models import Petition
from xinfang.workflow import appeals
from xinfang.workflow import services as workflow_services
from xinfang.workflow.deadlines import rule_for
from xinfang.workflow.engine import handling_organisation, open_appeal
from xinfang.workflow.models import AppealKind, AppealOutcome, ReplyOutcome, Step

from . import kinds_notices  # noqa: F401 — registers the notice kinds
from .choices import Addressee, DocumentKind
from .kinds import BodyField, Kind, register
from .kinds_notices import day, petition_fields, routing_note
from .models import Document

REPLY_OUTCOMES = tuple((c.value, c.label) for c in ReplyOutcome)
OPINION_OUTCOMES = tuple((c.value, c.label) for c in AppealOutcome)
RECHECK_OUTCOMES = tuple((c.value, c.label) for c in AppealOutcome if c != AppealOutcome.REHANDLE)


def _letter_body(petition: Petition) -> dict[str, Any]:
    organisation = handling_organisation(petition)
    return {
        **petition_fields(petition), "routing_note": routing_note(petition, organisation),
        "outcome": "", "request_summary": petition.content, "facts": "", "basis": "", "opinion": "",
        "review_notice": workflow_services.review_notice(organisation, petition),
    }  # fmt: skip


def _issue_letter(document: Document, user: Any) -> None:
    body = document.body
    workflow_services.reply(
        user=user, number=document.petition.number, outcome=body["outcome"], facts=body["facts"],
        basis=body["basis"], opinion=body["opinion"], request_summary=body.get("request_summary", ""),
    )  # fmt: skip
    letter = appeals.last_letter(document.petition)
    document.letter = letter
    document.body = {**body, "review_notice": letter.review_notice}


def _serve_letter(document: Document) -> None:
    if document.letter_id is not None:
        appeals.serve_letter(document.letter, document.served_on)


def _contested(petition: Petition, appeal: Any) -> tuple[str, str]:
    """Whose opinion the appeal contests (被申请人) and what it was: the last reply for a review,
    the review opinion for a recheck."""
    if appeal is not None and appeal.kind == AppealKind.RECHECK:
        review = appeals.last_appeal(petition, AppealKind.REVIEW)
        if review is not None:
            return review.body.name, gettext("复查意见（{date}）").format(date=day(review.decided_on))
    letter = appeals.last_letter(petition)
    if letter is None:
        return "", ""
    return letter.organisation.name, gettext("处理意见（{date}）").format(
        date=day(timezone.localdate(letter.issued_at))
    )


def _opinion_body(petition: Petition) -> dict[str, Any]:
    appeal = open_appeal(petition)
    respondent, contested = _contested(petition, appeal)
    body = {
        **petition_fields(petition),
        "outcome": "",
        "request": appeal.request if appeal else "",
        "facts": "",
        "basis": "",
        "opinion": "",
        "respondent": respondent,
        "contested": contested,
        "appeal_received_on": day(appeal.received_on) if appeal else "",
        "final_notice": gettext(
            "本复核意见为最终意见。信访人对复核意见不服，仍以同一事实和理由提出投诉请求的，各级信访工作机构"
            "和其他机关、单位不再受理（《信访工作条例》第三十六条）。"
        ),
    }
    if appeal is not None and appeal.kind == AppealKind.REVIEW:
        rule = rule_for(Step.RECHECK_REQUEST, appeal.body)
        above = appeals.reviewing_body(appeal.body, petition)
        body["recheck_notice"] = gettext(
            "申请人对本复查意见不服的，可以自收到本复查意见书之日起{days}{unit}内，向{body}请求复核"
            "（《信访工作条例》第三十五条）。"
        ).format(days=rule.length, unit=rule.get_unit_display(), body=above.name if above else
                 gettext("复查机关的上一级机关"))  # fmt: skip
    return body


def _issue_opinion(step: str) -> Any:
    def issue(document: Document, user: Any) -> None:
        body = document.body
        appeal = open_appeal(document.petition)
        getattr(appeals, step)(
            user=user, number=document.petition.number, outcome=body["outcome"], facts=body["facts"],
            basis=body["basis"], opinion=body["opinion"],
        )  # fmt: skip
        document.appeal = appeal

    return issue


def _serve_opinion(document: Document) -> None:
    if document.appeal_id is not None:
        appeals.serve_opinion(document.appeal, document.served_on)


def _appeal_body_of(petition: Petition) -> Any:
    appeal = open_appeal(petition)
    return appeal.body if appeal is not None else petition.office


def _outcome_label(choices: tuple[tuple[str, Any], ...]) -> Any:
    return lambda document: {"outcome_label": dict(choices).get(document.body.get("outcome"), "")}


def _review_context(document: Document) -> dict[str, Any]:
    """A review that orders re-handling sends the matter back: the petitioner is told a new reply
    follows (with its own review right), not the recheck right."""
    context = _outcome_label(OPINION_OUTCOMES)(document)
    if document.body.get("outcome") == AppealOutcome.REHANDLE:
        context["recheck_notice"] = gettext(
            "原处理意见已撤销，原办理机关、单位将重新办理，并另行出具处理意见书；你（你们）对新的处理意见"
            "不服的，可以依法请求复查。"
        )
    return context


OPINION_FIELDS = (
    BodyField("request", _("请求及理由")),
    BodyField("facts", _("查明的事实")),
    BodyField("basis", _("法律政策依据")),
    BodyField("opinion", _("意见")),
)

register(
    Kind(
        code=DocumentKind.DECISION_LETTER,
        prefix_letter="处",
        addressee=Addressee.PETITIONER,
        fields=(
            BodyField("outcome", _("处理结果"), multiline=False, choices=REPLY_OUTCOMES),
            BodyField("request_summary", _("信访请求")),
            BodyField("facts", _("查明的事实")),
            BodyField("basis", _("法律政策依据")),
            BodyField("opinion", _("处理意见")),
        ),
        build=_letter_body,
        available=lambda p: p.status == Status.ACCEPTED,
        issuer=handling_organisation,
        context=_outcome_label(REPLY_OUTCOMES),
        on_issue=_issue_letter,
        on_service=_serve_letter,
        requires_approval=True,
        completes_step="reply",
    ),
    Kind(
        code=DocumentKind.REVIEW_OPINION,
        prefix_letter="复查",
        addressee=Addressee.PETITIONER,
        fields=(BodyField("outcome", _("结论"), multiline=False, choices=OPINION_OUTCOMES), *OPINION_FIELDS),
        build=_opinion_body,
        available=lambda p: p.status == Status.UNDER_REVIEW,
        issuer=_appeal_body_of,
        context=_review_context,
        on_issue=_issue_opinion("review"),
        on_service=_serve_opinion,
        requires_approval=True,
        completes_step="review",
    ),
    Kind(
        code=DocumentKind.RECHECK_OPINION,
        prefix_letter="复核",
        addressee=Addressee.PETITIONER,
        fields=(BodyField("outcome", _("结论"), multiline=False, choices=RECHECK_OUTCOMES), *OPINION_FIELDS),
        build=_opinion_body,
        available=lambda p: p.status == Status.UNDER_RECHECK,
        issuer=_appeal_body_of,
        context=_outcome_label(RECHECK_OUTCOMES),
        on_issue=_issue_opinion("recheck"),
        on_service=_serve_opinion,
        requires_approval=True,
        completes_step="recheck",
    ),
)
