"""The rows a bulk story leaves behind (stories.py): the petition's state, its assignment, the
decision letter, the unit's involvement and one timeline event per action — what the services
would have written, without calling them.

Pure computation (runs in the render workers).  The words people read (public notes, labels) are
translated once in the seeding process with the services' own message ids (``story_notes``) and
handed over in the render context.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Conclusion, EventKind, InvolvementReason, Status
from xinfang.workflow.backfill import Tick, derive
from xinfang.workflow.models import Rating, ReplyOutcome
from xinfang.workflow.services import review_notice

ASSIGNMENT_FIELDS = (
    "petition_id", "unit_id", "kind", "report_required", "report_due_on", "assigned_by_id", "assigned_at",
    "ended_at", "end_reason",
)  # fmt: skip
LETTER_FIELDS = (
    "id", "petition_id", "organisation_id", "outcome", "request_summary", "facts", "basis", "opinion",
    "review_notice", "issued_at", "issued_by_id", "handling_due_on", "evaluation_due_on", "served_on",
)  # fmt: skip
EVALUATION_FIELDS = (
    "petition_id", "letter_id", "office_id", "unit_id", "office_rating", "unit_rating", "reason", "source",
    "recorded_by_id", "recorded_at",
)  # fmt: skip
RECORD_FIELDS = (
    "petition_id", "kind", "organisation_id", "organisation_path", "started_on", "due_on", "closed_on",
    "closed_by_id", "outcome", "closed_by_action",
)  # fmt: skip
REPORT_DAYS = 35  # an assignment's completion report is due 35 to 65 days after it
DISSATISFIED_REASONS = ("诉求未得到解决，对处理结果不满意。", "办理时间过长，答复内容过于笼统。")
# Fields holding a moment (ISO 8601 text here), turned into datetimes for bulk_create.
DATETIME_FIELDS = frozenset(
    {"at", "created_at", "assigned_at", "ended_at", "issued_at", "registered_at", "recorded_at"}
)

# What the offices and units say in bulk stories (demo data, like texts.py: not translated).
DECLINE_REASONS = (
    "所反映事项已由其他机关依法受理，正在处理中。",
    "所反映事项不属于信访工作条例规定的信访事项。",
    "信访人未能提供相关事实依据，经告知后仍未补充。",
)
REDIRECT_CHANNELS = ("依法向人民法院提起诉讼", "依法申请劳动人事争议仲裁", "依法申请行政复议")
WITHDRAW_REASONS = ("信访人来电表示问题已协商解决，申请撤回。", "信访人书面申请撤回信访事项。")
LETTER_TEXTS = {
    "support": ("经调查核实，您反映的情况基本属实，有关单位存在工作不到位的问题。",
                "《信访工作条例》第三十二条及相关法律法规、政策规定",
                "支持您的合理诉求，已责成有关单位于三十日内整改落实，并将结果告知您。"),
    "explain": ("经调查核实，有关单位已按照现行政策规定办理，程序符合规定。",
                "相关法律法规及政策规定",
                "已向您解释说明有关政策规定及办理情况，请予理解和支持。"),
    "not_supported": ("经调查核实，您反映的问题缺乏事实依据。",
                      "相关法律法规及政策规定",
                      "您的请求不符合法律法规和政策规定，不予支持。"),
}  # fmt: skip


@dataclass(frozen=True)
class OrgInfo:
    """An office or department a story names: for rows and notes."""

    id: int
    name: str
    path: str
    review_notice: str  # services.review_notice(org): printed on its decision letters
    issuer_id: int  # who signs its decision letters (a handler of its own, else the seed's user)


def org_infos(
    organisations: list[Organisation], issuers: dict[int, int], fallback_issuer: int
) -> dict[int, OrgInfo]:
    return {
        o.pk: OrgInfo(o.pk, o.name, o.path, review_notice(o), issuers.get(o.pk, fallback_issuer))
        for o in organisations
    }


def story_notes() -> dict[str, str]:
    """The public notes of the story events, in the active language, with the services' msgids."""
    notes = {
        "forward": _("您的信访事项已转送{unit}办理。"),
        "assign": _("您的信访事项已交办{unit}办理。"),
        "accept": _("{office}已受理您的信访事项，将依法办理并书面答复。"),
        "unit_accept": _("{unit}已受理您的信访事项，将依法办理并书面答复。"),
        "decline": _("不予受理。理由：{reasons}"),
        "redirect": _("您反映的事项应当通过以下途径依法解决：{channel}"),
        "withdraw": _("信访人已撤回该信访事项。"),
        "reply": _("{unit}已对您的信访事项作出书面答复，处理结果：{outcome}。{notice}"),
        "conclude": _("该信访事项已终结（{reason}）。同一事实和理由的信访事项不再受理。"),
        "evaluate": _("已收到您的评价：对信访部门{office}，对办理单位{unit}。"),
    }
    notes.update({f"rating:{r.value}": str(r.label) for r in Rating})
    notes.update({f"outcome:{o.value}": str(o.label) for o in ReplyOutcome})
    notes.update({f"conclusion:{c.value}": str(c.label) for c in Conclusion})
    return notes


