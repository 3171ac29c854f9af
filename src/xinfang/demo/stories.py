"""What happened to each demo petition after it was registered: its story, up to yesterday.

A story is the list of actions taken on the petition (forward, unit_accept, reply, conclude …), each
on a day and at an office-hours moment, drawn so that the queue looks like a real office's: the
most recent petitions still registered, forwarded, assigned or accepted, older ones replied or
concluded, and a few late — a disposal, an acceptance or a reply that took longer than the law
allows, which shows as an overdue (red) petition while it lasts, or as a yellow one in its last
three days.

Every due date is counted by the deadline engine (``workflow.deadlines.due_date``) under the rule
profile of the organisation whose period runs, as the services count it; the lookups are memoised
per (step, profile, day), so a million stories cost a few hundred thousand dictionary lookups.

Stories are planned in the seeding process (they need the rule book), then either written in bulk
with the petition (``render.py``: status, due date, assignment, decision letter and timeline
events, no service call) or, for a sample of the small demo, replayed through the real services
at the planned moments (``drive.py``).  A replayed story may go further than a bulk one: extension,
objection, evaluation, review, recheck and hearing, whose rows only the services write.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings

from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Purpose, Status
from xinfang.workflow.deadlines import due_date, profile_for
from xinfang.workflow.models import Step

# Shares of the petition office's disposal (Art. 22) when a department answers for the matter; when
# none does, the office accepts it itself, declines it or points to the lawful channel.
DISPOSAL_WITH_UNIT = (("forward", 55), ("assign", 23), ("accept", 7), ("decline", 5), ("redirect", 8),
                      ("withdraw", 2))  # fmt: skip
DISPOSAL_WITHOUT_UNIT = (("accept", 68), ("decline", 10), ("redirect", 20), ("withdraw", 2))
LATE_DISPOSAL = 0.04  # disposed of after the 15 days (overdue meanwhile)
LATE_ACCEPTANCE = 0.05  # the unit confirms after its period
LATE_REPLY = 0.06  # the reply comes after the 60 days
OUTCOMES = (("support", 35), ("explain", 45), ("not_supported", 20))

# Only replayed stories (services write these rows): shares among the petitions reaching the step.
RETURN_SHARE = 0.10  # the unit objects; the office overrules
EXTENSION_SHARE = 0.15
EVALUATION_SHARE = 0.75
REVIEW_SHARE = 0.25
RECHECK_SHARE = 0.45
HEARING_SHARE = 0.4

# Bulk stories: the petitioner's evaluation of the reply (satisfied / basically / dissatisfied); the
# rest let the window lapse.  Shares of each rating by the reply's outcome, before the body's pace.
BULK_EVALUATION_SHARE = 0.7
# Service (送达) of a decision letter or opinion (issue #10 point 8): most reach the petitioner 1 to
# 5 days after issue (in person, or the post), some later by post; of the replies of the last weeks
# a few are not served yet, so their windows have not started.
LATE_POST_SHARE = 0.15
UNSERVED_RECENT_DAYS = 20
UNSERVED_RECENT_SHARE = 0.2
SATISFIED_SHARE = {"support": 0.7, "explain": 0.45, "not_supported": 0.15}
DISSATISFIED_SHARE = {"support": 0.04, "explain": 0.12, "not_supported": 0.4}

# The share of petitions with a unit that the office does not route (accepts, declines …).
UNROUTED_SHARE = sum(w for c, w in DISPOSAL_WITH_UNIT if c not in {"forward", "assign"}) / 100

FINAL_ACTIONS = {"decline": Status.DECLINED, "redirect": Status.REDIRECTED, "withdraw": Status.WITHDRAWN}


class Story(NamedTuple):
    """A petition's state as its story left it, and the story itself (only ints and strings).

    ``steps``: (action, moment ISO 8601 with offset, argument) in order; the argument is the unit's
    id for forward/assign, the outcome for reply/review/recheck, the days of an extension, else "".
    """

    status: str
    due_on: int  # date.toordinal(), 0: none
    unit_id: int  # the responsible unit, 0: none (the office handles it, or it never got that far)
    steps: tuple[tuple[str, str, str], ...]
    drive: bool  # replayed through the services (drive.py) instead of written in bulk
    # Petition.due_on (ordinal, 0: none) after registration and after each step: the deadline
    # records are derived from these (workflow.backfill.derive, in the render workers).
    dues: tuple[int, ...] = ()
    letter_id: int = 0  # the id reserved for the bulk decision letter, 0: none


def _weighted(table: tuple[tuple[str, int], ...]) -> list[str]:
    return [value for value, weight in table for _i in range(weight)]


@dataclass
class _Draft:
    """A story being told."""

    steps: list[tuple[str, str, str]]
    status: str
    due_on: dt.date | None
    unit_id: int = 0


class StoryTeller:
    """Draws each petition's story.  ``organisations``: every office and department a story may
    name, by id (their paths select the rule profile).  ``drive``: (office id, {unit ids}) whose
    petitions may be replayed through the services, and how many of them at most."""

    def __init__(
        self,
        *,
        rng: random.Random,
        today: dt.date,
        organisations: dict[int, Organisation],
        drive_office_id: int | None = None,
        drive_unit_ids: frozenset[int] = frozenset(),
        drive_limit: int = 0,
        letter_ids: Iterator[int] | None = None,
    ) -> None:
        self.rng = rng
        self.letter_ids = letter_ids
        self.today = today
        self.yesterday = today - dt.timedelta(days=1)
        self.organisations = organisations
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.drive_office_id = drive_office_id
        self.drive_unit_ids = drive_unit_ids
        self.drive_left = drive_limit
        self.drive_rate = 1.0  # set by sample_over() once the planner knows how many are eligible
        self._credit = 0.0
        self._with_unit = _weighted(DISPOSAL_WITH_UNIT)
        self._without_unit = _weighted(DISPOSAL_WITHOUT_UNIT)
        self._outcomes = _weighted(OUTCOMES)
        self._due: dict[tuple[str, int, int], dt.date] = {}
        self._profiles: dict[int, int] = {}
        self._offsets: dict[int, str] = {}
        self._office = 0

    def sample_over(self, eligible: float) -> None:
        """Spread the replayed sample over about ``eligible`` eligible stories."""
        # The estimate runs low (repeats, rounding): aim a quarter wide so the sample reaches today.
        eligible *= 1.25
        if self.drive_left and eligible > self.drive_left:
            self.drive_rate = self.drive_left / eligible

    # --- the deadline engine, memoised -------------------------------------------------------

    def due(self, step: str, start: dt.date, org_id: int) -> dt.date:
        """``deadlines.due_date(step, start, organisation).due_on``, memoised per profile and day."""
        profile = self._profiles.get(org_id)
        if profile is None:
            profile = self._profiles[org_id] = profile_for(self.organisations[org_id]).pk
        key = (step, profile, start.toordinal())
        due_on = self._due.get(key)
        if due_on is None:
            due_on = self._due[key] = due_date(step, start, self.organisations[org_id]).due_on
        return due_on

    @staticmethod
    def pace(org_id: int) -> float:
        """How much later (and less satisfying) than average a body works: 0.4 to 2.4, fixed per
        body, so units and counties differ from each other as real ones do."""
        return 0.4 + (org_id * 7919 % 17) / 8

    def _rating(self, outcome: str, org_id: int) -> str:
        r, pace = self.rng.random(), self.pace(org_id)
        dissatisfied = DISSATISFIED_SHARE[outcome] * pace
        if r < dissatisfied:
            return "dissatisfied"
        return "satisfied" if r < dissatisfied + SATISFIED_SHARE[outcome] / pace else "basically_satisfied"

    def dues_of(self, office_id: int, received_on: dt.date, steps: tuple) -> tuple[int, ...]:
        """Petition.due_on after registration and after each bulk step, as the services set it."""
        dues = [self.due(Step.DISPOSAL, received_on, office_id).toordinal()]
        unit = office_id
        for action, moment, argument in steps:
            day = dt.date.fromisoformat(moment[:10])
            if action in {"forward", "assign"}:
                unit = int(argument)
                dues.append(self.due(Step.UNIT_ACCEPTANCE, day, unit).toordinal())
            elif action in {"accept", "unit_accept"}:
                org = office_id if action == "accept" else unit
                dues.append(self.due(Step.HANDLING, day, org).toordinal())
            else:
                dues.append(0)  # a final state or the petitioner's window: no staff deadline
        return tuple(dues)

    # --- moments -----------------------------------------------------------------------------

    def moment(self, day: dt.date) -> str:
        """An office-hours moment of ``day`` (local time, ISO 8601 with the zone's offset)."""
        seconds = 8 * 3600 + 1800 + int(self.rng.random() * 8 * 3600)
        ordinal = day.toordinal()
        offset = self._offsets.get(ordinal)
        if offset is None:
            noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=self.tz)
            offset = self._offsets[ordinal] = noon.isoformat()[-6:]
        return f"{day.isoformat()} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{offset}"

    def _days(self, low: int, high: int) -> dt.timedelta:
        return dt.timedelta(days=low + int(self.rng.random() * (high - low + 1)))

    def served(self, issued: dt.date) -> dt.date | None:
        """The day a letter or opinion issued on ``issued`` reached the petitioner; None if not yet
        (after yesterday, or one of the recent ones still on its way)."""
        rng = self.rng
        if issued >= self.yesterday - dt.timedelta(days=UNSERVED_RECENT_DAYS) and (
            rng.random() < UNSERVED_RECENT_SHARE
        ):
            return None
        day = issued + (self._days(6, 14) if rng.random() < LATE_POST_SHARE else self._days(1, 5))
        return day if day <= self.yesterday else None

    # --- the story ---------------------------------------------------------------------------

    def tell(
        self,
        *,
        office_id: int,
        unit_id: int | None,
        received_on: dt.date,
        registered_at: str,
        purpose: str,
        subject_organisation_id: int | None,
    ) -> Story:
        """The story of one petition, from its registration up to yesterday."""
        rng = self.rng
        if unit_id is not None and purpose == Purpose.REPORT and subject_organisation_id == unit_id:
            unit_id = None  # a report is never sent to the accused body (条例 Art. 30 ¶3)
        choice = (self._with_unit if unit_id else self._without_unit)[int(rng.random() * 100)]
        drive = False
        if (
            self.drive_left > 0
            and office_id == self.drive_office_id
            and (unit_id in self.drive_unit_ids or choice not in {"forward", "assign"})
        ):
            # A steady fraction of the eligible stories, so the sample spreads over the two years
            # (some still open today) instead of taking the oldest ones.
            self._credit += self.drive_rate
            if self._credit >= 1:
                self._credit -= 1
                drive = True
        if drive:
            self.drive_left -= 1
        self._office = office_id  # rated by the petitioner with the handling body
        d = _Draft(steps=[], status=Status.REGISTERED, due_on=self.due(Step.DISPOSAL, received_on, office_id))
        self._disposal(d, choice, office_id, unit_id, dt.date.fromisoformat(registered_at[:10]), drive)
        if drive:
            # Replayed: written as registered, the services move it on (drive.py).
            disposal = self.due(Step.DISPOSAL, received_on, office_id)
            # Evaluation and review may interleave: replay them in the order of their moments.
            steps = tuple(sorted(d.steps, key=lambda step: step[1]))
            return Story(Status.REGISTERED, disposal.toordinal(), 0, steps, True, (disposal.toordinal(),))
        steps = tuple(d.steps)
        letter_id = 0
        if self.letter_ids is not None and any(step[0] == "reply" for step in steps):
            letter_id = next(self.letter_ids)
        dues = self.dues_of(office_id, received_on, steps)
        due_on = d.due_on.toordinal() if d.due_on else 0
        return Story(d.status, due_on, d.unit_id, steps, False, dues, letter_id)

    def _step(self, d: _Draft, action: str, day: dt.date, argument: str = "") -> bool:
        """Record ``action`` on ``day`` if that day has come (up to yesterday); False otherwise."""
        if day > self.yesterday:
            return False
        d.steps.append((action, self.moment(day), argument))
        return True

    def _disposal(
        self, d: _Draft, choice: str, office_id: int, unit_id: int | None, registered: dt.date, drive: bool
    ) -> None:
        rng = self.rng
        late = rng.random() < LATE_DISPOSAL * self.pace(office_id)
        day = registered + (self._days(16, 24) if late else self._days(1, 10))
        if not self._step(d, choice, day, str(unit_id) if choice in {"forward", "assign"} else ""):
            return
        if choice in FINAL_ACTIONS:
            d.status, d.due_on = FINAL_ACTIONS[choice], None
            return
        if choice == "accept":
            self._handling(d, office_id, day, drive, by_office=True)
            return
        assert unit_id is not None
        d.status = Status.FORWARDED if choice == "forward" else Status.ASSIGNED
        d.unit_id = unit_id
        d.due_on = self.due(Step.UNIT_ACCEPTANCE, day, unit_id)
        if drive and rng.random() < RETURN_SHARE:
            # 退回 within the objection window, overruled by the office a few days later.
            day += self._days(1, 3)
            if not self._step(d, "return", day) or not self._step(
                d, "overrule_return", day + self._days(1, 4)
            ):
                return
            day = step_date(d.steps[-1])
        late = rng.random() < LATE_ACCEPTANCE * self.pace(unit_id)
        day += self._days(17, 25) if late else self._days(1, 9)
        if not self._step(d, "unit_accept", day):
            return
        self._handling(d, unit_id, day, drive, assigned=choice == "assign")

    def _handling(
        self, d: _Draft, org_id: int, accepted: dt.date, drive: bool, *, assigned: bool = False,
        by_office: bool = False,
    ) -> None:  # fmt: skip
        rng = self.rng
        d.status, d.due_on = Status.ACCEPTED, self.due(Step.HANDLING, accepted, org_id)
        if drive and rng.random() < EXTENSION_SHARE:
            asked = accepted + self._days(30, 50)
            if not self._step(d, "request_extension", asked, str(10 + int(rng.random() * 21))):
                return
            if not self._step(d, "approve_extension", asked + self._days(1, 3)):
                return
            reply_day = accepted + self._days(55, 80)
        else:
            late = rng.random() < LATE_REPLY * self.pace(org_id)
            reply_day = accepted + (self._days(62, 75) if late else self._days(12, 56))
        # The argument: the outcome, the handling due date that ran (kept on the decision letter), and
        # the day of service with the evaluation window it opens (0: not served, no window yet) —
        # counted here, where the rule book is.  A replayed story serves through the services.
        result = self._outcomes[int(rng.random() * 100)]
        served = self.served(reply_day)
        evaluation_end = self.due(Step.EVALUATION, served, org_id) if served else None
        outcome = f"{result}:{d.due_on.toordinal()}"
        if not drive:
            outcome += f":{_ordinal(evaluation_end)}:{_ordinal(served)}"
        if not self._step(d, "reply", reply_day, outcome):
            return
        # The review-request window runs from service (appeals.serve_letter): none before.
        d.status, d.due_on = Status.REPLIED, None
        if assigned:
            self._step(d, "approve_completion", reply_day + self._days(1, 2))
        if served is None or (drive and not self._step(d, "serve_letter", served)):
            return  # not served yet: nothing runs, nobody evaluates or appeals yet
        d.due_on = window_end = self.due(Step.REVIEW_REQUEST, served, org_id)
        last = max(1, min(7, (evaluation_end - served).days))
        if drive and rng.random() < EVALUATION_SHARE:
            self._step(d, "evaluate", served + self._days(1, last))
        elif not drive and rng.random() < BULK_EVALUATION_SHARE:
            # The argument: the ratings of the office and of the handling body.
            ratings = f"{self._rating(result, self._office)},{self._rating(result, org_id)}"
            self._step(d, "evaluate", served + self._days(1, last), ratings)
        if drive and rng.random() < REVIEW_SHARE:
            self._appeals(d, served, recheck=not by_office)
            return
        # Nobody asked for a review in time: the office concludes the matter (Art. 36 ¶3).
        if self._step(d, "conclude", window_end + self._days(1, 20), "review_lapsed"):
            d.status, d.due_on = Status.CONCLUDED, None

    def _appeals(self, d: _Draft, served: dt.date, *, recheck: bool) -> None:
        """Replayed stories only: review, then perhaps recheck with a hearing (the services count
        their deadlines; the steps keep within the petitioner's windows, which run from the service
        of the letter and of the review opinion).  The office's own reply is reviewed by the city;
        its recheck would be the province's, which has no demo account."""
        rng = self.rng
        asked = served + self._days(5, 25)
        if not self._step(d, "request_review", asked):
            return
        reviewed = asked + self._days(10, 28)
        outcome = "uphold" if rng.random() < 0.8 else "change"
        if not self._step(d, "review", reviewed, outcome):
            return
        opinion_served = self.served(reviewed)
        if opinion_served is None or not self._step(d, "serve_opinion", opinion_served):
            return  # the opinion is on its way: the recheck window has not started
        if not recheck or rng.random() >= RECHECK_SHARE:
            # 30 days from service, moved past a holiday at most a week or so by the engine.
            self._step(d, "conclude", opinion_served + self._days(45, 60), "recheck_lapsed")
            return
        asked = opinion_served + self._days(5, 25)
        if not self._step(d, "request_recheck", asked):
            return
        day = asked
        if rng.random() < HEARING_SHARE:
            day += self._days(5, 12)
            if not self._step(d, "start_hearing", day):
                return
            day += self._days(1, 3)
            if not self._step(d, "end_hearing", day):
                return
        rechecked = day + self._days(5, 20)
        if self._step(d, "recheck", rechecked, "uphold" if rng.random() < 0.85 else "change"):
            final_served = self.served(rechecked)  # final: its service only records the day
            if final_served is not None:
                self._step(d, "serve_opinion", final_served)


def _ordinal(day: dt.date | None) -> int:
    return day.toordinal() if day is not None else 0


def step_date(step: tuple[str, str, str]) -> dt.date:
    return dt.date.fromisoformat(step[1][:10])
