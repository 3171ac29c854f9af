"""Campaigns on backlog (专项行动、积案化解): the office's definition of a backlog case (积案) and the
list it selects, campaigns with their cases, targets, resolution categories and closing report, and
help after conclusion (信访救助, Art. 37)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "xinfang.campaigns"
    verbose_name = _("专项行动")

    def ready(self) -> None:
        from xinfang.audit import labels
        from xinfang.core import worklists

        from .panels import panels
        from .services import AUDIT_ACTIONS

        # Only action codes: value labels are keyed by field name across the site, and "from"/"to"
        # mean other things elsewhere.
        labels.register(actions=AUDIT_ACTIONS)
        worklists.register("campaigns", panels)
