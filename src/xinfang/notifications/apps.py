"""Notifications: the in-app bell, e-mail to staff and SMS to petitioners, sent by the worker from
an outbox table after the transaction that caused them commits."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "xinfang.notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        from xinfang.workflow.signals import transition_performed

        from .receivers import on_transition

        transition_performed.connect(on_transition, dispatch_uid="xinfang.notifications.on_transition")

        from xinfang.audit import labels

        labels.register(
            actions={
                "notifications.outbox_retry": _("重新发送失败的短信或邮件"),
                "notifications.template_edit": _("修改短信模板"),
            }
        )
