"""Supervision (督办) and urging (催办): supervision notices and their feedback, automatic reminders
before and after staff deadlines, escalation, and the records of summons, circulated notices and
improvement recommendations (《信访工作条例》Arts. 39-40)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "xinfang.supervision"
    verbose_name = _("督办")

    def ready(self) -> None:
        # The engine checks these like the statutory transitions; workflow never imports this app.
        from xinfang.workflow.transitions import register

        from .actions import register_panel_actions
        from .audit_labels import register_audit_labels
        from .transitions import TRANSITIONS

        register(*TRANSITIONS)
        register_panel_actions()
        register_audit_labels()
        # Audit labels of urging and of 约谈/通报/建议 (helper S2's modules).
        from xinfang.audit import labels

        from . import accountability, urging

        labels.register(actions={**urging.AUDIT_ACTIONS, **accountability.AUDIT_ACTIONS})
        # A petition that ends ends the units' open supervision response deadlines (issue #9 §1).
        from xinfang.workflow.signals import transition_performed

        from .receivers import end_deadlines_of_ended_petition

        transition_performed.connect(
            end_deadlines_of_ended_petition, dispatch_uid="xinfang.supervision.end_deadlines"
        )
        # No notice on the petition: the page's supervision panel asks nothing (core.page_memo).
        from django.db.models import OuterRef

        from xinfang.core import page_memo

        from .models import SupervisionNotice

        page_memo.probe_empty(
            "supervision_notices", lambda: SupervisionNotice.objects.filter(petition=OuterRef("pk"))
        )
