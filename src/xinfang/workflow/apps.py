from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "xinfang.workflow"
    label = "workflow"
    verbose_name = _("办理流程")

    def ready(self) -> None:
        from .audit_labels import register_audit_labels

        register_audit_labels()  # the audit page names the procedure's actions in Chinese
        from .agreement_form import register_panel_action

        register_panel_action()  # 记录调解和解协议 in the action panel, with its own fields
        register_page_probes()


def register_page_probes() -> None:
    """What the petition page learns in its own query (core.page_memo): no letters, appeals,
    assignments or recusals, so no query for them."""
    from django.db.models import OuterRef

    from xinfang.core import page_memo
    from xinfang.petitions.models import Recusal

    from .models import Appeal, Assignment, DecisionLetter

    page_memo.probe_empty("decision_letters", lambda: DecisionLetter.objects.filter(petition=OuterRef("pk")))
    page_memo.probe_empty("appeals", lambda: Appeal.objects.filter(petition=OuterRef("pk")))
    page_memo.probe_empty(
        "assignment_kinds", lambda: Assignment.objects.filter(petition=OuterRef("pk")), empty=set
    )
    page_memo.probe_empty("recusals", lambda: Recusal.objects.filter(petition=OuterRef("pk")))
