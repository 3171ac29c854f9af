"""Cases referred from above (上级交办) and their report back, between two Xinfang installations or
with another platform, over the HTTP API with system accounts (docs/api.md, "Exchange")."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "xinfang.exchange"
    verbose_name = _("上级交办")

    def ready(self) -> None:
        from xinfang.audit import labels
        from xinfang.core import worklists

        from .panels import received_panel

        worklists.register("exchange", received_panel)
        from django.db.models import OuterRef

        from xinfang.core import page_memo

        from .models import OutboundReferral, Peer, Referral

        # The petition page's exchange panel asks nothing when there is nothing (core.page_memo).
        page_memo.probe_empty(
            "referral", lambda: Referral.objects.filter(petition=OuterRef("pk")), empty=lambda: None
        )
        page_memo.probe_empty(
            "outbound_referrals", lambda: OutboundReferral.objects.filter(petition=OuterRef("pk"))
        )
        page_memo.probe_empty(
            "open_peers",
            lambda: Peer.objects.filter(is_enabled=True).exclude(base_url=""),
            empty=lambda: False,
        )
        labels.register(
            actions={
                "exchange.peer_create": _("新增对接平台"),
                "exchange.peer": _("修改对接平台"),
                "exchange.receive": _("接收上级交办"),
                "exchange.draft_report": _("起草上级交办事项办理情况报告"),
                "exchange.approve_report": _("审批上级交办事项办理情况报告"),
                "exchange.report": _("向上级报告办理结果"),
                "exchange.decision": _("上级认可或退回报告"),
                "exchange.refer": _("向下级平台交办"),
                "exchange.report_received": _("收到下级报告"),
                "exchange.accept": _("认可下级报告"),
                "exchange.return": _("退回下级重报"),
                "exchange.export": _("导出交办台账"),
            }
        )
