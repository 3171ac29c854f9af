"""Leaders' work around petitions (《信访工作条例》第十八条): case contracting (包案, ``LeaderContract``),
instructions (阅批) that become tracked tasks for the named unit, and the duty rota with its log (值班)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadershipConfig(AppConfig):
    name = "xinfang.leadership"
    verbose_name = _("领导包案与阅批")

    def ready(self) -> None:
        from xinfang.core import worklists

        from .audit_labels import register_audit_labels
        from .panels import panels

        register_audit_labels()
        worklists.register("leadership", panels)
        from django.db.models import OuterRef

        from xinfang.core import page_memo

        from .models import Instruction, LeaderContract

        # The petition page's 包案/阅批 panel asks nothing when there is neither (core.page_memo).
        page_memo.probe_empty(
            "leader_contracts", lambda: LeaderContract.objects.filter(petition=OuterRef("pk"))
        )
        page_memo.probe_empty("instructions", lambda: Instruction.objects.filter(petition=OuterRef("pk")))
        from .access import leaders_for

        page_memo.probe_exists("leaders_for_user", leaders_for)
