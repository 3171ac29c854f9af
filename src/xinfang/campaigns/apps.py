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

        from .models import CampaignStatus
        from .panels import panels
        from .services import AUDIT_ACTIONS

        # "from"/"to" are a petition's statuses elsewhere; a campaign's codes do not collide with them.
        statuses = dict(CampaignStatus.choices)
        labels.register(actions=AUDIT_ACTIONS, values={"from": statuses, "to": statuses})
        worklists.register("campaigns", panels)
        from django.db.models import OuterRef

        from xinfang.core import page_memo

        from .models import CampaignCase, ReliefApplication

        # The petition page's campaigns panel asks nothing when there is neither (core.page_memo).
        page_memo.probe_empty("campaign_cases", lambda: CampaignCase.objects.filter(petition=OuterRef("pk")))
        page_memo.probe_empty(
            "relief_applications", lambda: ReliefApplication.objects.filter(petition=OuterRef("pk"))
        )
