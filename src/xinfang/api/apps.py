from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "xinfang.api"
    label = "api"
    verbose_name = _("接口")

    def ready(self) -> None:
        # Registers what approving a token request does (organisations.grants sits below this
        # app and cannot import it).
        from . import services  # noqa: F401
