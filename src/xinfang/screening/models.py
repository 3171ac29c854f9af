"""The dispute screening ledger (矛盾纠纷排查台账).

``Dispute`` is the anchor other apps link to (a leader contracts a dispute, a dispute turns into a
petition).  Its parties carry the same protection as petitioners (encrypted, blind-indexed,
masked for lists).  Screening rounds (排查任务) ask every unit of an office's area to report the
disputes it found; quarterly briefings (通报) keep their figures frozen so a reissue is identical.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.core.fields import EncryptedTextField


class DisputeStatus(models.TextChoices):
    SCREENED = "screened", _("已排查")
    IN_RESOLUTION = "in_resolution", _("化解中")
    RESOLVED = "resolved", _("已化解")
    TURNED_PETITION = "turned_petition", _("已转信访")
    HANDED_OVER = "handed_over", _("已移交诉讼、仲裁等")


# Open work: the ledger shows these by default; a deadline passed while open is 逾期.
OPEN_STATUSES = (DisputeStatus.SCREENED, DisputeStatus.IN_RESOLUTION)


class DisputeKind(models.TextChoices):
    LAND = "land", _("土地征收")
    DEMOLITION = "demolition", _("房屋拆迁")
    LABOUR = "labour", _("劳动争议")
    FAMILY = "family", _("婚姻家庭")
    NEIGHBOURS = "neighbours", _("邻里纠纷")
    PROPERTY = "property", _("物业纠纷")
    ENVIRONMENT = "environment", _("环境污染")
    MEDICAL = "medical", _("医疗纠纷")
    LITIGATION = "litigation", _("涉法涉诉")
    OTHER = "other", _("其他")


class RiskLevel(models.TextChoices):
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class DisputeSource(models.TextChoices):
    ROUND = "round", _("排查任务")
    GRID = "grid", _("网格上报")
    PETITION = "petition", _("信访事项")
    OTHER = "other", _("其他")


class RoundKind(models.TextChoices):
    MONTHLY = "monthly", _("月度排查")
    SENSITIVE = "sensitive", _("敏感节点前排查")


class DisputeSequence(models.Model):
    """The last dispute number an office issued in a year (gap-free, like petitions' NumberSequence)."""

    office = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "year"], name="dispute_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.office_id}/{self.year}: {self.last}"


