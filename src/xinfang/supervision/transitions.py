"""The supervision actions as transitions of the engine (registered in ``SupervisionConfig.ready``).

None changes the petition's state (``target=None``): a notice runs beside the procedure.  Going
through ``engine.perform`` still gives each action the row lock, the side and role check, the
version check, the timeline event (internal: no public note), the audit event and the
``transition_performed`` signal the notifications listen to.

Who may act is decided in two steps.  The side (SUPERVISING: a petition office whose scope holds
the petition and that does not handle it; UNIT/HANDLING: the body handling it) comes from the
engine.  Which *notice* a person may act on is the guards' business here: only the office that
issued a notice decides on its answer or lifts it, only the body it is addressed to answers it.
Every refusal says why, in Chinese, with a stable code for the API.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xinfang.core import page_memo
from xinfang.petitions.choices import EventKind
from xinfang.workflow.engine import TransitionRefused
from xinfang.workflow.transitions import HANDLING, OPEN_STATUSES, SUPERVISING, SYSTEM, UNIT, transition

from .models import LIVE_NOTICE_STATUSES, NoticeKind, NoticeStatus, SupervisionNotice

ARTICLE = "第三十九条、第四十条"


def _org_pk(user: Any) -> int | None:
    org = getattr(user, "organisation", None)
    return getattr(org, "pk", None)


def answerable(petition: Any, user: Any) -> Any:
    """Open notices on ``petition`` addressed to the user's body (or a body above the user's)."""
    org = getattr(user, "organisation", None)
    if org is None:
        return SupervisionNotice.objects.none()
    own_line = [int(p) for p in org.path.strip("/").split("/") if p]  # the user's body and above
    return SupervisionNotice.objects.filter(petition=petition, status=NoticeStatus.OPEN, unit_id__in=own_line)


def reviewable(petition: Any, user: Any) -> Any:
    """Answered notices on ``petition`` issued by the user's own office."""
    return SupervisionNotice.objects.filter(
        petition=petition, status=NoticeStatus.ANSWERED, office_id=_org_pk(user)
    )


def liftable(petition: Any, user: Any) -> Any:
    """Notices the user's office issued and may lift: any still live, and listed supervision (挂牌)
    after its answer was accepted — a listed notice stays on the list until it is lifted (摘牌)."""
    from django.db.models import Q

    return SupervisionNotice.objects.filter(petition=petition, office_id=_org_pk(user)).filter(
        Q(status__in=LIVE_NOTICE_STATUSES) | Q(status=NoticeStatus.ACCEPTED, kind=NoticeKind.LISTED)
    )


# --- guards ---------------------------------------------------------------------------------------


def _has_open_notice(petition: Any) -> None:
    states = _notice_states(petition)
    if states is not None:
        has_open = any(status == NoticeStatus.OPEN for status, _kind in states)
    else:
        has_open = SupervisionNotice.objects.filter(petition=petition, status=NoticeStatus.OPEN).exists()
    if not has_open:
        raise TransitionRefused(gettext("该信访事项没有待反馈的督办通知。"), code="no_open_notice")


def _addressed_to_me(petition: Any, user: Any) -> None:
    if not answerable(petition, user).exists():
        raise TransitionRefused(
            gettext("该信访事项的督办通知不是发给本单位的，应由被督办单位反馈。"), code="not_addressed"
        )


def _notice_states(petition: Any) -> set[tuple[str, str]] | None:
    """(status, kind) of the petition's notices on the petition page, from the notices its
    supervision panel shows; None elsewhere (each check asks the database)."""
    if not page_memo.active(petition):
        return None
    from .selectors import page_notices

    return {(n.status, n.kind) for n in page_notices(petition)}


def _has_answer(petition: Any) -> None:
    states = _notice_states(petition)
    if states is not None:
        answered = any(status == NoticeStatus.ANSWERED for status, _kind in states)
    else:
        answered = SupervisionNotice.objects.filter(petition=petition, status=NoticeStatus.ANSWERED).exists()
    if not answered:
        raise TransitionRefused(gettext("该信访事项没有待审核的督办反馈。"), code="no_answer")


