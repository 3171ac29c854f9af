from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "xinfang.screening"
    verbose_name = _("矛盾纠纷排查")
