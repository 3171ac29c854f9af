from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "xinfang.search"
    verbose_name = _("全文检索")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from xinfang.audit import labels
        from xinfang.petitions import filtersets
        from xinfang.petitions.models import Involvement, Petition
        from xinfang.workflow.models import DecisionLetter

        from . import query
        from .receivers import (
            on_involvement_deleted,
            on_involvement_saved,
            on_letter_saved,
            on_petition_saved,
        )

        # The audit page's Chinese for this app's codes (the look-up by person is itself audited).
        labels.register(
            actions={
                "search.person_lookup": _("按信访人查找"),
                "search.person_lookup_denied": _("按信访人查找被拒绝"),
                "search.term_added": _("添加检索词典词条"),
                "search.term_removed": _("删除检索词典词条"),
            }
        )

        # The index row is written in the transaction of the write (receivers.py).
        post_save.connect(on_petition_saved, sender=Petition, dispatch_uid="xinfang.search.petition")
        post_save.connect(on_letter_saved, sender=DecisionLetter, dispatch_uid="xinfang.search.letter")
        # The scope tokens follow the involvements (models.py, ``scopes``).
        post_save.connect(on_involvement_saved, sender=Involvement, dispatch_uid="xinfang.search.involvement")
        post_delete.connect(
            on_involvement_deleted, sender=Involvement, dispatch_uid="xinfang.search.involvement_deleted"
        )
        # The queue's and the API's ``q`` (petitions is floor 2 and cannot import this app).
        filtersets.register_text_search(query.apply_search, query.highlight_petitions)
        filtersets.register_person_search(query.apply_person_search)
