"""Models of campaigns (see the package docstring): the office's backlog definition, its resolution
categories, campaigns with their targets and cases, and relief applications (信访救助)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Petition, Petitioner

# The default backlog definition, used by an office that has not set its own (docs/procedure.md).
DEFAULT_OVERDUE_DAYS = 30
DEFAULT_REPEAT_COUNT = 2
# The office's own set of resolution categories starts as the usual five groups (分类化解).
DEFAULT_CATEGORIES = ("化解一批", "终结一批", "稳定一批", "救助一批", "依法处理一批")


class BacklogRule(models.Model):
    """The definition of a backlog case (积案) of one area: the government (or other scope root)
    whose subtree its staff see.  A petition is a backlog case when any enabled criterion holds."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="backlog_rule"
    )
    overdue_enabled = models.BooleanField(_("超期未办结"), default=True)
    overdue_days = models.PositiveIntegerField(
        _("超过办理时限天数"), default=DEFAULT_OVERDUE_DAYS,
        help_text=_("未办结且超过办理时限多于此天数。"),
    )  # fmt: skip
    repeat_enabled = models.BooleanField(_("一年内重复信访"), default=True)
    repeat_count = models.PositiveIntegerField(
        _("一年内重复次数"), default=DEFAULT_REPEAT_COUNT,
        help_text=_("同一事项一年内重复信访多于此次数。"),
    )  # fmt: skip
    concluded_enabled = models.BooleanField(
        _("终结后仍信访"), default=True, help_text=_("已终结的事项此后又有重复信访。")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("积案认定标准")
        verbose_name_plural = _("积案认定标准")

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.overdue_days}/{self.repeat_count}"


class ResolutionCategory(models.Model):
    """One group of the office's own set of resolution categories (化解一批、终结一批 …)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("化解类别"), max_length=30)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("化解类别")
        verbose_name_plural = _("化解类别")
        ordering = ["organisation", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                name="resolution_category_unique",
                violation_error_message=_("已有同名的化解类别。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("筹备中")
    RUNNING = "running", _("进行中")
    CLOSED = "closed", _("已结束")


class Campaign(models.Model):
    """A campaign on backlog (专项行动, e.g. 百日攻坚): a period, a scope (an organisation and its
    subtree), targets, and the cases it takes on."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("范围"), on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the organisation: the scope reads are prefix scans on this column.
    organisation_path = models.CharField(max_length=255, editable=False)
    name = models.CharField(_("名称"), max_length=100)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.TextField(_("总结"), blank=True)

    class Meta:
        verbose_name = _("专项行动")
        verbose_name_plural = _("专项行动")
        ordering = ["-starts_on", "-id"]
        indexes = [
            models.Index(
                fields=["organisation_path", "status"],
                name="campaign_scope_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["status", "-starts_on"], name="campaign_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class TargetMetric(models.TextChoices):
    RESOLUTION_RATE = "resolution_rate", _("化解率")
    CONTRACT_RATE = "contract_rate", _("包案率")


class CampaignTarget(models.Model):
    """A target of a campaign: a metric and the threshold it must reach (化解率 ≥ 95%)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(_("指标"), max_length=20, choices=TargetMetric.choices)
    threshold = models.DecimalField(_("目标值（%）"), max_digits=5, decimal_places=1)

    class Meta:
        ordering = ["campaign", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "metric"], name="campaign_target_unique"),
            models.CheckConstraint(
                condition=Q(threshold__gte=0) & Q(threshold__lte=100), name="campaign_target_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} ≥ {self.threshold}%"


class CaseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("化解中")
    RESOLVED = "resolved", _("已化解")


class CampaignCase(models.Model):
    """One petition taken on by a campaign: its responsible unit, resolution category, the leader
    it is contracted to (包案, with the deadline given) and whether it is resolved."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cases")
    petition = models.ForeignKey(
        Petition, verbose_name=_("信访事项"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Organisation, verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        ResolutionCategory,
        verbose_name=_("化解类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    # Why the petition was a backlog case when it was added (codes of backlog.REASONS), or "" by hand.
    reasons = models.CharField(_("积案情形"), max_length=60, blank=True)
    # The contract (包案) as asked of the leadership app: kept here so that lists, panels and progress
    # read one table; the LeaderContract itself holds the plan and its progress.
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("包案领导"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contract_due_on = models.DateField(_("包案期限"), null=True, blank=True)
    contract_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.IN_PROGRESS
    )
    resolved_on = models.DateField(_("化解日期"), null=True, blank=True)
    resolution_note = models.TextField(_("化解情况"), blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("专项行动案件")
        verbose_name_plural = _("专项行动案件")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "petition"],
                name="campaign_case_unique",
                violation_error_message=_("该信访事项已列入本次专项行动。"),
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "unit"], name="campaign_case_list_idx"),
            models.Index(fields=["unit", "status"], name="campaign_case_unit_idx"),
            models.Index(fields=["petition"], name="campaign_case_petition_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.petition_id}"

    def is_late(self, today: dt.date) -> bool:
        if self.status != CaseStatus.IN_PROGRESS:
            return False
        return self.campaign.ends_on < today or (
            self.contract_due_on is not None and self.contract_due_on < today
        )


class ReliefStatus(models.TextChoices):
    APPLIED = "applied", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")
    PAID = "paid", _("已发放")


class ReliefApplication(models.Model):
    """An application for help after conclusion (信访救助, 《信访工作条例》第三十七条)."""

    petition = models.ForeignKey(
        Petition, verbose_name=_("信访事项"), on_delete=models.PROTECT, related_name="+"
    )
    applicant = models.ForeignKey(
        Petitioner, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    campaign_case = models.ForeignKey(
        CampaignCase,
        verbose_name=_("专项行动案件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="relief",
    )
    # The area whose leader approves: the scope root of the office that recorded it.
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("审批机构"), on_delete=models.PROTECT, related_name="+"
    )
    organisation_path = models.CharField(max_length=255, editable=False)
    reason = models.TextField(_("申请理由"))
    amount_requested = models.DecimalField(_("申请金额（元）"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("状态"), max_length=10, choices=ReliefStatus.choices, default=ReliefStatus.APPLIED
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    amount_approved = models.DecimalField(
        _("批准金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批领导"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_on = models.DateField(_("审批日期"), null=True, blank=True)
    rejection_reason = models.TextField(_("不予批准理由"), blank=True)
    paid_on = models.DateField(_("发放日期"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("信访救助申请")
        verbose_name_plural = _("信访救助申请")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(
                fields=["organisation_path", "status"],
                name="relief_scope_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["status", "-recorded_at"], name="relief_status_idx"),
            models.Index(fields=["petition"], name="relief_petition_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_requested__gt=0), name="relief_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.amount_requested}"

    @property
    def amount_due(self) -> Decimal | None:
        return self.amount_approved
