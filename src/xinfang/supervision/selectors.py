"""Read-only queries on supervision notices for pages of higher floors (workbench, queue, exports).

Every function narrows through ``Petition.objects.restrict(user)``: a notice is never shown to
someone who may not see its petition (e.g. the accused body of a confidential report).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from xinfang.core import page_memo
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.petitions.choices import FINAL_STATUSES
from xinfang.petitions.models import Petition

from .models import LIVE_NOTICE_STATUSES, NoticeKind, NoticeStatus, SupervisionFeedback, SupervisionNotice


def _visible(user: Any, scoped: bool = True) -> QuerySet[SupervisionNotice]:
    """Notices on petitions the user may see, with what every list shows, in one query.

    ``scoped=False`` leaves the scope out, for a caller that narrows an already restricted petition
    queryset with ``pk__in=<these notices>.values("petition_id")`` (the workbench sections):
    restricting twice in one statement made PostgreSQL misjudge the join and walk the whole
    petition table (2–3 s instead of 15 ms for a city office at a million petitions,
    docs/performance.md)."""
    if not getattr(user, "is_authenticated", False) or user.organisation is None:
        return SupervisionNotice.objects.none()
    if not user.role_codes & CASEWORK_ROLES:
        return SupervisionNotice.objects.none()
    # A petition that reached a final state takes no supervision action any more (the transitions'
    # sources are the open states), so its notices leave every list.
    if not scoped:
        return SupervisionNotice.objects.exclude(petition__status__in=FINAL_STATUSES)
    in_scope = Petition.objects.restrict(user).exclude(status__in=FINAL_STATUSES).values("pk")
    return SupervisionNotice.objects.filter(petition__in=in_scope).select_related(
        "petition", "office", "unit", "issued_by", "leader"
    )


def notices_to_answer(user: Any, *, scoped: bool = True) -> QuerySet[SupervisionNotice]:
    """Open notices addressed to the user's body — the user's organisation or a body it is part of
    (a notice to a county government reaches its staff too) — soonest deadline first: what the
    user's unit must report on (its workbench section).  The same rule as the answer action's
    guard (``transitions.answerable``), so whatever is listed here the user's unit can answer; a
    leader above the unit hears of an unanswered notice through the escalation instead.
    ``scoped``: see ``_visible``."""
    qs = _visible(user, scoped)
    if not qs.query.is_empty():
        own_line = [int(p) for p in user.organisation.path.strip("/").split("/") if p]
        qs = qs.filter(status=NoticeStatus.OPEN, unit_id__in=own_line)
    return qs.order_by("respond_by", "id")


def answers_to_review(user: Any, *, scoped: bool = True) -> QuerySet[SupervisionNotice]:
    """Answered notices issued by the user's own office: the feedback waits for its decision.
    ``scoped``: see ``_visible``."""
    qs = _visible(user, scoped)
    if not qs.query.is_empty():
        qs = qs.filter(status=NoticeStatus.ANSWERED, office_id=user.organisation_id)
    return qs.order_by("respond_by", "id")


def awaiting_answer(user: Any) -> QuerySet[SupervisionNotice]:
    """Open notices issued by the user's own office: the units have not answered yet."""
    qs = _visible(user)
    if not qs.query.is_empty():
        qs = qs.filter(status=NoticeStatus.OPEN, office_id=user.organisation_id)
    return qs.order_by("respond_by", "id")


def listed_notices(user: Any, *, scoped: bool = True) -> QuerySet[SupervisionNotice]:
    """Listed supervision (挂牌督办) on petitions in the user's scope, not lifted.  ``scoped``: see
    ``_visible`` (unscoped: every listed notice, for a caller that restricts the petitions)."""
    qs = _visible(user, scoped).filter(kind=NoticeKind.LISTED).exclude(status=NoticeStatus.LIFTED)
    return qs.order_by("status", "respond_by", "id")


def petition_ids_with_open_notices(user: Any) -> QuerySet:
    """Ids of petitions in scope with a live notice (open or answered), for a queue filter:
    ``Petition.objects.filter(pk__in=petition_ids_with_open_notices(user))``."""
    return _visible(user).filter(status__in=LIVE_NOTICE_STATUSES).order_by().values("petition_id").distinct()


def notices_for_petition(petition: Petition) -> QuerySet[SupervisionNotice]:
    """All notices of one petition (the caller already authorised the petition), with feedback."""
    return (
        SupervisionNotice.objects.filter(petition=petition)
        .select_related("office", "unit", "issued_by", "leader", "lifted_by")
        .prefetch_related(
            # one query for the feedback and its people, not one per relation
            Prefetch(
                "feedback", queryset=SupervisionFeedback.objects.select_related("submitted_by", "decided_by")
            )
        )
        .order_by("-issued_at", "-id")
    )


def page_notices(petition: Petition) -> list[SupervisionNotice]:
    """``notices_for_petition`` as a list, loaded once for the petition page, whose supervision
    panel, action rules and 督办函 all read it (``core.page_memo``)."""
    return page_memo.remember(petition, "supervision_notices", lambda: list(notices_for_petition(petition)))


def is_publicly_supervised(petition: Petition) -> bool:
    """Whether the portal shows "上级机关已督办": an office published a notice it has not lifted
    (a lifted notice may have been issued in error, so it stops showing)."""
    return (
        SupervisionNotice.objects.filter(petition=petition, published=True)
        .exclude(status=NoticeStatus.LIFTED)
        .exists()
    )


def notice_of_event(event: Any) -> SupervisionNotice | None:
    """The notice a supervision timeline event is about (its ``data["notice"]``), or None — for a
    receiver of ``transition_performed`` that must tell the right office when a petition has
    several notices (the latest notice is not always the one acted on)."""
    pk = (getattr(event, "data", None) or {}).get("notice")
    if pk is None:
        return None
    return SupervisionNotice.objects.select_related("office", "unit").filter(pk=pk).first()
