"""Statistics, assessment and reports (issue #9): figures from pre-aggregated counts, every figure
drillable to the petitions behind it."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "xinfang.stats"
    label = "stats"
    verbose_name = _("统计分析")

    def ready(self) -> None:
        from xinfang.workflow.signals import transition_performed

        from .receivers import on_transition

        # Every action (and registration) marks the days whose figures it may change.
        transition_performed.connect(on_transition, dispatch_uid="xinfang.stats.on_transition")

        from .assessment import register_audit_labels as register_assessment_labels

        register_assessment_labels()

        from .report_labels import register_audit_labels as register_report_labels

        register_report_labels()
