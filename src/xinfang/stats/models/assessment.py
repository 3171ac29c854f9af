"""考核 (assessment, issue #9 §5): a scheme per assessing office and period, its indicators,
deductions and hand-entered bonuses, and the frozen, versioned results of each publication.

The scheme is the rule book (what is scored, how much it weighs, what is deducted); running it
reads the figures live (stats.assessment.run).  Publishing copies everything a unit's score was
made of — the definition, every numerator and denominator, every deduction's count, the bonuses —
into an ``AssessmentPublication`` and its ``AssessmentResult`` rows, which are never updated
afterwards: later data changes do not move a published score, a correction is a new version.
Scoring rules: docs/statistics.md, "考核 (assessment)".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class AssessmentScheme(models.Model):
    """One assessment: who assesses (``assessor``: the petition office or the government it belongs
    to, kept by ``office``), which period, and which units — the explicit ``units``, or when none
    are listed every active child of the office's government except the office itself."""

    office = models.ForeignKey(
        Organisation, verbose_name=_("信访工作机构"), on_delete=models.PROTECT, related_name="+"
    )
    assessor = models.ForeignKey(
        Organisation, verbose_name=_("考核机关"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=100)
    start = models.DateField(_("考核期起"))
    end = models.DateField(_("考核期止"))
    units = models.ManyToManyField(Organisation, verbose_name=_("被考核单位"), blank=True, related_name="+")
    status = models.CharField(
        _("状态"), max_length=10, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")
        ordering = ["-start", "-id"]
        indexes = [models.Index(fields=["office", "start"], name="assessment_office_idx")]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    """A scored figure: a rate of ``metrics.RATES`` (``target`` in percent) or a count of
    ``metrics.METRICS`` (``target`` in its unit), worth ``weight`` points."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="indicators")
    figure = models.CharField(_("指标"), max_length=40)
    weight = models.DecimalField(_("分值"), max_digits=6, decimal_places=2)
    target = models.DecimalField(_("目标值"), max_digits=12, decimal_places=2)
    higher_is_better = models.BooleanField(_("越高越好"), default=True)

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["scheme", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "figure"],
                name="assessment_indicator_once",
                violation_error_message=_("该指标已在方案中。"),
            )
        ]

    def __str__(self) -> str:
        return self.figure


class Deduction(models.Model):
    """Points taken off per item of a count (each overdue deadline, each review that changed the
    handling …), at most ``cap`` points in all (no cap when empty)."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="deductions")
    metric = models.CharField(_("扣分事项"), max_length=40)
    points_per_item = models.DecimalField(_("每件扣分"), max_digits=6, decimal_places=2)
    cap = models.DecimalField(_("扣分上限"), max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("扣分规则")
        verbose_name_plural = _("扣分规则")
        ordering = ["scheme", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "metric"],
                name="assessment_deduction_once",
                violation_error_message=_("该扣分事项已在方案中。"),
            )
        ]

    def __str__(self) -> str:
        return self.metric


class BonusItem(models.Model):
    """Points added by hand for one unit, with the reason (audited when added or removed)."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="bonuses")
    unit = models.ForeignKey(Organisation, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("加分"), max_digits=6, decimal_places=2)
    reason = models.CharField(_("加分理由"), max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("加分项")
        verbose_name_plural = _("加分项")
        ordering = ["scheme", "pk"]

    def __str__(self) -> str:
        return f"{self.unit_id} +{self.points}"


class AssessmentPublication(models.Model):
    """One published version of a scheme's result.  ``snapshot`` holds the scheme as it was
    (period, units, indicators, deductions) and ``as_of`` the day the figures were read."""

    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.PROTECT, related_name="publications")
    version = models.PositiveIntegerField(_("版本"))
    reason = models.TextField(_("重新发布理由"), blank=True)
    as_of = models.DateField(_("数据截至"))
    snapshot = models.JSONField(default=dict)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)

    class Meta:
        verbose_name = _("考核结果发布")
        verbose_name_plural = _("考核结果发布")
        ordering = ["scheme", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "version"], name="assessment_publication_version")
        ]

    def __str__(self) -> str:
        return f"{self.scheme_id} v{self.version}"


class AssessmentResult(models.Model):
    """One unit's frozen score in a publication.  ``detail`` lists each indicator (numerator,
    denominator, value, score), each deduction (count, points) and each bonus (points, reason)."""

    publication = models.ForeignKey(AssessmentPublication, on_delete=models.PROTECT, related_name="results")
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    unit_name = models.CharField(max_length=100)
    unit_path = models.CharField(max_length=255)
    rank = models.PositiveIntegerField(_("名次"))
    indicator_points = models.DecimalField(_("指标得分"), max_digits=8, decimal_places=2)
    deduction_points = models.DecimalField(_("扣分"), max_digits=8, decimal_places=2)
    bonus_points = models.DecimalField(_("加分"), max_digits=8, decimal_places=2)
    total = models.DecimalField(_("总分"), max_digits=8, decimal_places=2)
    detail = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("考核结果")
        verbose_name_plural = _("考核结果")
        ordering = ["publication", "rank", "unit_path"]
        constraints = [models.UniqueConstraint(fields=["publication", "unit"], name="assessment_result_once")]

    def __str__(self) -> str:
        return f"{self.unit_name}: {self.total}"