EVENT_OF = {
    "forward": EventKind.FORWARDED.value, "assign": EventKind.ASSIGNED.value,
    "accept": EventKind.ACCEPTED.value, "unit_accept": EventKind.ACCEPTED.value,
    "decline": EventKind.DECLINED.value,
    "redirect": EventKind.REDIRECTED.value, "withdraw": EventKind.WITHDRAWN.value,
    "reply": EventKind.REPLIED.value, "approve_completion": EventKind.COMPLETION_APPROVED.value,
    "conclude": EventKind.CONCLUDED.value, "evaluate": EventKind.EVALUATED.value,
}  # fmt: skip
TARGET_OF = {
    "forward": Status.FORWARDED.value, "assign": Status.ASSIGNED.value, "accept": Status.ACCEPTED.value,
    "unit_accept": Status.ACCEPTED.value, "decline": Status.DECLINED.value,
    "redirect": Status.REDIRECTED.value, "withdraw": Status.WITHDRAWN.value, "reply": Status.REPLIED.value,
    "approve_completion": Status.REPLIED.value, "conclude": Status.CONCLUDED.value,
    "evaluate": Status.REPLIED.value,
}  # fmt: skip


class StoryRows(NamedTuple):
    version: int
    updated_at: str
    conclusion: str
    concluded_on: dt.date | None
    involvements: list[tuple]
    events: list[tuple]
    assignments: list[tuple]
    letters: list[tuple]
    evaluations: list[tuple]
    records: list[tuple]


