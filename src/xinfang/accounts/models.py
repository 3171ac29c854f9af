"""Per-account login state and the history of password hashes."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginState(models.Model):
    """The failure counter, lock and password status of one staff account.

    A row is created the first time it is needed.  No row, like ``must_change_password``, means the
    password was last set by someone other than its owner (an administrator creating the account,
    or the ``createsuperuser``/``seed`` commands), so the next login asks for a new one (point 18).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="login_state"
    )
    failures = models.PositiveIntegerField(_("连续失败次数"), default=0)
    last_failure_at = models.DateTimeField(_("最近失败时间"), null=True, blank=True)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True, db_index=True)
    must_change_password = models.BooleanField(_("须修改密码"), default=True)
    password_changed_at = models.DateTimeField(_("本人修改密码时间"), null=True, blank=True)
    # Who reset the password or the second factor and the owner has not yet replaced it (set a
    # password, enrolled a device): one administrator may not hold both at once, or they could
    # sign in as the owner alone (services._check_not_both_credentials).
    password_reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    second_factor_reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("登录状态")
        verbose_name_plural = _("登录状态")

    def __str__(self) -> str:
        return str(self.user_id)

    def is_locked(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())


class PasswordHistory(models.Model):
    """The hash of a password a staff member had, so the last few cannot be used again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    password = models.CharField(max_length=128)  # a hash, as User.password
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d}"
