from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InformationConfig(AppConfig):
    name = "xinfang.information"
    verbose_name = _("信访信息")

    def ready(self) -> None:
        # The audit page's Chinese for this app's codes, and its workbench panels (core.worklists):
        # both registries, so no lower app imports this one.
        from xinfang.audit import labels
        from xinfang.core import worklists

        from .models import ReportKind, ReportUse
        from .panels import panels
        from .services import AUDIT_ACTIONS

        labels.register(
            actions=AUDIT_ACTIONS,
            values={
                "kind": dict(ReportKind.choices),
                "use": dict(ReportUse.choices),
            },
        )
        worklists.register("information", panels)
        from django.db.models import OuterRef

        from xinfang.core import page_memo

        from .models import InformationReport

        # No report draws on the petition: its page's information panel asks nothing (core.page_memo).
        page_memo.probe_empty(
            "information_reports",
            lambda: InformationReport.petitions.through.objects.filter(petition_id=OuterRef("pk")),
        )
