"""Automatic urging (系统催办, issue #8 §3): the daily pass over every staff deadline.

For every open petition whose ``due_on`` is a deadline **staff** must meet
(``petitions.choices.STAFF_DEADLINE_STATUSES``; a petitioner's review window is never urged) the
pass raises a ``Reminder``:

* ``before``  — ``XINFANG_URGE_DAYS_BEFORE`` working days (default 3) before the deadline, once;
* ``due``     — on the day of the deadline, once;
* ``overdue`` — every working day the deadline stays missed.

and, for the reminders it raised itself, rings the bell of the petition's handler (承办人) and of
the leaders of the handling body (the open assignment's unit, else the registering office; for a
department without leader accounts of its own, the leaders of the body above it), writes
one internal ``urged`` event on the petition's timeline ("系统催办"), and e-mails each recipient one
digest of what is due today or overdue.

Everything is **set-based SQL** (a handful of ``INSERT … SELECT`` statements whatever the number of
petitions; the date thresholds are computed once in Python with the legal calendar) and runs in
**one transaction**: a pass killed halfway leaves nothing, and the next pass does the whole work.
The unique constraints of ``Reminder`` and of the notifications' ``dedupe_key`` make a second pass
— the same day, or at the same moment on another worker — insert nothing again
(``ON CONFLICT DO NOTHING``, SQLite ≥ 3.24 and PostgreSQL).  "Overdue" itself is no stored flag:
it is computed from ``due_on`` and ``status`` wherever it is shown.

On a non-working day the pass raises nothing: nobody is at work to act, and the next working day's
pass catches up ("before" and "due" are once per deadline, not once per calendar day).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.services import record_event
from xinfang.organisations.choices import OrganisationKind, RoleCode
from xinfang.petitions.choices import STAFF_DEADLINE_STATUSES, EventKind
from xinfang.petitions.models import Petition
from xinfang.workflow import calendar

from .models import Reminder, ReminderStep

log = logging.getLogger(__name__)

ALL_STEPS = (ReminderStep.BEFORE, ReminderStep.DUE, ReminderStep.OVERDUE)
# Notification kinds, one per step (the bell can filter or style them).
NOTIFICATION_KIND = "urge_{step}"
# Steps that also send the daily e-mail digest: "before" is a heads-up, the bell is enough.
EMAIL_STEPS = (ReminderStep.DUE, ReminderStep.OVERDUE)


# The audit page's Chinese for the pass's summary row (registered in SupervisionConfig.ready).
AUDIT_ACTIONS = {"supervision.urge_pass": gettext_lazy("系统催办（每日）")}


@dataclass(frozen=True)
class UrgingPolicy:
    """Which reminders the pass raises (settings ``XINFANG_URGE_DAYS_BEFORE``, ``XINFANG_URGE_STEPS``)."""

    days_before: int = 3
    steps: frozenset[str] = frozenset(ALL_STEPS)

    @classmethod
    def from_settings(cls) -> UrgingPolicy:
        steps = getattr(settings, "XINFANG_URGE_STEPS", None) or [str(s) for s in ALL_STEPS]
        unknown = set(steps) - {str(s) for s in ALL_STEPS}
        if unknown:
            raise ValueError(f"XINFANG_URGE_STEPS: unknown steps {sorted(unknown)}")
        return cls(days_before=int(getattr(settings, "XINFANG_URGE_DAYS_BEFORE", 3)), steps=frozenset(steps))


@dataclass(frozen=True)
class Thresholds:
    """The pass's date window: petitions with ``lowest <= due_on <= horizon`` (minus ``skip``)."""

    today: dt.date
    horizon: dt.date  # the furthest deadline urged "before"
    lowest: dt.date | None  # None: every overdue deadline
    skip_today: bool  # the "due" step is switched off


def thresholds(today: dt.date, policy: UrgingPolicy) -> Thresholds:
    """The window of deadlines one pass on ``today`` urges, from the legal calendar."""
    before = ReminderStep.BEFORE in policy.steps and policy.days_before > 0
    horizon = calendar.add_working_days(today, policy.days_before) if before else today
    if ReminderStep.OVERDUE in policy.steps:
        lowest = None
    elif ReminderStep.DUE in policy.steps:
        lowest = today
    else:
        lowest = today + dt.timedelta(days=1)
    return Thresholds(
        today=today, horizon=horizon, lowest=lowest, skip_today=ReminderStep.DUE not in policy.steps
    )