def story_rows(
    *,
    petition_id: int,
    office_id: int,
    title: str,
    registered_at: str,
    clerk: int | None,
    steps: tuple[tuple[str, str, str], ...],
    orgs: dict[int, OrgInfo],
    notes: dict[str, str],
    seed: int,
    received_on: dt.date,
    dues: tuple[int, ...],
    letter_id: int,
) -> StoryRows:
    """The rows of a bulk story's steps (``seed`` picks the words of declines and redirects)."""
    office = orgs[office_id]
    status = Status.REGISTERED.value
    handler = office  # who handles the matter: the unit once it accepted, else the office
    unit: OrgInfo | None = None
    involvements: list[tuple] = []
    events: list[tuple] = []
    assignments: list[list[Any]] = []
    letters: list[tuple] = []
    evaluations: list[tuple] = []
    conclusion, concluded_on = "", None
    at = registered_at
    ticks = [_register_tick(registered_at, dues[0], office_id, clerk)]
    for index, (action, at, argument) in enumerate(steps):
        target = TARGET_OF[action]
        data: dict[str, Any] = {"from": status, "to": target}
        actor: int | None = clerk
        org = office
        note, comment = "", ""
        if action in {"forward", "assign"}:
            unit = orgs[int(argument)]
            data["unit"] = unit.id
            report_due = None
            if action == "assign":  # 交办: the office sets the date of the completion report (Art. 22(3))
                report_due = dt.date.fromisoformat(at[:10]) + dt.timedelta(days=REPORT_DAYS + seed % 31)
                data["report_due_on"] = report_due.isoformat()
            assignments.append(
                [petition_id, unit.id, action, action == "assign", report_due, clerk, at, None, ""]
            )
            involvements.append((petition_id, unit.id, unit.path, InvolvementReason.UNIT.value, at))
            note = notes[action].format(unit=unit.name)
        elif action == "accept":
            note = notes["accept"].format(office=office.name)
        elif action == "unit_accept":
            assert unit is not None
            handler = org = unit
            actor = None
            note = notes["unit_accept"].format(unit=unit.name)
        elif action == "decline":
            reasons = DECLINE_REASONS[seed % len(DECLINE_REASONS)]
            note, data["reasons"] = notes["decline"].format(reasons=reasons), reasons
        elif action == "redirect":
            channel = REDIRECT_CHANNELS[seed % len(REDIRECT_CHANNELS)]
            note, data["channel"] = notes["redirect"].format(channel=channel), channel
        elif action == "withdraw":
            note, comment = notes["withdraw"], WITHDRAW_REASONS[seed % len(WITHDRAW_REASONS)]
        elif action == "reply":
            org = handler
            actor = handler.issuer_id
            # The outcome, the handling due date that ran, the evaluation window and the day of
            # service (0: not served yet — no window, appeals.serve_letter).
            argument, due, window, served = argument.split(":")
            handling_due = dt.date.fromordinal(int(due))
            facts, basis, opinion = LETTER_TEXTS[argument]
            letters.append((letter_id, petition_id, handler.id, argument, title, facts, basis, opinion,
                            handler.review_notice, at, handler.issuer_id, handling_due,
                            _day(window), _day(served)))  # fmt: skip
            note = notes["reply"].format(
                unit=handler.name, outcome=notes[f"outcome:{argument}"], notice=handler.review_notice
            )
            data["outcome"] = argument
        elif action == "evaluate":
            office_rating, unit_rating = argument.split(",")
            unhappy = "dissatisfied" in (office_rating, unit_rating)
            reason = DISSATISFIED_REASONS[seed % len(DISSATISFIED_REASONS)] if unhappy else ""
            by_staff = seed % 3 == 0  # a follow-up call (回访) recorded by the clerk, else the portal
            evaluations.append((petition_id, letter_id, office.id, handler.id, office_rating, unit_rating,
                                reason, "follow_up" if by_staff else "portal", clerk if by_staff else None,
                                at))  # fmt: skip
            actor = clerk if by_staff else None
            note = notes["evaluate"].format(
                office=notes[f"rating:{office_rating}"], unit=notes[f"rating:{unit_rating}"]
            )
            comment = reason
            data.update(office_rating=office_rating, unit_rating=unit_rating, source=evaluations[-1][7])
        elif action == "approve_completion":
            assert unit is not None
            assignments[-1][7], assignments[-1][8] = at, "completed"
            data["unit"] = unit.id
        elif action == "conclude":
            conclusion, concluded_on = argument, dt.date.fromisoformat(at[:10])
            if assignments and assignments[-1][7] is None:  # appeals._set_concluded ends it
                assignments[-1][7], assignments[-1][8] = at, "concluded"
            note = notes["conclude"].format(reason=notes[f"conclusion:{argument}"])
            data["conclusion"] = argument
        events.append((petition_id, at, EVENT_OF[action], actor, org.id, bool(note), note, comment, data))
        due_on = dt.date.fromordinal(dues[index + 1]) if dues[index + 1] else None
        body = unit.id if unit is not None else office.id  # deadline_records.responsible_body
        if target == Status.REGISTERED.value:
            body = office.id
        report = None  # the open assignment's completion report, as deadline_records reads it
        if assignments and assignments[-1][7] is None and assignments[-1][4] is not None:
            report = (assignments[-1][1], assignments[-1][4])
        ticks.append(
            Tick(action, dt.date.fromisoformat(at[:10]), status, target, due_on, body, actor, report)
        )
        status = target
    return StoryRows(
        version=1 + len(steps),
        updated_at=at,
        conclusion=conclusion,
        concluded_on=concluded_on,
        involvements=involvements,
        events=events,
        assignments=[tuple(a) for a in assignments],
        letters=letters,
        evaluations=evaluations,
        records=deadline_rows(petition_id, received_on, ticks, orgs),
    )


