"""The append-only audit log (等保 安全审计; PIPL Art. 51: every reveal of personal data is logged)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditImmutableError(RuntimeError):
    """Audit rows are written once and never changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError("audit events cannot be changed")

    def delete(self) -> NoReturn:
        raise AuditImmutableError("audit events cannot be deleted")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        # Rows enter the chain one at a time, under the head's lock (chain.append).
        raise AuditImmutableError("audit events are written one at a time by record_event")


class AuditEvent(models.Model):
    """Who did what, when, from where.  Database triggers refuse UPDATE and DELETE as well,
    so not even raw SQL from the application can rewrite history (migration 0002)."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # No database foreign key: an audit row must outlive the account it names.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人账号"), max_length=150, blank=True)
    ip = models.CharField(_("来源地址"), max_length=45, blank=True)
    action = models.CharField(_("操作"), max_length=60)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象名称"), max_length=200, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    # The keyed hash chain (chain.py): the row's place, the key that signed it, and its hash.
    seq = models.PositiveBigIntegerField(_("链序号"), unique=True, editable=False)
    key_id = models.CharField(_("密钥标识"), max_length=16, editable=False)
    chain_hash = models.CharField(_("链哈希"), max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx"),
            models.Index(fields=["actor_name", "-at"], name="audit_actor_idx"),
            models.Index(fields=["object_repr", "-at"], name="audit_object_repr_idx"),
            models.Index(fields=["action", "-at"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Append the event to the chain (a new event is the only thing that may be saved)."""
        if self.pk is not None:
            raise AuditImmutableError("audit events cannot be changed")
        from .chain import append

        append(self)

    def save_chained(self) -> None:
        """The INSERT itself, called by chain.append once seq and hash are set."""
        super().save(force_insert=True)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError("audit events cannot be deleted")


class AuditChainHead(models.Model):
    """One row: the last seq and hash of the chain, with a MAC of its own (chain.head_mac).

    Every writer locks this row to append (chain.append), which serialises appends across processes.
    The application role may SELECT and UPDATE it, never DELETE it (docs/security.md §4).
    """

    seq = models.PositiveBigIntegerField(default=0)
    chain_hash = models.CharField(max_length=64, blank=True, default="")
    mac = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"{self.seq} {self.chain_hash[:12]}"
