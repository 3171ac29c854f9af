"""The government tree, staff members and their roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from xinfang.core.fields import EncryptedTextField

from .choices import ADMIN_ROLES, GrantKind, GrantStatus, Level, OrganisationKind, RoleCode

PATH_STEP = 8  # digits per level of the materialised path: room for 10^8 organisations


class OrganisationQuerySet(models.QuerySet):
    def subtree(self, root: Organisation) -> OrganisationQuerySet:
        """The organisation and everything below it: one indexed prefix scan on ``path``."""
        return self.filter(path__startswith=root.path)


class Organisation(models.Model):
    """A node of the government tree: a level (省/市/县/乡镇/村) or a department inside one.

    The tree is stored as a materialised path (``path``: the zero-padded ids from the root, each
    followed by "/"), so "this organisation and its subtree" is a prefix match on an index,
    whatever the depth.  Departments carry the level of the government they belong to.
    """

    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(
        _("代码"), max_length=20, blank=True, help_text=_("行政区划代码（层级）或机构代码（部门）")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=OrganisationKind.choices)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        ordering = ["path"]
        indexes = [
            # LIKE 'prefix%' uses a btree index on PostgreSQL only with the pattern operator class.
            models.Index(fields=["path"], name="org_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["code"], name="org_code_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="org_unique_name_per_parent",
                violation_error_message=_("同一上级下已有同名机构。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_area(self) -> bool:
        """A level of government (an administrative area), as opposed to a department in one."""
        return self.kind in {OrganisationKind.GOVERNMENT, OrganisationKind.PARTY}

    def ancestors(self) -> OrganisationQuerySet:
        ids = [int(p) for p in self.path.strip("/").split("/") if p]
        return Organisation.objects.filter(pk__in=ids).order_by("depth")

    def is_within(self, other: Organisation) -> bool:
        """True when this organisation is ``other`` or below it."""
        return self.path.startswith(other.path)


class Role(models.Model):
    """One of the seven staff roles; rows are created by the migration, never edited."""

    code = models.CharField(max_length=20, primary_key=True, choices=RoleCode.choices)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")

    def __str__(self) -> str:
        return str(RoleCode(self.code).label)


class User(AbstractUser):
    """A staff member (or a system account for an integration), attached to one organisation."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("角色"), blank=True, related_name="users")
    is_system_account = models.BooleanField(
        _("系统账号"), default=False, help_text=_("供12345平台等系统对接使用")
    )
    # A mobile number for urgent notices by SMS (挂牌督办, escalation, overdue digests; issue #8 §4):
    # personal data, encrypted at rest; lists and the outbox show only the mask.  Set through
    # ``services.set_mobile``.
    mobile = EncryptedTextField(_("手机号码"), blank=True, default="")
    mobile_mask = models.CharField(max_length=24, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")

    def __str__(self) -> str:
        return self.full_name or self.username

    @cached_property
    def role_codes(self) -> frozenset[str]:
        """The member's role codes, read once per request (or with the user: ``role_codes_of``)."""
        if self.pk is None:
            return frozenset()
        return frozenset(self.roles.values_list("code", flat=True))

    def set_role_codes(self, joined: str | None) -> None:
        """The role codes as ``role_codes_of`` read them along with the user (no query more)."""
        self.__dict__["role_codes"] = frozenset(code for code in (joined or "").split(",") if code)

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))

    @property
    def admin_duties(self) -> frozenset[str]:
        return self.role_codes & ADMIN_ROLES


class GrantRequest(models.Model):
    """A change that one administrator requests and a second one approves (four-eyes, 三员分立).

    ``kind=account``: give ``target`` exactly ``payload["roles"]`` and ``payload["is_active"]``
    (``payload["before"]`` holds both as they were when requested).  ``kind=token``: issue an API
    token to the system account ``target`` (``payload["name"]``, ``payload["days"]``).  Who may
    request and approve, and what ends a pending request, is in ``organisations.grants`` and
    docs/security.md §2.
    """

    kind = models.CharField(_("类型"), max_length=10, choices=GrantKind.choices)
    target = models.ForeignKey(
        User, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="grant_requests"
    )
    payload = models.JSONField(_("内容"), default=dict)
    reason = models.CharField(_("事由"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=GrantStatus.choices, default=GrantStatus.PENDING
    )
    requested_by = models.ForeignKey(
        User, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    decided_by = models.ForeignKey(
        User, verbose_name=_("审批人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_reason = models.CharField(_("处理意见"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("授权申请")
        verbose_name_plural = _("授权申请")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"], name="grant_status_idx")]
        constraints = [
            # One open request per account and kind: two pending role changes for the same person
            # could each be approved against a state the other has already changed.
            models.UniqueConstraint(
                fields=["target", "kind"],
                condition=models.Q(status="pending"),
                name="grant_one_pending_per_target",
                violation_error_message=_("该账号已有一份待审批的申请。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.target}"


class _Joined(models.Aggregate):
    """The values of a group joined by commas (PostgreSQL's string_agg, SQLite's group_concat)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = models.CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def role_codes_of(user_ref: str = "pk") -> models.Subquery:
    """An expression for the role codes of the user at ``user_ref``, joined by commas, so that a
    query loading users (the request's user, an API token's) loads their roles too: one query
    fewer on every request.  Give the value to ``User.set_role_codes``."""
    links = User.roles.through.objects.filter(user_id=models.OuterRef(user_ref))
    return models.Subquery(links.values("user_id").annotate(codes=_Joined("role_id")).values("codes"))
