from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "xinfang.accounts"
    label = "accounts"
    verbose_name = _("登录与账号安全")

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401 - registers the deploy checks and the login signal
