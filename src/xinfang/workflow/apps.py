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