def _day(ordinal: str) -> dt.date | None:
    return dt.date.fromordinal(int(ordinal)) if int(ordinal) else None


def _register_tick(registered_at: str, due: int, office_id: int, clerk: int | None) -> Tick:
    day = dt.date.fromisoformat(registered_at[:10])
    return Tick("register", day, "", Status.REGISTERED.value, dt.date.fromordinal(due), office_id, clerk)


def registration_rows(
    *, petition_id: int, received_on: dt.date, registered_at: str, due: int, office_id: int,
    clerk: int | None, orgs: dict[int, OrgInfo],
) -> list[tuple]:  # fmt: skip
    """The deadline record of a petition written as just registered: the office's disposal."""
    tick = _register_tick(registered_at, due, office_id, clerk)
    return deadline_rows(petition_id, received_on, [tick], orgs)


def deadline_rows(
    petition_id: int, received_on: dt.date, ticks: list[Tick], orgs: dict[int, OrgInfo]
) -> list[tuple]:
    """RECORD_FIELDS rows: the records track would have written (one derivation with the backfill)."""
    return [
        (petition_id, r.kind, r.organisation_id, orgs[r.organisation_id].path, r.started_on, r.due_on,
         r.closed_on, r.closed_by_id, r.outcome, r.closed_by_action)
        for r in derive(received_on, ticks)
    ]  # fmt: skip


def copy_line(values: tuple, suffix: str, esc: Any) -> str:
    """One row in COPY text format (any table; the hot ones have their own below)."""
    return "\t".join(_literal(v, esc) for v in values) + suffix + "\n"


def copy_event(v: tuple, suffix: str, esc: Any) -> str:
    """An EVENT_FIELDS row in COPY text format: most of the story rows, so spelt out."""
    actor = "\\N" if v[3] is None else v[3]
    return (
        f"{v[0]}\t{v[1]}\t{v[2]}\t{actor}\t{v[4]}\t{'t' if v[5] else 'f'}\t{esc(v[6])}\t{esc(v[7])}\t"
        f"{esc(json.dumps(v[8]))}{suffix}\n"
    )


def copy_assignment(v: tuple, suffix: str, esc: Any) -> str:
    """An ASSIGNMENT_FIELDS row in COPY text format."""
    ended, due, by = ("\\N" if x is None else x for x in (v[7], v[4], v[5]))
    return f"{v[0]}\t{v[1]}\t{v[2]}\t{'t' if v[3] else 'f'}\t{due}\t{by}\t{v[6]}\t{ended}\t{v[8]}{suffix}\n"


def _literal(value: Any, esc: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dict):
        return esc(json.dumps(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return esc(value)
    return str(value)


def orm_row(fields: tuple[str, ...], values: tuple) -> dict[str, Any]:
    """One row as bulk_create field values: moments become datetimes."""
    row = dict(zip(fields, values, strict=True))
    for name in DATETIME_FIELDS.intersection(row):
        if isinstance(row[name], str):
            row[name] = dt.datetime.fromisoformat(row[name])
    return row
