from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InformationConfig(AppConfig):
    name = "xinfang.information"
    verbose_name = _("信访信息")
