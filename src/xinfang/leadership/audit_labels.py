"""The audit page's Chinese for what leadership writes (audit/labels.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinfang.audit import labels

AUDIT_ACTIONS = {
    "leadership.contract_opened": _("领导包案"),
    "leadership.contract_progress": _("填报包案进展"),
    "leadership.milestone_done": _("完成包案节点"),
    "leadership.contract_closed": _("办结包案"),
    "leadership.policy_set": _("设置包案要求"),
    "leadership.instruction_issued": _("领导阅批"),
    "leadership.instruction_answered": _("回复领导阅批"),
    "leadership.instruction_returned": _("阅批要求继续办理"),
    "leadership.instruction_closed": _("阅批已阅办结"),
    "leadership.shift_saved": _("安排值班"),
    "leadership.duty_logged": _("填写值班记录"),
    "leadership.export": _("导出包案、阅批或值班台账"),
}


def register_audit_labels() -> None:
    labels.register(actions=AUDIT_ACTIONS)
