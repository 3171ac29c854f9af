from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "xinfang.audit"
    label = "audit"
    verbose_name = _("审计")

    def ready(self) -> None:
        from xinfang.core.partitions import register_drop_hook

        from . import checks  # noqa: F401 - registers the deploy check of the audit key
        from .retention import record_drop

        # Every partition dropped by retention is audited, with the chain's checkpoint for the
        # audit log's own months (core may not import audit: floors).
        register_drop_hook(record_drop)
