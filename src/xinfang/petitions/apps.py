from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "xinfang.petitions"
    label = "petitions"
    verbose_name = _("信访事项")

    def ready(self) -> None:
        from django.db.models import OuterRef

        from xinfang.core import page_memo

        from .models import Petition

        # No later petition repeats this one: the page's list of repeats asks nothing (page_memo).
        page_memo.probe_empty("repeats", lambda: Petition.objects.filter(repeat_of=OuterRef("pk")))
