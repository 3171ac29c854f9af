"""The dispute screening ledger (矛盾纠纷排查台账): ``Dispute`` records, separate from petitions because
most disputes never become one, screening rounds that each unit completes, quarterly briefings (通报),
and the 排查率 / 化解率 figures per unit."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "xinfang.screening"
    verbose_name = _("矛盾纠纷排查")

    def ready(self) -> None:
        from xinfang.core import worklists

        from .audit_labels import register_audit_labels
        from .panels import provider

        register_audit_labels()
        worklists.register("screening", provider)
