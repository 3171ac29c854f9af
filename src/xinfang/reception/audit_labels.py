"""The audit page's Chinese for what the reception app writes (audit/labels.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinfang.audit import labels

from .models import BookingStatus, OutreachKind, RuleKind

AUDIT_ACTIONS = {
    "reception.schedule_created": _("新建接待日安排"),
    "reception.schedule_changed": _("修改接待日安排"),
    "reception.session_cancelled": _("取消接待日"),
    "reception.leader_swapped": _("更换接待领导"),
    "reception.booked": _("群众预约接待"),
    "reception.booking_cancelled": _("群众取消预约"),
    "reception.booking_marked": _("标记预约到场情况"),
    "reception.visit_registered": _("接待来访登记为信访事项"),
    "reception.outreach_recorded": _("登记下访约访"),
    "reception.export": _("导出接待日台账"),
}


def register_audit_labels() -> None:
    labels.register(
        actions=AUDIT_ACTIONS,
        values={
            "reception_rule": dict(RuleKind.choices),
            "booking_status": dict(BookingStatus.choices),
            "previous_booking_status": dict(BookingStatus.choices),
            "outreach_kind": dict(OutreachKind.choices),
        },
    )
