"""Public portal logic, shared by the portal's HTML views and the API (``/api/v1/portal/…``).

The operations, each a plain function the views call after parsing their own input:

``submit_public_petition(draft=…, ip=…) -> Registration``
    Registers a petition sent by a citizen: the channel is forced to "online", the date of receipt
    to today, and the office is the petition office responsible for the chosen locality (属地管理).
    Raises ``django.core.exceptions.ValidationError`` (keyed by field, e.g. ``"locality"``,
    ``"petitioners.0.id_number"``) or :class:`Throttled`.

``track_petition(number=…, code=…, ip=…) -> PublicView``
    What a citizen holding the query code may see: the status and the public timeline, nothing
    else.  Raises :class:`TrackingFailed` for an unknown number *and* for a wrong code (one
    exception, so callers cannot tell the two apart by accident), or :class:`Throttled`.

``find_petition(number=…, code=…, ip=…) -> Petition``
    The same check of number and code (and the same failure throttle), returning the petition; the
    portal binds it to the browser session, the API acts on it.

``public_view(petition) -> PublicView``
    What the holder of the code may see, for a petition already proved by the code (or bound to
    the session): steps, public timeline, decision letters, review and recheck opinions, windows
    and the actions the petitioner may take now (issue #3).

``act_as_petitioner(petition=…, action=…, **fields) -> Petition``
    One of the petitioner's own actions (:data:`PETITIONER_ACTIONS`), through the workflow service
    with a :class:`~xinfang.workflow.engine.Citizen`.  Raises ``TransitionRefused`` unchanged.

Only public fields leave this module (STYLE.md §5 rule 20): never comments, staff names,
petitioner data or other petitions.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from xinfang.core import counters, throttle
from xinfang.core.throttle import Throttled
from xinfang.petitions.choices import Channel, EventKind, Status
from xinfang.petitions.drafts import PetitionDraft
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.petitions.query_codes import UNKNOWN_NUMBER_TTL, failure_key
from xinfang.petitions.services import (
    Registration,
    clean_draft,
    find_petition_office,
    hash_query_code,
    localities,
)
from xinfang.workflow import appeals
from xinfang.workflow import services as workflow
from xinfang.workflow.engine import Citizen, allowed_actions
from xinfang.workflow.models import (
    Appeal,
    AppealKind,
    AppealOutcome,
    DecisionLetter,
    EvaluationStatus,
    ReplyOutcome,
    Step,
)
from xinfang.workflow.services import register

__all__ = [
    "ACTION_FIELDS",
    "Captcha",
    "CaptchaFailed",
    "PETITIONER_ACTIONS",
    "PORTAL_ATTACHMENT_LIMIT",
    "PublicAppeal",
    "PublicEvent",
    "PublicLetter",
    "PublicStep",
    "PublicView",
    "PublicWindows",
    "QueryCodeLocked",
    "Throttled",
    "TrackingFailed",
    "act_as_petitioner",
    "check_captcha",
    "find_petition",
    "new_captcha",
    "public_view",
    "submit_public_petition",
    "track_petition",
]

# A citizen attaches a few scans or photos; more belongs in a visit to the office.
PORTAL_ATTACHMENT_LIMIT = 5
SUBMIT_SCOPE = "portal-submit"
CAPTCHA_SCOPE = "portal-captcha"
TRACK_FAILURE_SCOPE = "portal-track-failure"
# Compared against when the number is unknown, so both failures cost the same hashing and
# comparison time (a shorter path for unknown numbers would reveal which numbers exist).
_NO_SUCH_HASH = "0" * 64
_MAX_NUMBER_LENGTH = 40  # Petition.number's max_length


class CaptchaFailed(Exception):
    """The CAPTCHA answer is missing, wrong or expired (each challenge may be answered once)."""

    message = _lazy("验证码错误或已过期，请重新获取验证码。")


@dataclass(frozen=True)
class Captcha:
    """A CAPTCHA challenge for the API: its key, the PNG image, and how long it stays valid."""

    key: str
    image_png: bytes
    expires_in: int


def new_captcha(*, ip: str) -> Captcha:
    """A fresh challenge, drawn like the portal form's (django-simple-captcha, offline font).

    Public submission through the API must cost what the portal costs (issue #7 point 28): fetch a
    challenge here, answer it in the submission.  Challenges are rows in the database, so their
    creation is throttled per address (``XINFANG_PORTAL_CAPTCHA_RATE``).
    """
    from captcha.models import CaptchaStore
    from captcha.views import captcha_image

    throttle.hit(CAPTCHA_SCOPE, ip, settings.XINFANG_PORTAL_CAPTCHA_RATE, raise_over=True)
    CaptchaStore.remove_expired()
    key = CaptchaStore.generate_key()
    image = captcha_image(None, key)
    return Captcha(key=key, image_png=image.content, expires_in=int(settings.CAPTCHA_TIMEOUT) * 60)


def check_captcha(*, key: str, answer: str) -> None:
    """Raise :class:`CaptchaFailed` unless ``answer`` solves challenge ``key``.

    The same check as the portal form's ``CaptchaField``: the challenge is deleted at the first
    answer, right or wrong, so each one allows a single guess (its answers are small numbers).
    ``CAPTCHA_TEST_MODE`` (tests only) accepts ``PASSED``, as the form does.
    """
    from captcha.models import CaptchaStore

    answer = (answer or "").strip().lower()
    if settings.CAPTCHA_TEST_MODE and answer == "passed":
        CaptchaStore.objects.filter(hashkey=key).delete()
        return
    store = CaptchaStore.objects.filter(hashkey=key or "", expiration__gt=timezone.now()).first()
    if store is not None:
        store.delete()
    if store is None or not answer or not hmac.compare_digest(store.response.encode(), answer.encode()):
        raise CaptchaFailed(key)


class TrackingFailed(LookupError):
    """The number is unknown or the code does not match; deliberately indistinguishable."""


class QueryCodeLocked(TrackingFailed):
    """Too many wrong codes for this number, from any addresses: refused even with the right code
    until the office reissues it (``petitions.query_codes``).  Unknown numbers lock the same way."""

    message = _lazy("查询码错误次数过多，该编号已锁定。请信访人携带身份证件到信访部门重新获取查询码。")


@dataclass(frozen=True)
class PublicEvent:
    """One public entry of the timeline: when, what kind, and the note meant for the petitioner."""

    at: dt.datetime
    kind: str
    kind_label: str
    note: str


@dataclass(frozen=True)
class PublicStep:
    """One step of the procedure as the petitioner sees it (登记 → … → 终结).

    ``state``: ``done``, ``current`` (where the matter stands), ``upcoming``, or for the evaluation,
    which runs beside the review window rather than before it, ``pending`` / ``lapsed``."""

    key: str
    label: str
    state: str
    note: str = ""


@dataclass(frozen=True)
class PublicLetter:
    """The public part of a decision letter (处理意见书): who replied, when, the result and the
    right to request review.  Never who signed it."""

    organisation: str
    issued_on: dt.date
    outcome: str
    outcome_label: str
    facts: str  # 查明事实 and 法律政策依据 are part of the letter the petitioner receives (Art. 32)
    basis: str
    opinion: str
    review_notice: str


@dataclass(frozen=True)
class PublicAppeal:
    """A review (复查) or recheck (复核): the body, when it received the request, and its opinion
    once given, else the day it is due (hearing days not counted).  The request text itself is not
    repeated (it is stored as an internal note too)."""

    kind: str
    kind_label: str
    body: str
    received_on: dt.date
    due_on: dt.date | None
    decided_on: dt.date | None
    outcome: str
    outcome_label: str
    facts: str
    basis: str
    opinion: str


@dataclass(frozen=True)
class PublicWindows:
    """The petitioner's windows: evaluation (pending / evaluated / lapsed, None before the reply),
    and the last day to request a review or a recheck — each None unless the petition stands where
    that request can be made (replied; reviewed).  The windows run from service (issue #10 point 8):
    while the letter (the review opinion) has not reached the petitioner there is no date, and the
    ``*_not_served`` flag is set instead, with the sentence to show (``*_note``)."""

    evaluation_status: str | None = None
    evaluation_due_on: dt.date | None = None
    review_request_due_on: dt.date | None = None
    recheck_request_due_on: dt.date | None = None
    evaluation_not_served: bool = False
    review_request_not_served: bool = False
    recheck_request_not_served: bool = False

    @property
    def shown(self) -> bool:
        return bool(
            self.evaluation_status or self.review_request_due_on or self.recheck_request_due_on
            or self.review_request_not_served or self.recheck_request_not_served
        )  # fmt: skip

    @property
    def evaluation_note(self) -> str:
        return str(appeals.NOT_SERVED_NOTES[Step.EVALUATION]) if self.evaluation_not_served else ""

    @property
    def review_request_note(self) -> str:
        return str(appeals.NOT_SERVED_NOTES[Step.REVIEW_REQUEST]) if self.review_request_not_served else ""

    @property
    def recheck_request_note(self) -> str:
        return str(appeals.NOT_SERVED_NOTES[Step.RECHECK_REQUEST]) if self.recheck_request_not_served else ""

    @property
    def review_request_open(self) -> bool:
        return self.review_request_due_on is not None and timezone.localdate() <= self.review_request_due_on

    @property
    def recheck_request_open(self) -> bool:
        return self.recheck_request_due_on is not None and timezone.localdate() <= self.recheck_request_due_on


@dataclass(frozen=True)
class PublicView:
    """Everything the portal shows about a petition to the holder of its query code."""

    number: str
    status: str
    status_label: str
    events: list[PublicEvent]
    steps: list[PublicStep] = field(default_factory=list)
    letters: list[PublicLetter] = field(default_factory=list)
    appeals: list[PublicAppeal] = field(default_factory=list)
    windows: PublicWindows = field(default_factory=PublicWindows)
    allowed_actions: list[str] = field(default_factory=list)
    # a merged petition: the number of the petition it went into, whose result this view shows
    merged_into: str = ""
    # an office chose to tell the petitioner that the petition is supervised (督办): the one line
    # "上级机关已督办", never the notice's details (issue #8 §3)
    supervised: bool = False


def submit_public_petition(*, draft: PetitionDraft, ip: str) -> Registration:
    """Register a petition submitted on the public portal (网上信访), all or nothing.

    ``draft.channel``, ``draft.received_on`` and ``draft.repeat_of_number`` are overridden: the
    public cannot choose them.  Every attempt from ``ip`` counts against
    ``XINFANG_PORTAL_SUBMIT_RATE``, valid or not — the limit protects the database as much as
    the offices' in-trays.  The returned ``query_code`` exists in clear only in this value.
    """
    throttle.hit(SUBMIT_SCOPE, ip, settings.XINFANG_PORTAL_SUBMIT_RATE, raise_over=True)
    draft = replace(
        draft,
        channel=Channel.ONLINE,
        received_on=timezone.localdate(),
        # Linking a repeat needs a staff member's scope; the office links it after registration.
        repeat_of_number="",
    )
    locality = localities().filter(pk=draft.locality_id).first() if draft.locality_id else None
    office = find_petition_office(locality) if locality is not None else None
    if office is None:
        _raise_without_office(draft, locality_known=locality is not None)
    return register(
        draft=draft, office=office, actor=None, public=True, attachment_limit=PORTAL_ATTACHMENT_LIMIT
    )


def _raise_without_office(draft: PetitionDraft, *, locality_known: bool) -> None:
    """Report every problem of the draft at once, plus the missing office if that is one of them."""
    errors: dict[str, list[str]] = {}
    try:
        clean_draft(draft, attachment_limit=PORTAL_ATTACHMENT_LIMIT)
    except ValidationError as exc:
        errors = {key: list(messages) for key, messages in exc.message_dict.items()}
    if locality_known:
        # A valid area with no petition office at or above it: a configuration gap, told plainly.
        errors.setdefault("locality", []).append(
            _("该属地暂未开通网上信访受理，请选择上级属地或到当地信访部门反映。")
        )
    raise ValidationError(errors)


def find_petition(*, number: str, code: str, ip: str) -> Petition:
    """The petition ``number`` if ``code`` is its query code; the one check of the code.

    Two counts guard it, both taken *before* the code is compared, atomically, so simultaneous
    guesses cannot slip past (issue #7 point 29):

    * per address, ``XINFANG_PORTAL_TRACK_FAILURE_RATE``: once over it, every look-up from that
      address is refused with :class:`Throttled` until the window ends, even one with the right
      code (otherwise guessing could simply go on); a success gives its attempt back;
    * per number, from any address, ``XINFANG_QUERY_CODE_MAX_FAILURES``: beyond it the number is
      locked (:class:`QueryCodeLocked`) until the office reissues the code; a success clears it.
    """
    rate = settings.XINFANG_PORTAL_TRACK_FAILURE_RATE
    attempt = throttle.reserve(TRACK_FAILURE_SCOPE, ip, rate)
    number = (number or "").strip().upper()
    petition = None
    if 0 < len(number) <= _MAX_NUMBER_LENGTH:
        petition = Petition.objects.filter(number=number).first()
    key = failure_key(number, petition.pk if petition is not None else None)
    if counters.increment(key, ttl=None if petition is not None else UNKNOWN_NUMBER_TTL) > (
        settings.XINFANG_QUERY_CODE_MAX_FAILURES
    ):
        raise QueryCodeLocked(number)
    expected = petition.query_code_hash if petition is not None else _NO_SUCH_HASH
    given = hash_query_code(code or "")
    if petition is None or not hmac.compare_digest(expected, given):
        raise TrackingFailed(number)
    attempt.refund()
    counters.delete(key)
    return petition


def track_petition(*, number: str, code: str, ip: str) -> PublicView:
    """Status, steps, public timeline, opinions, windows and allowed actions of petition
    ``number``, for the holder of its query ``code`` (checked by :func:`find_petition`)."""
    return public_view(find_petition(number=number, code=code, ip=ip))


# --- what the petitioner sees -----------------------------------------------------------------------

# The petitioner's own actions on the portal, in page order: the ``by_petitioner`` transitions of
# the table (a test keeps the two equal; a new one needs its fields here and a form in forms.py).
PETITIONER_ACTIONS = ("evaluate", "request_review", "request_recheck", "withdraw")

# Where each status stands on the route 登记 → 受理/转送/交办 → 办理 → 答复 → (评价) → 复查 → 复核 → 终结.
_ROUTE = ("registered", "disposal", "handling", "reply", "evaluation", "review", "recheck", "concluded")
_POSITION = {
    Status.REGISTERED: "registered",
    Status.RETURNED: "registered",  # the office routes it again
    Status.FORWARDED: "disposal",
    Status.ASSIGNED: "disposal",
    Status.DISPUTED: "disposal",  # the common superior decides who handles it (Art. 24)
    Status.ACCEPTED: "handling",
    Status.REPLIED: "reply",
    Status.UNDER_REVIEW: "review",
    Status.REVIEWED: "review",
    Status.UNDER_RECHECK: "recheck",
    Status.CONCLUDED: "concluded",
}


def publicly_supervised(petition: Petition) -> bool:
    from xinfang.supervision.selectors import is_publicly_supervised

    return is_publicly_supervised(petition)


def public_view(petition: Petition) -> PublicView:
    """What the holder of the query code may see of ``petition`` (already proved by the code or
    bound to the session): only public notes, organisation names and the petitioner's own dates —
    never internal comments, staff, petitioner data or the request texts."""
    target = _merged_target(petition)
    if target is not None:
        return _merged_view(petition, target)
    events = PetitionEvent.objects.filter(petition=petition, is_public=True).only("at", "kind", "public_note")
    letters = list(DecisionLetter.objects.filter(petition=petition).select_related("organisation"))
    appeal_rows = list(Appeal.objects.filter(petition=petition).select_related("body"))
    citizen = Citizen(petition_id=petition.pk)
    windows = _windows(petition, has_letter=bool(letters))
    return PublicView(
        number=petition.number,
        status=petition.status,
        status_label=str(petition.get_status_display()),
        events=[
            PublicEvent(at=e.at, kind=e.kind, kind_label=str(e.get_kind_display()), note=e.public_note)
            for e in events.order_by("at", "id")
        ],
        steps=_steps(petition, evaluation_status=windows.evaluation_status, appeal_rows=appeal_rows),
        letters=[
            PublicLetter(
                organisation=letter.organisation.name,
                issued_on=timezone.localdate(letter.issued_at),
                outcome=letter.outcome,
                outcome_label=str(ReplyOutcome(letter.outcome).label),
                facts=letter.facts,
                basis=letter.basis,
                opinion=letter.opinion,
                review_notice=letter.review_notice,
            )
            for letter in sorted(letters, key=lambda letter: (letter.issued_at, letter.pk))
        ],
        appeals=[
            PublicAppeal(
                kind=a.kind,
                kind_label=str(AppealKind(a.kind).label),
                body=a.body.name,
                received_on=a.received_on,
                due_on=appeals.running_due_on(a),  # None once decided, and while a hearing is open
                decided_on=a.decided_on,
                outcome=a.outcome,
                outcome_label=str(AppealOutcome(a.outcome).label) if a.outcome else "",
                facts=a.facts if a.decided_on else "",
                basis=a.basis if a.decided_on else "",
                opinion=a.opinion if a.decided_on else "",
            )
            for a in appeal_rows
        ],
        windows=windows,
        allowed_actions=[
            t.action for t in allowed_actions(petition, citizen) if t.action in PETITIONER_ACTIONS
        ],
        supervised=publicly_supervised(petition),
    )


def _merged_target(petition: Petition) -> Petition | None:
    """The petition a merged one finally went into (following a chain of merges), or None."""
    seen = {petition.pk}
    target = None
    while petition.status == Status.MERGED and petition.repeat_of_id and petition.repeat_of_id not in seen:
        petition = target = Petition.objects.get(pk=petition.repeat_of_id)
        seen.add(petition.pk)
    return target


def _merged_view(petition: Petition, target: Petition) -> PublicView:
    """A merged petition's code shows the result of the petition it went into (issue #7 point 10):
    that one's status, steps, letters and opinions, after the merged petition's own timeline.  Only
    petitions of the same petitioner are merged (workflow.services.same_petitioner), so nothing of
    another person is shown.  No action is offered: the petitioner acts with the code of the
    petition that is handled (the windows are not repeated here for that reason)."""
    own = [
        PublicEvent(at=e.at, kind=e.kind, kind_label=str(e.get_kind_display()), note=e.public_note)
        for e in PetitionEvent.objects.filter(petition=petition, is_public=True).order_by("at", "id")
    ]
    result = public_view(target)
    return replace(
        result, number=petition.number, events=[*own, *result.events], windows=PublicWindows(),
        allowed_actions=[], merged_into=target.number,
    )  # fmt: skip


def _windows(petition: Petition, *, has_letter: bool) -> PublicWindows:
    """The windows counted from service: a letter or opinion not served yet gives no date (the
    window has not started) but the sentence saying so."""
    if not has_letter:
        return PublicWindows()
    evaluation = appeals.evaluation_window(petition)
    status = appeals.evaluation_status(petition)
    review = recheck = None
    review_unserved = recheck_unserved = False
    if petition.status == Status.REPLIED:
        review = appeals.review_request_window(petition)
        review_unserved = review is None
    elif petition.status == Status.REVIEWED:
        recheck = appeals.recheck_request_window(petition)
        recheck_unserved = recheck is None
    return PublicWindows(
        evaluation_status=status,
        evaluation_due_on=evaluation.due_on if evaluation is not None else None,
        review_request_due_on=review.due_on if review is not None else None,
        recheck_request_due_on=recheck.due_on if recheck is not None else None,
        evaluation_not_served=status == EvaluationStatus.PENDING and evaluation is None,
        review_request_not_served=review_unserved,
        recheck_request_not_served=recheck_unserved,
    )


def _disposal_label(petition: Petition) -> str:
    """转送 or 交办 when the office sent it to a unit, 受理 when it took the matter itself."""
    kinds = list(
        PetitionEvent.objects.filter(
            petition=petition, kind__in=[EventKind.FORWARDED, EventKind.ASSIGNED, EventKind.ACCEPTED]
        )
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )
    routed = [k for k in kinds if k in {EventKind.FORWARDED, EventKind.ASSIGNED}]
    if routed:
        return _("转送") if routed[-1] == EventKind.FORWARDED else _("交办")
    if kinds:
        return _("受理")
    return _("受理/转送/交办")


def _steps(
    petition: Petition, *, evaluation_status: str | None, appeal_rows: list[Appeal]
) -> list[PublicStep]:
    """The step list: the route with where the matter stands highlighted.

    A matter that ended early (declined, redirected, withdrawn, merged) shows the steps it went
    through and then how it ended; a concluded one omits the review and recheck nobody asked for.
    """
    labels: dict[str, str] = {
        "registered": _("登记"),
        "disposal": _disposal_label(petition),
        "handling": _("办理"),
        "reply": _("答复"),
        "evaluation": _("评价"),
        "review": _("复查"),
        "recheck": _("复核"),
        "concluded": _("终结"),
    }
    kinds = {a.kind for a in appeal_rows}
    evaluation_state, evaluation_note = {
        None: ("upcoming", ""),
        "evaluated": ("done", _("已评价")),
        "lapsed": ("lapsed", _("超期未评价")),
    }.get(evaluation_status, ("pending", _("待评价")))
    position = _POSITION.get(petition.status)
    if position is None:
        # Ended before a reply: the steps reached, then the end itself as the current step.
        reached = {"registered"}
        if labels["disposal"] != _("受理/转送/交办"):
            reached.add("disposal")
        steps = [PublicStep(key, labels[key], "done") for key in _ROUTE if key in reached]
        steps.append(PublicStep(petition.status, str(petition.get_status_display()), "current"))
        return steps
    current = _ROUTE.index(position)
    steps = []
    for index, key in enumerate(_ROUTE):
        if key == "evaluation":
            steps.append(PublicStep(key, labels[key], evaluation_state, evaluation_note))
            continue
        if petition.status == Status.CONCLUDED and key in {"review", "recheck"} and key not in kinds:
            continue  # the matter ended without this appeal
        state = "done" if index < current else "current" if index == current else "upcoming"
        note = ""
        if key == "review" and state == "upcoming":
            note = _("对答复不服的，可以请求复查")
        elif key == "recheck" and state == "upcoming":
            note = _("对复查意见不服的，可以请求复核")
        elif state == "current" and key in {"review", "recheck"}:
            note = str(petition.get_status_display())
        steps.append(PublicStep(key, labels[key], state, note))
    return steps


# --- the petitioner's own actions ------------------------------------------------------------------

# The fields each action takes (the rest of a request is refused by the callers).
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "evaluate": ("office_rating", "unit_rating", "reasons"),
    "request_review": ("reasons",),
    "request_recheck": ("reasons",),
    "withdraw": ("reasons",),
}


def act_as_petitioner(*, petition: Petition, action: str, **fields: str) -> Petition:
    """Take one of :data:`PETITIONER_ACTIONS` on ``petition`` as its petitioner (a Citizen bound to
    it).  The caller has proved the right to act (the code, or a session bound by the code); the
    workflow checks state, window and input and raises ``TransitionRefused`` with nothing changed.
    """
    service = workflow.ACTION_SERVICES[action]
    arguments = {name: fields.get(name) or "" for name in ACTION_FIELDS[action]}
    return service(user=Citizen(petition_id=petition.pk), number=petition.number, **arguments)