class ScreeningRound(models.Model):
    """A screening task issued by an office to the units of its area, due by a date."""

    office = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("发出机关")
    )
    # The top of the area the round covers (the office's scope root); its path scopes the reads.
    area_path = models.CharField(max_length=255, editable=False)
    kind = models.CharField(_("类型"), max_length=12, choices=RoundKind.choices, default=RoundKind.MONTHLY)
    title = models.CharField(_("名称"), max_length=200)
    period_start = models.DateField(_("排查期间自"))
    period_end = models.DateField(_("排查期间至"))
    due_on = models.DateField(_("报送期限"))
    unit_kinds = models.JSONField(_("报送单位类型"), default=list)
    instructions = models.TextField(_("排查要求"), blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("发出时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("排查任务")
        verbose_name_plural = _("排查任务")
        ordering = ["-due_on", "-pk"]
        indexes = [
            models.Index(
                fields=["area_path", "due_on"],
                name="round_scope_idx",
                opclasses=["varchar_pattern_ops", "date_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Dispute(models.Model):
    """One dispute that may turn into petitions, with who must resolve it and by when."""

    number = models.CharField(_("编号"), max_length=40, unique=True)
    # The office whose sequence numbered it (the registering user's petition office or unit).
    office = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("登记单位"),
    )
    # The responsible unit; its tree path is copied so the scope is one prefix scan (like Involvement).
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="disputes",
        verbose_name=_("责任单位"),
    )
    organisation_path = models.CharField(max_length=255, editable=False)
    locality = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("属地"),
    )
    title = models.CharField(_("纠纷名称"), max_length=200)
    kind = models.CharField(_("类别"), max_length=16, choices=DisputeKind.choices, default=DisputeKind.OTHER)
    description = models.TextField(_("基本情况"), blank=True)
    risk = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    source = models.CharField(
        _("来源"), max_length=10, choices=DisputeSource.choices, default=DisputeSource.OTHER
    )
    round = models.ForeignKey(
        ScreeningRound,
        on_delete=models.PROTECT,
        related_name="disputes",
        null=True,
        blank=True,
        verbose_name=_("排查任务"),
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contracted_disputes",
        null=True,
        blank=True,
        verbose_name=_("包案领导"),
    )
    plan = models.TextField(_("化解方案"), blank=True)
    deadline = models.DateField(_("化解期限"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.SCREENED
    )
    # The day it was screened: the period of the 化解率 cohort (may precede registration).
    screened_on = models.DateField(_("排查日期"), default=timezone.localdate)
    resolved_on = models.DateField(_("化解日期"), null=True, blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)  # any final status
    petitions = models.ManyToManyField("petitions.Petition", related_name="disputes", blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["organisation_path", "status"],
                name="dispute_scope_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            # The ledger's default order and the figures' period (screened_on) per unit.
            models.Index(fields=["status", "-created_at"], name="dispute_open_idx"),
            models.Index(fields=["organisation", "screened_on"], name="dispute_unit_period_idx"),
            models.Index(fields=["status", "deadline"], name="dispute_deadline_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.organisation_path = self.organisation.path
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def overdue(self) -> bool:
        """Past its deadline and still open, today (for templates)."""
        return self.is_overdue()

    def is_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.is_open and self.deadline is not None and self.deadline < today


class DisputeParty(models.Model):
    """A party to a dispute: protected exactly like a petitioner (encrypted, blind index, masks)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("姓名或名称"), max_length=100)
    id_number = EncryptedTextField(_("身份证号码"), null=True, blank=True)
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    id_number_mask = models.CharField(max_length=24, blank=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), null=True, blank=True)
    phone_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    phone_mask = models.CharField(max_length=24, blank=True, editable=False)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["dispute", "position"]
        indexes = [
            models.Index(fields=["id_number_hash"], name="dispute_party_id_hash_idx"),
            models.Index(fields=["phone_hash", "name"], name="dispute_party_phone_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class DisputeEvent(models.Model):
    """One line of a dispute's timeline: a status change (with its reason or result) or a change."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.action}"


class RoundReturn(models.Model):
    """One unit's return (报送) for a screening round: the disputes it found, or a zero report."""

    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="returns")
    unit = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("报送单位")
    )
    unit_path = models.CharField(max_length=255, editable=False)
    completed_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    # The local day of completion: "on time" (completed_on <= due_on) is then plain SQL.
    completed_on = models.DateField(_("报送日期"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    disputes_found = models.PositiveIntegerField(_("排查发现纠纷数"), default=0)
    is_zero = models.BooleanField(_("零报告"), default=False)
    note = models.TextField(_("说明"), blank=True)
    disputes = models.ManyToManyField(Dispute, related_name="returns", blank=True)

    class Meta:
        verbose_name = _("排查报送")
        verbose_name_plural = _("排查报送")
        ordering = ["round", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["round", "unit"], name="round_return_unique")]
        indexes = [
            models.Index(fields=["unit_path"], name="return_scope_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.unit_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.unit_path = self.unit.path
        super().save(*args, **kwargs)

    @property
    def on_time(self) -> bool:
        return self.completed_on is not None and self.completed_on <= self.round.due_on

    def is_late(self, today: dt.date) -> bool:
        return self.completed_on is None and self.round.due_on < today


class Briefing(models.Model):
    """A quarterly briefing (矛盾纠纷排查通报) with its figures frozen, so it reissues identical."""

    office = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    area_path = models.CharField(max_length=255, editable=False)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    title = models.CharField(_("标题"), max_length=200)
    figures = models.JSONField(default=dict)
    generated_at = models.DateTimeField(auto_now_add=True)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("排查通报")
        verbose_name_plural = _("排查通报")
        ordering = ["-year", "-quarter", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["office", "year", "quarter"], name="briefing_unique"),
        ]

    def __str__(self) -> str:
        return self.title
