from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadershipConfig(AppConfig):
    name = "xinfang.leadership"
    verbose_name = _("领导包案与阅批")
