"""Reception days (领导接待日, ``ReceptionSession``): schedules as rules over the legal calendar, rotas of
leaders, the public schedule and citizens' bookings on the portal (Art. 18), the day's bookings for the
clerk, and visits down and appointments (下访、约访) with their participants and petitions."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionConfig(AppConfig):
    name = "xinfang.reception"
    verbose_name = _("领导接待日")

    def ready(self) -> None:
        from xinfang.core import worklists

        from .audit_labels import register_audit_labels
        from .panels import reception_panels

        register_audit_labels()
        worklists.register("reception", reception_panels)
