"""The audit page's Chinese for what the screening app writes (audit/labels.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinfang.audit import labels

from .models import DisputeKind, DisputeStatus, RiskLevel

AUDIT_ACTIONS = {
    "dispute.created": _("登记矛盾纠纷"),
    "dispute.updated": _("修改矛盾纠纷"),
    "dispute.leader_set": _("确定矛盾纠纷包案领导"),
    "dispute.transition": _("变更矛盾纠纷状态"),
    "dispute.petition_linked": _("矛盾纠纷关联信访事项"),
    "dispute.party_revealed": _("查看矛盾纠纷当事人完整信息"),
    "dispute.exported": _("导出矛盾纠纷台账"),
    "screening.round_issued": _("下发排查任务"),
    "screening.return_completed": _("报送排查情况"),
    "screening.returns_exported": _("导出排查报送情况"),
    "screening.briefing_generated": _("生成矛盾纠纷排查通报"),
}


def register_audit_labels() -> None:
    labels.register(
        actions=AUDIT_ACTIONS,
        values={
            "dispute_status": dict(DisputeStatus.choices),
            "previous_status": dict(DisputeStatus.choices),
            "risk": dict(RiskLevel.choices),
            "dispute_kind": dict(DisputeKind.choices),
        },
    )