def _rowcount(cursor: Any) -> int:
    """Rows the last INSERT wrote.  Python's sqlite3 reports -1 for a statement that starts with
    WITH (it does not recognise it as an INSERT), so SQLite is asked directly."""
    if cursor.rowcount >= 0:
        return cursor.rowcount
    cursor.execute("SELECT changes()")
    return int(cursor.fetchone()[0])


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _date(value: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _stamp(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _text(expr: str) -> str:
    """A column as text for concatenation (dates print as YYYY-MM-DD on both databases)."""
    return f"CAST({expr} AS TEXT)"


def _json_object(*pairs: tuple[str, str]) -> str:
    """A JSON object built in SQL from (key, SQL expression) pairs, for a JSONField column."""
    args = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    if connection.vendor == "postgresql":
        return f"json_build_object({args})::jsonb"
    return f"json_object({args})"


def _step_case(column: str, labels: dict[str, str]) -> tuple[str, list[str]]:
    """``CASE column WHEN 'before' THEN %s …`` with the labels as parameters."""
    sql = f"CASE {column} WHEN 'before' THEN %s WHEN 'due' THEN %s ELSE %s END"
    return sql, [labels["before"], labels["due"], labels["overdue"]]


# The reminders of this run with what the messages need: petition number and title, its handler
# and the handling body (the open assignment's unit, else the registering office).  The leaders
# told are those of the handling body; a body with no leader account of its own (a department
# whose leaders are on its government's staff list, as engine.leader_line reads it) passes the
# reminder to the leaders of the body directly above it, unless it is itself a level of government.
# UNION ALL, not UNION: a handler who is also a leader appears twice, and the notifications'
# unique (user, dedupe_key) drops the second row far cheaper than sorting every row to find it.
_RUN_CTE = """
run AS (
    SELECT r.petition_id, r.due_on, r.step, r.{on} AS raised_on, p.number, p.title, p.handler_id,
           COALESCE(a.unit_id, p.office_id) AS body_id
    FROM supervision_reminder r
    JOIN petitions_petition p ON p.id = r.petition_id
    LEFT JOIN workflow_assignment a ON a.petition_id = r.petition_id AND a.ended_at IS NULL
    WHERE r.created_at = %s
),
leaders AS (
    SELECT u.id, u.organisation_id
    FROM organisations_user u
    JOIN organisations_user_roles ur ON ur.user_id = u.id AND ur.role_id = %s
    WHERE u.is_active = %s AND u.organisation_id IS NOT NULL
),
recipients AS (
    SELECT run.petition_id, u.id AS user_id
    FROM run JOIN organisations_user u ON u.id = run.handler_id
    WHERE u.is_active = %s
    UNION ALL
    SELECT run.petition_id, l.id AS user_id
    FROM run JOIN leaders l ON l.organisation_id = run.body_id
    WHERE l.id IS NOT NULL
    UNION ALL
    SELECT run.petition_id, l.id AS user_id
    FROM run
    JOIN organisations_organisation o ON o.id = run.body_id
    JOIN leaders l ON l.organisation_id = o.parent_id
    WHERE o.kind NOT IN (%s, %s)
      AND NOT EXISTS (SELECT 1 FROM leaders own WHERE own.organisation_id = run.body_id)
)
"""


def _run_cte(stamp: Any) -> tuple[str, list[Any]]:
    areas = [str(OrganisationKind.GOVERNMENT), str(OrganisationKind.PARTY)]  # Organisation.is_area
    return _RUN_CTE.format(on=_q("on")), [stamp, str(RoleCode.LEADER), True, True, *areas]


def _insert_reminders(t: Thresholds, stamp: Any) -> int:
    statuses = sorted(str(s) for s in STAFF_DEADLINE_STATUSES)
    where = [f"p.status IN ({', '.join(['%s'] * len(statuses))})", "p.due_on IS NOT NULL", "p.due_on <= %s"]
    params: list[Any] = [_date(t.today), _date(t.today), _date(t.today), stamp, *statuses, _date(t.horizon)]
    if t.lowest is not None:
        where.append("p.due_on >= %s")
        params.append(_date(t.lowest))
    if t.skip_today:
        where.append("p.due_on <> %s")
        params.append(_date(t.today))
    # SQLite's parser needs the WHERE before ON CONFLICT in an INSERT … SELECT (it would read ON as
    # a join constraint); the statement always has one.
    # Only fixed SQL fragments and quoted names are interpolated; every value is a parameter.
    sql = f"""
        INSERT INTO supervision_reminder (petition_id, due_on, step, {_q("on")}, created_at)
        SELECT p.id, p.due_on,
               CASE WHEN p.due_on < %s THEN 'overdue' WHEN p.due_on = %s THEN 'due' ELSE 'before' END,
               %s, %s
        FROM petitions_petition p
        WHERE {" AND ".join(where)}
        ON CONFLICT DO NOTHING
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _rowcount(cursor)


def _detail_url_parts() -> tuple[str, str]:
    """The petition page's URL around the number, so SQL can build it per row."""
    marker = "__NUMBER__"
    url = reverse("petitions:detail", args=[marker])
    prefix, _marker, suffix = url.partition(marker)
    return prefix, suffix


def _insert_notifications(stamp: Any) -> int:
    cte, cte_params = _run_cte(stamp)
    titles, title_params = _step_case(
        "run.step",
        {"before": _("【催办】即将到期："), "due": _("【催办】今日到期："), "overdue": _("【催办】已超期：")},
    )
    states, state_params = _step_case(
        "run.step", {"before": _("即将到期"), "due": _("今日到期"), "overdue": _("已超期")}
    )
    prefix, suffix = _detail_url_parts()
    # Only fixed SQL fragments and quoted names are interpolated; every value is a parameter.
    sql = f"""
        WITH {cte}
        INSERT INTO notifications_notification
            (user_id, kind, title, body, url, petition_id, created_at, read_at, dedupe_key)
        SELECT rc.user_id,
               'urge_' || run.step,
               {titles} || run.number,
               %s || run.title || %s || {_text("run.due_on")} || %s || {states} || %s,
               %s || run.number || %s,
               run.petition_id, %s, NULL,
               'urge:' || {_text("run.petition_id")} || ':' || {_text("run.due_on")} || ':' || run.step
                   || ':' || {_text("run.raised_on")}
        FROM run JOIN recipients rc ON rc.petition_id = run.petition_id
        WHERE rc.user_id IS NOT NULL
        ON CONFLICT DO NOTHING
    """  # noqa: S608
    params = [
        *cte_params,
        *title_params,
        _("信访事项“"),
        _("”的办理时限为 "),
        _("，"),
        *state_params,
        _("。请承办人抓紧办理，单位领导督促落实；办结、转入下一环节或获批延期后不再催办。"),
        prefix,
        suffix,
        stamp,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _rowcount(cursor)


def _insert_events(stamp: Any) -> int:
    states, state_params = _step_case(
        "r.step", {"before": _("即将到期"), "due": _("今日到期"), "overdue": _("已超期")}
    )
    data = _json_object(("step", "r.step"), ("due_on", _text("r.due_on")), ("on", _text(f"r.{_q('on')}")))
    # Only fixed SQL fragments and quoted names are interpolated; every value is a parameter.
    sql = f"""
        INSERT INTO petitions_petitionevent
            (petition_id, at, kind, actor_id, organisation_id, is_public, public_note, comment, data)
        SELECT r.petition_id, %s, %s, NULL, NULL, %s, '',
               %s || {states} || %s || {_text("r.due_on")},
               {data}
        FROM supervision_reminder r
        WHERE r.created_at = %s
    """  # noqa: S608
    params = [stamp, str(EventKind.URGED), False, _("系统催办："), *state_params, _("，办理时限 "), stamp]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _rowcount(cursor)


def _email_digests(stamp: Any, today: dt.date, now: dt.datetime) -> int:
    """One e-mail per recipient with what is due today or overdue (not one per petition: a unit
    with two hundred overdue petitions gets one message).  The rows are as many as recipients, not
    petitions, so building them in Python stays cheap; they go to the notifications outbox and are
    sent by the worker after the commit."""
    from xinfang.notifications.models import Channel, OutboxMessage
    from xinfang.notifications.services import mask_email, queue_messages
    from xinfang.organisations.models import User

    cte, cte_params = _run_cte(stamp)
    # Only fixed SQL fragments and quoted names are interpolated; every value is a parameter.
    sql = f"""
        WITH {cte}
        SELECT rc.user_id, run.step, COUNT(DISTINCT run.petition_id)
        FROM run JOIN recipients rc ON rc.petition_id = run.petition_id
        WHERE run.step IN (%s, %s)
        GROUP BY rc.user_id, run.step
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cte_params, *(str(s) for s in EMAIL_STEPS)])
        rows = cursor.fetchall()
    if not rows:
        return 0
    per_user: dict[int, dict[str, int]] = {}
    for user_id, step, count in rows:
        per_user.setdefault(user_id, {})[step] = count
    _sms_overdue(per_user, today, now)
    emails = dict(
        User.objects.filter(pk__in=per_user, is_active=True).exclude(email="").values_list("id", "email")
    )
    base = (getattr(settings, "XINFANG_SITE_URL", "") or "").rstrip("/")
    link = base + reverse("home")
    messages = []
    for user_id, address in emails.items():
        counts = per_user[user_id]
        due, overdue = counts.get(ReminderStep.DUE, 0), counts.get(ReminderStep.OVERDUE, 0)
        subject = _("【催办】今日到期 %(due)d 件，已超期 %(overdue)d 件") % {"due": due, "overdue": overdue}
        body = _(
            "您或您所在单位承办的信访事项中，今日到期 %(due)d 件，已超期 %(overdue)d 件。"
            "请登录信访工作平台查看工作台的“即将到期”和“已超期”清单并抓紧办理：%(link)s"
        ) % {"due": due, "overdue": overdue, "link": link}
        messages.append(
            OutboxMessage(
                channel=Channel.EMAIL,
                recipient=address,
                recipient_mask=mask_email(address),
                subject=subject,
                body=body,
                template_code="urge_digest",
                dedupe_key=f"urge:digest:{today.isoformat()}:{user_id}",
                created_at=now,
                next_attempt_at=now,
            )
        )
    return len(queue_messages(messages))


def _sms_overdue(per_user: dict[int, dict[str, int]], today: dt.date, now: dt.datetime) -> int:
    """Overdue work is urgent (issue #8 §4): one SMS a day to each recipient with overdue petitions
    who has a mobile on record, beside the e-mail digest.  Returns the messages queued."""
    from xinfang.notifications.services import queue_staff_sms
    from xinfang.organisations.models import User

    overdue = {uid: c[ReminderStep.OVERDUE] for uid, c in per_user.items() if c.get(ReminderStep.OVERDUE)}
    if not overdue:
        return 0
    queued = 0
    for user in (
        User.objects.filter(pk__in=overdue, is_active=True).exclude(mobile_mask="").only("id", "mobile_mask")
    ):
        text = _("【催办】您承办的信访事项已超期 %(n)d 件，请登录信访工作平台办理。") % {
            "n": overdue[user.pk]
        }
        queued += len(
            queue_staff_sms(
                [user],
                text,
                dedupe_key=f"urge:overdue:{today.isoformat()}",
                now=now,
                template_code="urge_overdue_sms",
            )
        )
    return queued


def run_urge_pass(today: dt.date | None = None, policy: UrgingPolicy | None = None) -> dict[str, int]:
    """Raise today's reminders and notify for them, all in one transaction.

    Returns counts: ``reminders`` (and per step ``before``/``due``/``overdue``), ``notifications``,
    ``events``, ``emails``; ``skipped`` is 1 on a non-working day (nothing is raised).
    """
    today = today or timezone.localdate()
    policy = policy or UrgingPolicy.from_settings()
    counts = {"reminders": 0, "before": 0, "due": 0, "overdue": 0, "notifications": 0, "events": 0}
    counts |= {"emails": 0, "skipped": 0}
    if not calendar.is_working_day(today):
        counts["skipped"] = 1
        return counts
    t = thresholds(today, policy)
    # One timestamp for every row of this pass: how the later statements find "this run's"
    # reminders (two passes never share a microsecond; if they did, the rows would be the same).
    now = timezone.now()
    stamp = _stamp(now)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Check the foreign keys as each row goes in, not at commit: a deferred check would
            # take its key-share locks on the petitions only after this pass holds the audit
            # chain's head, while a user's action holds its petition FOR UPDATE and waits for
            # that head — a deadlock.  Checked now, the pass waits for the action (or the action
            # for the pass) and both go through.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        counts["reminders"] = _insert_reminders(t, stamp)
        if counts["reminders"]:
            for step, n in _counts_by_step(now):
                counts[step] = n
            counts["notifications"] = _insert_notifications(stamp)
            counts["events"] = _insert_events(stamp)
            counts["emails"] = _email_digests(stamp, today, now)
        record_event(actor=None, action="supervision.urge_pass", data={"today": today.isoformat(), **counts})
    log.info("urge pass %s: %s", today, counts)
    return counts


def _counts_by_step(now: dt.datetime) -> list[tuple[str, int]]:
    from django.db.models import Count

    # No ordering: the model's default (by petition) would join the petitions for nothing.
    rows = Reminder.objects.filter(created_at=now).order_by().values("step").annotate(n=Count("id"))
    return list(rows.values_list("step", "n"))


def reminders_for(petition: Petition) -> list[Reminder]:
    """A petition's reminders, newest first, for the "催办记录" list on its page (the caller has
    already checked that the user may see the petition)."""
    return list(Reminder.objects.filter(petition=petition).order_by("-on", "-id")[:50])
