from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "xinfang.imports"
    verbose_name = _("历史数据导入")

    def ready(self) -> None:
        from .receivers import index_for_search, mark_statistics_days
        from .signals import petitions_imported

        petitions_imported.connect(index_for_search, dispatch_uid="xinfang.imports.search")
        petitions_imported.connect(mark_statistics_days, dispatch_uid="xinfang.imports.stats")
