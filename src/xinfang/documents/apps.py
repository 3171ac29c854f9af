"""Documents (文书): the letters and forms the procedure issues — numbered, approved, printed,
served — and the petitioner's windows counted from service (issue #10)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "xinfang.documents"
    verbose_name = _("文书")

    def ready(self) -> None:
        from . import kinds_table  # noqa: F401 — registers every kind in kinds.KINDS
        from .audit_labels import register_audit_labels

        register_audit_labels()
        from .views import register_panel_links

        register_panel_links()  # the action panel's reply/review/recheck link to their document
        from django.db.models import OuterRef

        from xinfang.core import page_memo
        from xinfang.workflow.models import ExtensionDecision, ExtensionRequest

        from .models import Document

        # No document, no approved extension: the page's document panel asks nothing of them.
        page_memo.probe_empty("documents", lambda: Document.objects.filter(petition=OuterRef("pk")))
        page_memo.probe_empty(
            "approved_extension",
            lambda: ExtensionRequest.objects.filter(
                petition=OuterRef("pk"), decision=ExtensionDecision.APPROVED
            ),
            empty=lambda: None,
        )
