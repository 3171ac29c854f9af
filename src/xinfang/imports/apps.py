from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "xinfang.imports"
    verbose_name = _("历史数据导入")

    def ready(self) -> None:
        from xinfang.audit import labels

        from .models import RunStatus
        from .receivers import index_for_search, mark_statistics_days
        from .signals import petitions_imported

        petitions_imported.connect(index_for_search, dispatch_uid="xinfang.imports.search")
        petitions_imported.connect(mark_statistics_days, dispatch_uid="xinfang.imports.stats")
        # The audit page's Chinese for the import's events (audit/labels.py).
        labels.register(
            actions={
                "import.upload": _("上传历史数据文件"),
                "import.start": _("开始导入历史数据"),
                "import.check": _("校验历史数据文件"),
                "import.run": _("导入历史数据"),
                "petition.import": _("导入历史信访件"),
            },
            values={"run_status": dict(RunStatus.choices)},
        )
