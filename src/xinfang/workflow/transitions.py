"""The transition table of the statutory procedure (《信访工作条例》2022): which action may move a
petition from which state to which, and who may take it.

The table is data; ``engine.perform`` enforces it for every caller (staff pages, API, jobs).  Only
the first steps are here so far — disposal by the petition office and acceptance or objection by the
responsible unit; handling, reply, evaluation, review and recheck follow (issue #3).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import RoleCode
from xinfang.petitions.choices import EventKind, Status

# Who acts: the petition office that registered the petition, or the unit now responsible for it.
OFFICE = "office"
UNIT = "unit"

OFFICE_ROLES = frozenset({RoleCode.INTAKE, RoleCode.SUPERVISOR, RoleCode.LEADER})
UNIT_ROLES = frozenset({RoleCode.HANDLER, RoleCode.LEADER})


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[str]
    target: str
    side: str
    roles: frozenset[str]
    event: str
    article: str


def _t(action, label, sources, target, side, event, article) -> Transition:  # noqa: ANN001
    roles = OFFICE_ROLES if side == OFFICE else UNIT_ROLES
    return Transition(action, label, frozenset(sources), target, side, roles, event, article)


_DISPOSABLE = {Status.REGISTERED, Status.RETURNED}

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        # Art. 22: within 15 days of receipt the petition office forwards, assigns, accepts its own
        # matter, declines, or tells the petitioner the lawful channel.  A returned petition is
        # disposed of again (re-routed) after the office agrees with the objection (Art. 23 ¶3).
        _t("forward", _("转送"), _DISPOSABLE, Status.FORWARDED, OFFICE, EventKind.FORWARDED, "第二十二条"),
        _t("assign", _("交办"), _DISPOSABLE, Status.ASSIGNED, OFFICE, EventKind.ASSIGNED, "第二十二条"),
        _t("accept", _("受理"), _DISPOSABLE, Status.ACCEPTED, OFFICE, EventKind.ACCEPTED, "第二十二条"),
        _t("decline", _("不予受理"), _DISPOSABLE, Status.DECLINED, OFFICE, EventKind.DECLINED, "第二十二条"),
        _t("redirect", _("告知其他途径"), _DISPOSABLE, Status.REDIRECTED, OFFICE, EventKind.REDIRECTED,
           "第二十二条"),
        # Art. 23 ¶3: the unit confirms and accepts within 15 days, or objects within 5 working days.
        _t("unit_accept", _("确认受理"), {Status.FORWARDED, Status.ASSIGNED}, Status.ACCEPTED, UNIT,
           EventKind.ACCEPTED, "第二十三条第三款"),
        _t("return", _("退回（提出异议）"), {Status.FORWARDED, Status.ASSIGNED}, Status.RETURNED, UNIT,
           EventKind.RETURNED, "第二十三条第三款"),
        # The office overrules the objection: the matter goes back to the same unit.
        _t("overrule_return", _("不同意退回"), {Status.RETURNED}, Status.FORWARDED, OFFICE,
           EventKind.RETURN_OVERRULED, "第二十三条第三款"),
    ]
}  # fmt: skip
