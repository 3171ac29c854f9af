"""Password validators of the 等保 L3 policy (issue #7 point 18), listed in AUTH_PASSWORD_VALIDATORS.

Django runs them wherever a password is chosen (``validate_password``), and calls their
``password_changed`` hook whenever a user with a new password is saved, however it was set: that
hook keeps the history of hashes that :class:`PasswordHistoryValidator` checks.
"""

from __future__ import annotations

import string
from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHARACTER_CLASSES = (
    ("lower", lambda c: c in string.ascii_lowercase),
    ("upper", lambda c: c in string.ascii_uppercase),
    ("digit", lambda c: c.isdigit()),
    ("other", lambda c: not c.isascii() or not c.isalnum()),
)


def character_classes(password: str) -> set[str]:
    """Which of lower-case letters, upper-case letters, digits and other characters occur."""
    return {name for name, test in CHARACTER_CLASSES if any(test(c) for c in password)}


class CharacterClassValidator:
    """At least ``min_classes`` of the four character classes (GB/T 22239-2019 8.1.4.1 a: 口令复杂度)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、其他符号中的至少{count}类。").format(
                    count=self.min_classes
                ),
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("至少包含大写字母、小写字母、数字、其他符号中的{count}类。").format(count=self.min_classes)


class PasswordHistoryValidator:
    """None of the last ``keep`` passwords (the current one included) may be chosen again."""

    def __init__(self, keep: int = 5) -> None:
        self.keep = keep

    def _recent_hashes(self, user: Any) -> list[str]:
        from .models import PasswordHistory

        return list(
            PasswordHistory.objects.filter(user=user)
            .order_by("-created_at", "-pk")
            .values_list("password", flat=True)[: self.keep]
        )

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        hashes = self._recent_hashes(user)
        if user.password and user.password not in hashes:
            hashes.insert(0, user.password)  # an account older than the history table
        if any(check_password(password, h) for h in hashes[: self.keep]):
            raise ValidationError(
                _("不能使用最近{count}次用过的密码。").format(count=self.keep), code="password_reused"
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        """Keep the new hash; forget those beyond ``keep``.  A rehash of the same password (Django
        upgrades hashes at login) adds no entry, or it would push a real old password out."""
        from .models import PasswordHistory

        if user is None or user.pk is None or not user.password:
            return
        latest = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-pk").first()
        if latest is not None and check_password(password, latest.password):
            return
        PasswordHistory.objects.create(user=user, password=user.password)
        stale = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-pk")[self.keep :]
        PasswordHistory.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()

    def get_help_text(self) -> str:
        return _("不能与最近{count}次用过的密码相同。").format(count=self.keep)