def _issued_by_me_answered(petition: Any, user: Any) -> None:
    if not reviewable(petition, user).exists():
        raise TransitionRefused(
            gettext("待审核的督办反馈不是本机关督办的，只有发出督办通知的机关可以审核。"),
            code="not_issuer",
        )


def _has_liftable(petition: Any) -> None:
    states = _notice_states(petition)
    if states is not None:
        liftable_ = any(
            status in LIVE_NOTICE_STATUSES or (status == NoticeStatus.ACCEPTED and kind == NoticeKind.LISTED)
            for status, kind in states
        )
    else:
        live = SupervisionNotice.objects.filter(petition=petition, status__in=LIVE_NOTICE_STATUSES)
        listed = SupervisionNotice.objects.filter(
            petition=petition, status=NoticeStatus.ACCEPTED, kind=NoticeKind.LISTED
        )
        liftable_ = live.exists() or listed.exists()
    if not liftable_:
        raise TransitionRefused(gettext("该信访事项没有可以解除的督办。"), code="no_live_notice")


def _issued_by_me_liftable(petition: Any, user: Any) -> None:
    if page_memo.active(petition):  # the petition page: the notices its supervision panel shows
        from .selectors import page_notices

        office = _org_pk(user)
        mine = any(
            n.office_id == office
            and (
                n.status in LIVE_NOTICE_STATUSES
                or (n.status == NoticeStatus.ACCEPTED and n.kind == NoticeKind.LISTED)
            )
            for n in page_notices(petition)
        )
    else:
        mine = liftable(petition, user).exists()
    if not mine:
        raise TransitionRefused(
            gettext("该督办不是本机关发出的，只有发出督办通知的机关可以解除。"), code="not_issuer"
        )


TRANSITIONS = (
    # Art. 39-40: a petition office supervises the handling of petitions in its scope — 催办,
    # 督办, 挂牌督办 (with a named leader, Art. 39 ¶3) or 现场督办 — with requirements and a date
    # by which the unit reports back.
    transition("supervise", _("督办"), OPEN_STATUSES, None, SUPERVISING, EventKind.SUPERVISED, ARTICLE),
    # The unit reports its progress (督办反馈).
    transition("answer_supervision", _("督办反馈"), OPEN_STATUSES, None, (UNIT, HANDLING),
               EventKind.SUPERVISION_ANSWERED, ARTICLE, _has_open_notice, _addressed_to_me),
    # The issuing office accepts the report (the notice is closed) or sends it back with a new date.
    transition("accept_supervision_answer", _("认可督办反馈"), OPEN_STATUSES, None, SUPERVISING,
               EventKind.SUPERVISION_ACCEPTED, ARTICLE, _has_answer, _issued_by_me_answered),
    transition("return_supervision_answer", _("退回督办反馈"), OPEN_STATUSES, None, SUPERVISING,
               EventKind.SUPERVISION_RETURNED, ARTICLE, _has_answer, _issued_by_me_answered),
    # The issuing office lifts its notice (摘牌 for listed supervision), with a reason.
    transition("lift_supervision", _("解除督办"), OPEN_STATUSES, None, SUPERVISING,
               EventKind.SUPERVISION_LIFTED, ARTICLE, _has_liftable, _issued_by_me_liftable),
    # The daily job: an unanswered notice past its date is reported to the unit's leaders, then to
    # the petition office of the level above (tasks.escalate_unanswered).
    transition("escalate_supervision", _("督办逾期升级"), OPEN_STATUSES, None, SYSTEM,
               EventKind.SUPERVISION_ESCALATED, ARTICLE, _has_open_notice),
)  # fmt: skip

ACTIONS = tuple(t.action for t in TRANSITIONS)
