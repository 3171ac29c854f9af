"""Models: the in-app notification (the bell), the outbox of e-mail/SMS messages the worker sends,
and the editable message templates for petitioner SMS."""

from __future__ import annotations

import re
import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.core.fields import EncryptedTextField


class Notification(models.Model):
    """One item in a staff member's bell: what happened, and where to go to act on it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    kind = models.CharField(_("类别"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    petition = models.ForeignKey(
        "petitions.Petition",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("信访事项"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # Same key for the same user = the same notification (e.g. one per petition and action): the
    # periodic jobs may run twice and must not ring the bell twice.
    dedupe_key = models.CharField(max_length=160, blank=True, default="")

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_user_dedupe_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["user", "read_at", "created_at"], name="notification_user_read_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class OutboxMessage(models.Model):
    """An e-mail or SMS waiting to be sent, being sent, sent or given up on.

    The row is written in the transaction of the action that caused it, so a rolled-back action
    sends nothing and a committed one is never lost: the worker sends it after the commit and the
    periodic ``deliver_pending`` picks up whatever is still pending (or whose lease expired).
    """

    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    # Phone numbers and e-mail addresses are personal data: encrypted at rest, decrypted only by
    # the worker when it sends; lists show the mask.
    recipient = EncryptedTextField(_("接收方"))
    recipient_mask = models.CharField(_("接收方"), max_length=80, blank=True)
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    last_error = models.TextField(_("最近错误"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=100, blank=True)
    # True when the console/demo backend "sent" it: nothing left the machine.
    demo = models.BooleanField(default=False)
    petition = models.ForeignKey(
        "petitions.Petition",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("信访事项"),
    )
    template_code = models.CharField(max_length=40, blank=True)
    dedupe_key = models.CharField(max_length=160, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="outbox_dedupe_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_next_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient_mask}"


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class MessageTemplate(models.Model):
    """The text of a petitioner SMS (or e-mail) at a milestone, with ``{number}``-style
    placeholders; the system administrator may reword it, never add placeholders the code does not
    fill."""

    code = models.CharField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices, default=Channel.SMS)
    text = models.TextField(_("内容"))
    # Space-separated names the code supplies for this template; the only placeholders allowed.
    placeholders = models.CharField(_("可用占位符"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def allowed(self) -> list[str]:
        return self.placeholders.split()

    def clean(self) -> None:
        unknown = sorted(set(used_placeholders(self.text)) - set(self.allowed))
        if unknown:
            raise ValidationError(
                {
                    "text": _("不能使用以下占位符：%(names)s。可用的占位符：%(allowed)s。")
                    % {
                        "names": "、".join("{" + n + "}" for n in unknown),
                        "allowed": "、".join("{" + n + "}" for n in self.allowed) or "—",
                    }
                }
            )

    def render(self, **context: object) -> str:
        return render_text(self.text, context)


def used_placeholders(text: str) -> list[str]:
    """The placeholder names in ``text``; raises ValidationError for a malformed brace."""
    try:
        return [name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name]
    except ValueError as exc:
        raise ValidationError(_("花括号不成对：占位符写作 {number} 这样的形式。")) from exc


def render_text(text: str, context: dict[str, object]) -> str:
    """Fill ``{name}`` placeholders; an unknown one is left as it is (never a crash in the worker)."""
    return _PLACEHOLDER.sub(lambda m: str(context.get(m.group(1), m.group(0))), text)
