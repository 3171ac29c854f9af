"""The workbench (工作台): the first page after login, each person's work for today.  Reads only,
through selectors of the apps below it."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    name = "xinfang.workbench"
    verbose_name = _("工作台")

    def ready(self) -> None:
        from xinfang.audit import labels

        # The audit page names the export in Chinese (XLSX of a workbench section or the queue).
        labels.register(actions={"petition.export": _("导出信访事项清单")})
