"""The audit page's Chinese for the reports' actions (called from ``StatsConfig.ready``; kept apart
from ``reports.py`` so that starting the app does not import docxtpl and matplotlib)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

AUDIT_ACTIONS = {
    "stats.report": _("生成信访工作报告"),
    "stats.report_template": _("上传报告模板"),
    "stats.report_template.delete": _("删除报告模板"),
}


def register_audit_labels() -> None:
    from xinfang.audit import labels

    from .models import ReportKind

    labels.register(actions=AUDIT_ACTIONS, values={"kind": dict(ReportKind.choices)})
