"""The sections of the workbench (工作台): what needs this person or their organisation now.

Each section is defined **once** here, as a narrowing of the restricted petition queryset, and
the same definition feeds the counts at the top of the workbench, the queue behind each count
(``?section=<key>``, through ``apply_section``), the XLSX export and the API's worklist — so a
figure and the list behind it cannot disagree.

Every narrowing is set-based SQL: filters on the petition row and ``pk IN (subquery)`` over the
tables that say why a petition waits (the open assignment, a pending extension request, an open
appeal, a supervision notice, a decision letter without evaluation).  No section loops over
petitions in Python and none costs a query per row.

"My organisation" means the body the user belongs to, exactly: an assignment to a county's
environment bureau shows on that bureau's workbench, not on every department of the county
(the scope, ``access.py``, is wider — it lets an office oversee its subtree — but the workbench
lists only what the user's own body must act on; oversight goes through supervision).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import CharField, Exists, F, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.core.pagination import capped_count
from xinfang.organisations.choices import OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES, Status
from xinfang.petitions.models import Petition
from xinfang.workflow.transitions import OPEN_STATUSES

if TYPE_CHECKING:
    from xinfang.petitions.models import PetitionQuerySet

# Counts at the top stop here: "100+" tells a person as much as an exact figure for a morning's
# work, and counting further visits that many scattered petitions on every first paint (at a
# million petitions a count to 1,000 cost 20–60 ms per section on an idle machine, to 100 about
# half; docs/performance.md).  The list behind the count, the queue, counts on to its own cap.
SECTION_COUNT_CAP = 100
# 即将到期: a staff deadline within this many working days (issue #8 §2).
DUE_SOON_WORKING_DAYS = 3

OFFICE_ROLES = frozenset({RoleCode.INTAKE, RoleCode.SUPERVISOR, RoleCode.LEADER})
UNIT_ROLES = frozenset({RoleCode.HANDLER, RoleCode.LEADER})
HANDLING_ROLES = frozenset({RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER})
CASEWORK = frozenset({RoleCode.INTAKE, RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER})
OVERSIGHT_ROLES = frozenset({RoleCode.SUPERVISOR, RoleCode.LEADER})

# Which date a section's rows are due by: the petition's own deadline (``due_on``), or the
# response date of the supervision notice (annotated as ``section_due_on``).
DUE_PETITION = "petition"
DUE_NOTICE = "notice"
DUE_WINDOW = "window"  # the petitioner's evaluation window: a plain date, never "overdue"


# Soonest due first, undated last, ties by id.  An expression, not the bare column, on purpose:
# ``ORDER BY due_on LIMIT 5`` lets PostgreSQL walk the whole due_on index hoping to meet five rows
# of a small section early (2.4 s for a leader's 239 extension requests at a million petitions);
# sorting the section's own rows is a few milliseconds.
UNDATED = dt.date(9999, 12, 31)  # where an undated petition sorts (last); also used in Python
SECTION_ORDER = (Coalesce("due_on", Value(UNDATED)).asc(), "pk")
# The queue narrowed to a section (``?section=``) sorts a section up to this size by
# ``SECTION_ORDER`` rather than walking the due_on index (petitions.views._section_page).
SORTED_SECTION_LIMIT = 1000
# The same order as the bare column, for a section known to be large (its count reached the cap):
# there the due_on index meets the first rows at once, and sorting the whole section would not.
DENSE_SECTION_ORDER = (F("due_on").asc(nulls_last=True), "pk")


@dataclass(frozen=True)
class Section:
    """One section of the workbench: ``narrow(qs, user, today)`` keeps the petitions of ``qs``
    that belong to the section for ``user`` (``qs`` is already restricted to the user's scope)."""

    key: str
    label: Any
    reason: Any
    roles: frozenset[str]
    narrow: Callable[[Any, Any, dt.date], Any]
    due: str = DUE_PETITION
    # An optional further check on the user (e.g. only staff of a petition office).
    applies: Callable[[Any], bool] | None = None
    # What the rows show beyond the petition (the notice's response date, the reply's date), as
    # annotations added only for the rows listed — never to the counts, which need no more than
    # the filter (a correlated subquery per counted row would be wasted work).
    annotate: Callable[[Any, Any], Any] | None = None
    # A row's own reason when the section gathers different kinds of work (待审批: an extension
    # request or a completion report), read from the loaded row; else the section's ``reason``.
    row_reason: Callable[[Any], Any] | None = None
    # Whether, for this user, the database builds the whole section before it can return its
    # first rows in order (EXPLAIN: a body's open assignments or an office's own matters hashed,
    # an office's replies within the evaluation window each probed): then the count and the
    # first rows are one sorted statement (workbench.selectors._first_ids), where counting and
    # then asking for the first rows builds the same set twice (27 + 36 ms for a county unit's
    # 办理中 at a million petitions).  Not for a section the due_on index serves (即将到期,
    # 已超期, 待处置 of a big office): sorting all of it would cost more than the walk.
    built_whole: Callable[[Any], bool] | None = None
    # The section as disjoint parts whose union is ``narrow``, each a queryset already in the
    # section's order and shaped so the database can stop after the first rows (an index walk in
    # due_on order with a probe per row) — for the workbench's count and first ids only
    # (``workbench.selectors._first_ids`` takes the first cap + 1 of each and merges them).  A
    # petition office's 办理中 is its open assignments (built whole) plus its own matters (the
    # ``(office, status, due_on)`` index walked, NOT EXISTS an open assignment per row): 28 ms,
    # the office's 2,928 own matters hashed against all 55,000 open assignments, → 1–2 ms.
    ordered_parts: Callable[[Any, Any, dt.date], list[Any]] | None = None

    def parts(self, user: Any, today: dt.date | None = None, *, restricted: Any = None) -> list[Any]:
        """``ordered_parts`` over the user's restricted petitions (``[queryset(user)]`` when the
        section has none): disjoint, each in the section's order, together the section."""
        if self.ordered_parts is None or not self.visible_to(user):
            return [self.queryset(user, today, restricted=restricted)]
        base = Petition.objects.restrict(user) if restricted is None else restricted
        return self.ordered_parts(base, user, today or timezone.localdate())

    def reason_for(self, petition: Any) -> str:
        return str(self.row_reason(petition) if self.row_reason is not None else self.reason)

    def visible_to(self, user: Any) -> bool:
        """Whether the section concerns ``user`` at all (shown on their workbench)."""
        org = getattr(user, "organisation", None)
        if org is None or not (getattr(user, "role_codes", frozenset()) & self.roles):
            return False
        return self.applies is None or self.applies(user)

    def queryset(
        self, user: Any, today: dt.date | None = None, *, restricted: Any = None
    ) -> PetitionQuerySet:
        """The section's petitions for ``user``: restricted, narrowed, soonest deadline first.
        ``restricted``: ``Petition.objects.restrict(user)`` built once by a caller that reads
        many sections (the workbench page: building the scope's subqueries cost ~0.7 ms a
        section); querysets are cloned by every filter, so sharing it is safe."""
        qs = Petition.objects.restrict(user) if restricted is None else restricted
        if not self.visible_to(user):
            return qs.none()
        narrowed = self.narrow(qs, user, today or timezone.localdate())
        return narrowed.order_by(*SECTION_ORDER)

    def with_row_data(self, qs: Any, user: Any) -> Any:
        """``qs`` (this section's petitions) with the annotations its rows show."""
        return self.annotate(qs, user) if self.annotate is not None and not qs.query.is_empty() else qs


@dataclass(frozen=True)
class Windowed:
    """A part of ``Section.ordered_parts`` read through a window: ``fast`` is ``full`` limited to
    a prefix (in the section's order) of a superset of it.  When ``fast`` yields as many rows as
    asked, they are ``full``'s first rows — the rows of ``full`` outside the window all sort after
    them; when it yields fewer, the caller reads ``full``."""

    fast: Any
    full: Any


# --- the building blocks (subqueries) -----------------------------------------------------------


def _assigned_to(org: Organisation, statuses: list[str], **petition: Any) -> Any:
    """Ids of petitions in ``statuses`` whose open assignment names ``org``.  The status (and any
    further ``petition`` filter, e.g. a due-date range) is read inside the subquery through the
    petition's key, so the set is small and index-driven: the unit's open assignments
    (``assignment_unit_idx``), never every petition in a status."""
    from xinfang.workflow.models import Assignment

    further = {f"petition__{k}": v for k, v in petition.items()}
    return (
        Assignment.objects.filter(
            ended_at__isnull=True, unit_id=org.pk, petition__status__in=statuses, **further
        )
        .order_by()
        .values("petition_id")
    )


def _own_matters(org: Organisation, statuses: list[str], **petition: Any) -> Any:
    """Ids of petitions in ``statuses`` that ``org`` registered and handles itself (no open
    assignment): by the ``(office, status, due_on)`` index and the one-open-assignment index."""
    from xinfang.workflow.models import Assignment

    open_assignment = Assignment.objects.filter(petition_id=OuterRef("pk"), ended_at__isnull=True)
    return (
        Petition.objects.filter(office_id=org.pk, status__in=statuses, **petition)
        .exclude(Exists(open_assignment))
        .order_by()
        .values("pk")
    )


def _union(*parts: Any) -> Any:
    """One ``IN (… UNION ALL …)`` subquery: each part is driven by its own index, where an OR of
    ``IN`` conditions would make the database scan every petition of a status."""
    first, *rest = parts
    return first.union(*rest, all=True) if rest else first


def _handled_ids(org: Organisation, statuses: list[str]) -> Any:
    """Ids of petitions in ``statuses`` whose handling body is ``org`` (engine.handling_organisation
    as a set): its open assignment names ``org``, or it has none and ``org`` registered it.  Only
    a petition office registers petitions, so for any other body the second part is left out."""
    if org.kind == OrganisationKind.PETITION_OFFICE:
        return _union(_assigned_to(org, statuses), _own_matters(org, statuses))
    return _assigned_to(org, statuses)


def approval_bodies(org: Organisation) -> Any:
    """The organisations whose leader line (``engine.leader_line``) includes ``org``: ``org``
    itself, and every body below it reached without crossing a level of government (a
    department's sub-offices; a government's departments, not the governments below it).  One
    subquery: the subtree, minus what lies under an area strictly below ``org``."""
    areas = (OrganisationKind.GOVERNMENT, OrganisationKind.PARTY)
    area_between = (
        Organisation.objects.filter(kind__in=areas, path__startswith=org.path)
        .exclude(pk=org.pk)
        .annotate(below=Cast(OuterRef("path"), CharField()))
        .filter(below__startswith=F("path"))
    )
    # An area below ``org`` is excluded too: it is its own "area between" (its line stops at itself).
    return Organisation.objects.filter(path__startswith=org.path).exclude(Exists(area_between)).values("pk")


def _acts_for_bodies(org: Organisation) -> list[int]:
    """The bodies ``org`` acts for in review and recheck work (``engine.acts_for``): itself, and
    for a petition office the government it belongs to."""
    ids = [org.pk]
    if org.kind == OrganisationKind.PETITION_OFFICE and org.parent_id is not None:
        ids.append(org.parent_id)
    return ids


def evaluation_cutoff(org: Organisation, today: dt.date) -> dt.date:
    """The earliest reply date whose evaluation window (Step.EVALUATION under ``org``'s rule
    profile) still includes ``today``: replies issued before it can no longer be evaluated, so
    there is nothing left to follow up by phone.  The window is monotone in its start, so step back
    from today until it closes (a few calendar look-ups, all cached)."""
    from xinfang.workflow.deadlines import due_date
    from xinfang.workflow.models import Step

    start = today
    for _i in range(400):
        previous = start - dt.timedelta(days=1)
        if due_date(Step.EVALUATION, previous, org).due_on < today:
            return start
        start = previous
    return start


def due_soon_limit(today: dt.date) -> dt.date:
    from xinfang.workflow.calendar import add_working_days

    return add_working_days(today, DUE_SOON_WORKING_DAYS)


def own_work(org: Organisation, **petition: Any) -> Q:
    """Petitions on which ``org`` must act now against a staff deadline: disposal by the office,
    acceptance and handling by the unit (or the office's own matter), a review or recheck — one
    ``pk IN (union)`` of index-driven parts.  ``petition``: filters on the petition (a due-date
    range) applied inside every part, so each part reads only the rows that can match."""
    from xinfang.workflow.models import Appeal

    appealed = [Status.UNDER_REVIEW, Status.UNDER_RECHECK]
    further = {f"petition__{k}": v for k, v in petition.items()}
    appeals = Appeal.objects.filter(
        decided_on__isnull=True, body_id__in=_acts_for_bodies(org), petition__status__in=appealed, **further
    )
    parts = [
        _assigned_to(org, [Status.FORWARDED, Status.ASSIGNED, Status.ACCEPTED], **petition),
        appeals.order_by().values("petition_id"),
    ]
    if org.kind == OrganisationKind.PETITION_OFFICE:
        disposal = Petition.objects.filter(
            office_id=org.pk, status__in=[Status.REGISTERED, Status.RETURNED], **petition
        )
        parts += [disposal.order_by().values("pk"), _own_matters(org, [Status.ACCEPTED], **petition)]
    return Q(pk__in=_union(*parts))


def _deadline_scope(qs: Any, user: Any, **due: Any) -> Any:
    """Petitions with a deadline staff must meet within ``due`` (a ``due_on`` range) that the user
    watches: their body's own work; a supervisor of a petition office watches every deadline in
    scope (督办 is their job).  The range is repeated inside each part of ``own_work`` so every
    part reads only the rows that can match."""
    org = user.organisation
    qs = qs.filter(status__in=STAFF_DEADLINE_STATUSES, **due)
    if user.has_role(RoleCode.SUPERVISOR) and org.kind == OrganisationKind.PETITION_OFFICE:
        return qs
    return qs.filter(own_work(org, **due))


# --- the narrowings -----------------------------------------------------------------------------


def _new_assignments(qs: Any, user: Any, today: dt.date) -> Any:
    statuses = [Status.FORWARDED, Status.ASSIGNED]
    return qs.filter(status__in=statuses, pk__in=_assigned_to(user.organisation, statuses))


def _to_dispose(qs: Any, user: Any, today: dt.date) -> Any:
    return qs.filter(office_id=user.organisation.pk, status__in=[Status.REGISTERED, Status.RETURNED])


def _to_dispose_parts(qs: Any, user: Any, today: dt.date) -> list[Any]:
    """待处置 by status for the workbench's count and first rows (``Section.ordered_parts``): each
    status is one range of the ``(office, status, due_on)`` index, read in due_on order, where
    ``status IN (registered, returned) ORDER BY due_on`` walked the due_on index of the whole
    table filtering by office (8–13 ms for the county office's first five at a million petitions)."""
    mine = qs.filter(office_id=user.organisation.pk)
    return [
        mine.filter(status=status).order_by(*DENSE_SECTION_ORDER)
        for status in (Status.REGISTERED, Status.RETURNED)
    ]


def _in_handling(qs: Any, user: Any, today: dt.date) -> Any:
    return qs.filter(status=Status.ACCEPTED, pk__in=_handled_ids(user.organisation, [Status.ACCEPTED]))


def _in_handling_parts(qs: Any, user: Any, today: dt.date) -> list[Any]:
    """办理中 in two disjoint parts (``Section.ordered_parts``): the petitions whose open
    assignment names the body (sorted whole: the body's open assignments are hashed either way),
    and for a petition office its own matters — accepted, registered by it, no open assignment —
    read in due_on order down the ``(office, status, due_on)`` index with one probe of
    ``assignment_one_open_per_petition`` per row, so the first 101 cost a few hundred probes
    instead of hashing every open assignment in the country.  The same rows as ``_in_handling``."""
    from xinfang.workflow.models import Assignment

    org = user.organisation
    accepted = qs.filter(status=Status.ACCEPTED)
    parts = [accepted.filter(pk__in=_assigned_to(org, [Status.ACCEPTED])).order_by(*SECTION_ORDER)]
    if org.kind == OrganisationKind.PETITION_OFFICE:
        open_assignment = Assignment.objects.filter(petition_id=OuterRef("pk"), ended_at__isnull=True)
        own = accepted.filter(office_id=org.pk).exclude(Exists(open_assignment))
        parts.append(own.order_by(*DENSE_SECTION_ORDER))
    return parts


def _approvals(qs: Any, user: Any, today: dt.date) -> Any:
    """Extension requests waiting for this leader (a leader of the requesting body's line, not the
    one who asked), and completion reports of petitions this office assigned (Art. 22(3))."""
    from xinfang.workflow.models import Assignment, ExtensionDecision, ExtensionRequest

    org = user.organisation
    parts = []
    if user.has_role(RoleCode.LEADER):
        pending = ExtensionRequest.objects.filter(
            decision=ExtensionDecision.PENDING,
            organisation_id__in=approval_bodies(org),
            petition__status=Status.ACCEPTED,
        ).exclude(requested_by_id=user.pk)
        parts.append(pending.order_by().values("petition_id"))
    if user.role_codes & OFFICE_ROLES and org.kind == OrganisationKind.PETITION_OFFICE:
        # Driven from the office's replied petitions (the office/status index), each probed for
        # its open assignment: the open assignments of the whole country are never hashed.
        reports = Assignment.objects.filter(
            ended_at__isnull=True,
            report_required=True,
            petition__office_id=org.pk,
            petition__status=Status.REPLIED,
        )
        parts.append(reports.order_by().values("petition_id"))
    return qs.filter(pk__in=_union(*parts)) if parts else qs.none()


def _notices(selector: str, user: Any) -> Any:
    """The notices behind a supervision section: the supervision app's selector of that name,
    unscoped — the petition queryset these narrow is already restricted, and reading the scope a
    second time inside the subquery made PostgreSQL walk the whole petition table (seconds for a
    city at a million petitions; ``supervision.selectors._visible``)."""
    try:
        from xinfang.supervision import selectors
    except ImportError:  # pragma: no cover - during the parallel build only
        return None
    return getattr(selectors, selector)(user, scoped=False).order_by()


def _with_notice_due(qs: Any, notices: Any) -> Any:
    """The earliest response date of the section's notices on each row, as ``section_due_on``."""
    if notices is None:
        return qs
    due = notices.filter(petition_id=OuterRef("pk")).order_by().values("petition_id")
    return qs.annotate(section_due_on=Subquery(due.annotate(d=Min("respond_by")).values("d")[:1]))


def _supervision_to_answer(qs: Any, user: Any, today: dt.date) -> Any:
    notices = _notices("notices_to_answer", user)
    return qs.none() if notices is None else qs.filter(pk__in=notices.values("petition_id"))


def _supervision_to_answer_due(qs: Any, user: Any) -> Any:
    return _with_notice_due(qs, _notices("notices_to_answer", user))


def _supervision_to_review(qs: Any, user: Any, today: dt.date) -> Any:
    notices = _notices("answers_to_review", user)
    return qs.none() if notices is None else qs.filter(pk__in=notices.values("petition_id"))


def _supervision_to_review_due(qs: Any, user: Any) -> Any:
    return _with_notice_due(qs, _notices("answers_to_review", user))


def _appeals(qs: Any, user: Any, today: dt.date) -> Any:
    from xinfang.workflow.models import Appeal

    open_ = Appeal.objects.filter(decided_on__isnull=True, body_id__in=_acts_for_bodies(user.organisation))
    appealed = [Status.UNDER_REVIEW, Status.UNDER_RECHECK]
    return qs.filter(status__in=appealed, pk__in=open_.values("petition_id"))


def _follow_up(qs: Any, user: Any, today: dt.date) -> Any:
    """Replied petitions of my office whose standing reply (the latest letter, appeals.
    standing_letter) has no evaluation and was served recently enough for its evaluation window to
    be open still (an unserved reply: not yet, its window has not started): one EXISTS per replied
    petition of the office, through the letters' petition index (no annotation, so the count costs
    no more than the filter)."""
    from xinfang.workflow.models import DecisionLetter, Evaluation

    org = user.organisation
    cutoff = evaluation_cutoff(org, today)
    later = DecisionLetter.objects.filter(petition_id=OuterRef("petition_id")).filter(
        Q(issued_at__gt=OuterRef("issued_at")) | Q(issued_at=OuterRef("issued_at"), pk__gt=OuterRef("pk"))
    )
    open_letter = (
        # the window runs from service (issue #10 point 8): an unserved reply has none open yet
        DecisionLetter.objects.filter(petition_id=OuterRef("pk"), served_on__gte=cutoff)
        .exclude(Exists(later))
        .exclude(Exists(Evaluation.objects.filter(letter_id=OuterRef("pk"))))
    )
    return qs.filter(_follow_up_replies(org, cutoff)).filter(Exists(open_letter))


def _follow_up_replies(org: Organisation, cutoff: dt.date) -> Q:
    """The office's replied petitions that can still be in their evaluation window."""
    # In REPLIED ``due_on`` is the review-request window counted from the service of the reply
    # (appeals.serve_letter), and a later service a later window: a reply served since ``cutoff``
    # has ``due_on`` no earlier than the window of one served on ``cutoff``.  That bound lets the
    # (office, status, due_on) index skip the replies whose evaluation window closed long ago; the
    # EXISTS decides.
    from xinfang.workflow.deadlines import due_date
    from xinfang.workflow.models import Step

    floor = due_date(Step.REVIEW_REQUEST, cutoff, org).due_on
    return Q(office_id=org.pk, status=Status.REPLIED, due_on__gte=floor)


def _follow_up_window(qs: Any, user: Any) -> Any:
    """The day the standing reply was served, from which the evaluation window of each row is
    counted (issue #10 point 8)."""
    from xinfang.workflow.models import DecisionLetter

    latest = DecisionLetter.objects.filter(petition_id=OuterRef("pk")).order_by("-issued_at", "-pk")
    return qs.annotate(letter_served_on=Subquery(latest.values("served_on")[:1]))


def _follow_up_parts(qs: Any, user: Any, today: dt.date) -> list[Any]:
    """待回访 for the workbench's count and first rows (``Section.ordered_parts``): sorting the
    section probes every reply in the window for a later letter and an evaluation (1,539 for a
    county office at a million petitions, 13–16 ms), and PostgreSQL, estimating one row, will not
    walk the due_on index instead.  So first the window's earliest replies by the index alone,
    then only those probed; nearly every reply in the window is still open, so that usually
    yields the first rows at once.  If it yields fewer than asked, the whole section is read
    (``Windowed.full``): the same rows either way."""
    org = user.organisation
    full = _follow_up(qs, user, today).order_by(*DENSE_SECTION_ORDER)
    earliest = Petition.objects.filter(_follow_up_replies(org, evaluation_cutoff(org, today)))
    window = earliest.order_by(*DENSE_SECTION_ORDER).values("pk")[: 2 * (SECTION_COUNT_CAP + 1)]
    return [Windowed(fast=full.filter(pk__in=window), full=full)]


def _due_soon(qs: Any, user: Any, today: dt.date) -> Any:
    window = {"due_on__gte": today, "due_on__lte": due_soon_limit(today)}
    return _deadline_scope(qs, user, **window)


def _overdue(qs: Any, user: Any, today: dt.date) -> Any:
    # Only deadlines staff must meet: a petitioner's window (replied, reviewed) is never overdue.
    return _deadline_scope(qs, user, due_on__lt=today)


def _mine(qs: Any, user: Any, today: dt.date) -> Any:
    return qs.filter(handler_id=user.pk, status__in=OPEN_STATUSES)


def _listed(qs: Any, user: Any, today: dt.date) -> Any:
    notices = _notices("listed_notices", user)
    return qs.none() if notices is None else qs.filter(pk__in=notices.values("petition_id"))


def _listed_due(qs: Any, user: Any) -> Any:
    return _with_notice_due(qs, _notices("listed_notices", user))


def _approval_reason(petition: Any) -> Any:
    if petition.status == Status.REPLIED:
        return _("承办单位已答复并报送办结报告，请审核通过或退回重办。")
    return _("承办单位申请延长办理期限，请审批（申请人本人不能审批）。")


def _is_petition_office(user: Any) -> bool:
    return user.organisation.kind == OrganisationKind.PETITION_OFFICE


def _may_approve(user: Any) -> bool:
    return user.has_role(RoleCode.LEADER) or _is_petition_office(user)


SECTIONS: tuple[Section, ...] = (
    Section(
        "new", _("新交办"), _("已转送或交办本单位，请确认受理，或在期限内提出异议退回。"),
        UNIT_ROLES, _new_assignments, built_whole=lambda user: True,
    ),
    Section(
        "dispose", _("待处置"), _("本机构登记或被退回的信访事项，请在期限内转送、交办、受理或告知。"),
        OFFICE_ROLES, _to_dispose, applies=_is_petition_office, ordered_parts=_to_dispose_parts,
    ),
    Section(
        "handling", _("办理中"), _("本单位已受理，请在办理期限内答复信访人。"),
        HANDLING_ROLES, _in_handling, built_whole=lambda user: True, ordered_parts=_in_handling_parts,
    ),
    Section(
        "approve", _("待审批"), _("延期申请或办结报告等待您审批。"),
        OFFICE_ROLES | {RoleCode.LEADER}, _approvals, applies=_may_approve, row_reason=_approval_reason,
    ),
    Section(
        "supervision", _("待反馈督办"), _("上级机关督办本单位办理的事项，请在反馈期限内报送办理情况。"),
        CASEWORK, _supervision_to_answer, due=DUE_NOTICE, annotate=_supervision_to_answer_due,
    ),
    Section(
        "supervision_review", _("待审核督办反馈"), _("承办单位已反馈督办事项，请审核通过或退回。"),
        OVERSIGHT_ROLES, _supervision_to_review, due=DUE_NOTICE, applies=_is_petition_office,
        annotate=_supervision_to_review_due,
    ),
    Section(
        "appeals", _("待复查复核"), _("信访人请求复查或复核，请在期限内出具意见。"),
        HANDLING_ROLES, _appeals,
    ),
    Section(
        "follow_up", _("待回访"), _("已答复、信访人尚未评价，请在评价期内回访并录入评价。"),
        OFFICE_ROLES, _follow_up, due=DUE_WINDOW, applies=_is_petition_office, annotate=_follow_up_window,
        ordered_parts=_follow_up_parts,
    ),
    Section(
        "due_soon", _("即将到期"), _("办理期限在3个工作日内届满。"),
        CASEWORK, _due_soon,
    ),
    Section(
        "overdue", _("已超期"), _("已超过办理期限，请尽快处理并说明原因。"),
        CASEWORK, _overdue,
    ),
    Section(
        "mine", _("我承办的"), _("您是承办人的在办事项。"),
        CASEWORK, _mine,
    ),
    Section(
        "listed", _("挂牌督办"), _("挂牌督办的事项，解除督办前持续跟踪。"),
        OVERSIGHT_ROLES, _listed, due=DUE_NOTICE, annotate=_listed_due,
    ),
)  # fmt: skip

SECTIONS_BY_KEY: dict[str, Section] = {s.key: s for s in SECTIONS}


def get_section(key: str | None) -> Section | None:
    return SECTIONS_BY_KEY.get(key or "")


def sections_for(user: Any) -> list[Section]:
    """The sections that concern ``user`` (by role and organisation), in workbench order."""
    return [s for s in SECTIONS if s.visible_to(user)]


def apply_section(key: str | None, qs: PetitionQuerySet, user: Any, today: dt.date | None = None) -> Any:
    """Narrow ``qs`` (already restricted to ``user``'s scope) to section ``key``; an unknown or
    empty key leaves ``qs`` unchanged, a section that does not concern the user empties it.
    The queue (``?section=<key>``), the exports and the API call this, so the list behind a count
    is the count's own queryset."""
    section = get_section(key)
    if section is None:
        return qs
    if not section.visible_to(user):
        return qs.none()
    return section.narrow(qs, user, today or timezone.localdate())


def section_counts(user: Any, today: dt.date | None = None) -> list[tuple[Section, int]]:
    """``(section, count)`` for every section that concerns ``user``, counts capped at
    ``SECTION_COUNT_CAP`` (a count at the cap reads "100+"): one cheap query per section."""
    today = today or timezone.localdate()
    return [(s, capped_count(s.queryset(user, today), SECTION_COUNT_CAP)[0]) for s in sections_for(user)]
