"""Deadline rules as data, and the hand-kept part of the legal calendar.

Time limits differ between jurisdictions (domain.md §1.2): the national 《信访工作条例》 (2022) is the
default, and a province may set its own (Zhejiang counts working days and allows 30 + up to 60 days
for handling).  So the limits live in the database (STYLE.md rule 23) as one ``RuleProfile`` per
jurisdiction with one ``PeriodRule`` per step, editable by the system administrator; the numbers in
code are only the seed of migration 0002.  docs/procedure.md lists every rule with its article.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import Level
from xinfang.organisations.models import Organisation


class Step(models.TextChoices):
    """The steps of the procedure that have a time limit (GLOSSARY.md names; articles of the 2022 条例)."""

    DISPOSAL = "disposal", _("信访部门处理（转送、交办、受理、不予受理或告知）")  # Art. 22
    UNIT_ACCEPTANCE = "unit_acceptance", _("承办单位确认受理")  # Art. 23 ¶3
    OBJECTION = "objection", _("承办单位提出异议（退回）")  # Art. 23 ¶3
    HANDLING = "handling", _("办理")  # Art. 34
    EXTENSION = "extension", _("延长办理期限（上限）")  # Art. 34
    REVIEW_REQUEST = "review_request", _("申请复查")  # Art. 35
    REVIEW = "review", _("复查")  # Art. 35
    RECHECK_REQUEST = "recheck_request", _("申请复核")  # Art. 36
    RECHECK = "recheck", _("复核")  # Art. 36, hearing days excluded
    EVALUATION = "evaluation", _("满意度评价")  # 国信发〔2022〕11号; window unconfirmed


# The event whose date starts each clock; that day itself is not counted (民法典 Art. 201).
STEP_STARTS: dict[str, Any] = {
    Step.DISPOSAL: _("信访部门收到信访事项之日"),
    Step.UNIT_ACCEPTANCE: _("承办单位收到转送、交办的信访事项之日"),
    Step.OBJECTION: _("承办单位收到转送、交办的信访事项之日"),
    Step.HANDLING: _("受理之日"),
    Step.EXTENSION: _("原办理期限届满之日"),
    Step.REVIEW_REQUEST: _("信访人收到书面答复之日"),
    Step.REVIEW: _("复查机关收到复查请求之日"),
    Step.RECHECK_REQUEST: _("信访人收到复查意见之日"),
    Step.RECHECK: _("复核机关收到复核请求之日"),
    Step.EVALUATION: _("信访人收到书面答复之日"),
}


class PeriodUnit(models.TextChoices):
    """How a period is counted: the 条例 writes “日” (calendar days) except in Art. 23 (“个工作日”)."""

    CALENDAR_DAYS = "calendar_days", _("日（自然日）")
    WORKING_DAYS = "working_days", _("工作日")


class RuleProfileQuerySet(models.QuerySet):
    def default(self) -> RuleProfile | None:
        return self.filter(is_default=True).first()


class RuleProfile(models.Model):
    """The time limits of one jurisdiction: the national default, or a province's own regulation.

    A province profile lists only the steps where the province differs; every other step falls back
    to the default profile's rule (deadlines.rule_for).  The profile applying to an organisation is the
    one bound to its province (the level=province node above it), else the default.
    """

    name = models.CharField(_("名称"), max_length=100)
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    description = models.TextField(_("说明"), blank=True)
    is_default = models.BooleanField(
        _("全国默认"), default=False, help_text=_("未绑定本省规则的机构使用全国默认规则；只能有一套。")
    )
    province = models.ForeignKey(
        Organisation,
        verbose_name=_("适用省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rule_profiles",
        limit_choices_to={"level": Level.PROVINCE},
        help_text=_("该省（含下辖各级机构）适用本套规则；未设定的步骤沿用全国默认规则。"),
    )

    objects = RuleProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="workflow_one_default_profile",
                violation_error_message=_("只能有一套全国默认规则。"),
            ),
            models.UniqueConstraint(
                fields=["province"],
                name="workflow_one_profile_per_province",
                violation_error_message=_("该省份已绑定了另一套时限规则。"),
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(province__isnull=True),
                name="workflow_default_profile_unbound",
                violation_error_message=_("全国默认规则不能绑定省份。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _rules_changed()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        _rules_changed()
        return result

    def clean(self) -> None:
        # Bound to a department or a city, the profile would silently never be selected.
        if self.province_id is not None and (
            self.province.level != Level.PROVINCE or not self.province.is_area
        ):
            raise ValidationError({"province": _("只能绑定省级机构。")})


class PeriodRule(models.Model):
    """One time limit: how long a step may take in a profile, how it is counted, and where it comes from."""

    profile = models.ForeignKey(
        RuleProfile, verbose_name=_("时限规则"), on_delete=models.CASCADE, related_name="rules"
    )
    step = models.CharField(_("环节"), max_length=30, choices=Step.choices)
    length = models.PositiveSmallIntegerField(
        _("期限"), validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    unit = models.CharField(_("计算单位"), max_length=20, choices=PeriodUnit.choices)
    roll_forward = models.BooleanField(
        _("期末遇节假日顺延"),
        default=True,
        help_text=_(
            "按日计算的期限，最后一日是法定节假日或休息日的，以其后的第一个工作日为最后一日（民法典第二百零三条）。"
        ),
    )
    source = models.CharField(_("依据"), max_length=200, help_text=_("例如：《信访工作条例》第二十二条"))
    confirmed = models.BooleanField(
        _("已核对原文"), default=True, help_text=_("未勾选表示该期限是推定或待核实的，见程序说明。")
    )
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("期限")
        verbose_name_plural = _("期限")
        ordering = ["profile", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "step"],
                name="workflow_one_rule_per_step",
                violation_error_message=_("该规则中已有这一环节的期限。"),
            ),
            models.CheckConstraint(
                condition=Q(length__gte=1) & Q(length__lte=366),
                name="workflow_rule_length_range",
                violation_error_message=_("期限应在1至366之间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile}: {self.get_step_display()} {self.length} {self.get_unit_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _rules_changed()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        _rules_changed()
        return result


class CalendarOverride(models.Model):
    """One day whose status the administrator sets by hand; it wins over the holiday package.

    For years the ``chinesecalendar`` package does not know yet (the State Council publishes each
    year's arrangement around November), and for local rest days a province declares.
    """

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(
        _("工作日"), help_text=_("勾选：当天上班（含调休上班）；不勾选：当天放假。")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True, help_text=_("例如：2027年春节"))

    class Meta:
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {_('上班') if self.is_working_day else _('放假')}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _calendar_changed()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        _calendar_changed()
        return result


class CalendarYear(models.Model):
    """A year whose full holiday arrangement the administrator has entered as overrides.

    Without it, a deadline in a year the package does not know carries a warning: weekends alone are
    used, which is wrong around every public holiday.  The administrator marks the year done once all
    its holidays and 调休 working days are entered, and the warning goes away.
    """

    year = models.PositiveSmallIntegerField(_("年份"), unique=True, validators=[MinValueValidator(2000)])
    note = models.CharField(_("说明"), max_length=200, blank=True, help_text=_("例如：国办发明电〔2026〕X号"))

    class Meta:
        verbose_name = _("已录入节假日安排的年份")
        verbose_name_plural = _("已录入节假日安排的年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _calendar_changed()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        _calendar_changed()
        return result


# The calendar and the rule book are cached per process (calendar.py, deadlines.py).  A save drops
# this process's copy at once and again after commit (a copy reloaded inside the transaction would
# otherwise keep uncommitted rows if it rolled back); other processes reload within a minute.
# Imported late: both modules import this one.


def _calendar_changed() -> None:
    from .calendar import clear_cache

    clear_cache()
    transaction.on_commit(clear_cache)


def _rules_changed() -> None:
    from .deadlines import clear_cache

    clear_cache()
    transaction.on_commit(clear_cache)


class AssignmentKind(models.TextChoices):
    FORWARD = "forward", _("转送")
    ASSIGN = "assign", _("交办")


class Assignment(models.Model):
    """A petition sent by the petition office to a responsible unit (转送 or 交办).

    The open assignment (``ended_at`` NULL) names the unit that must act now; ended ones are the
    routing history (returned, re-routed).  An assignment (交办) also requires a completion report
    by the office's own due date (Art. 22(3)).
    """

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(
        Organisation, verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("方式"), max_length=10, choices=AssignmentKind.choices)
    report_required = models.BooleanField(_("须报送办结报告"), default=False)
    report_due_on = models.DateField(_("限办日期"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(_("时间"), default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("转送交办")
        verbose_name_plural = _("转送交办")
        ordering = ["petition", "assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition"],
                condition=Q(ended_at__isnull=True),
                name="assignment_one_open_per_petition",
            )
        ]
        indexes = [
            models.Index(fields=["unit", "ended_at"], name="assignment_unit_idx"),
            # The open assignments that owe a completion report (workbench 待审批 of a petition
            # office): a few thousand ids the database hashes from the index alone, where it
            # read all open assignments and filtered them (16 → 9 ms at a million petitions).
            models.Index(
                fields=["petition"],
                condition=Q(ended_at__isnull=True, report_required=True),
                name="assignment_report_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} → {self.unit_id} ({self.kind})"


class JurisdictionDispute(models.Model):
    """管辖争议: the unit objected a second time after the petition office overruled its first
    objection, so the petition goes to their common superior (``body``, the lowest government above
    both), which decides which organisation handles it (条例 Art. 24 ¶1).  One open per petition;
    once one is decided, no unit may object to the petition any more (the decision settles it).
    """

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="jurisdiction_disputes"
    )
    unit = models.ForeignKey(
        Organisation, verbose_name=_("提出异议的单位"), on_delete=models.PROTECT, related_name="+"
    )
    office = models.ForeignKey(
        Organisation, verbose_name=_("信访部门"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.ForeignKey(
        Organisation, verbose_name=_("共同上级机关"), on_delete=models.PROTECT, related_name="+"
    )
    reasons = models.TextField(_("异议理由"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField(_("提请日期"))
    decided_unit = models.ForeignKey(
        Organisation, verbose_name=_("决定的办理单位"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    decision = models.TextField(_("决定理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("管辖争议")
        verbose_name_plural = _("管辖争议")
        ordering = ["petition", "received_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition"],
                condition=Q(decided_at__isnull=True),
                name="dispute_one_open_per_petition",
            )
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.unit_id}→{self.body_id}"


class ExtensionDecision(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class ExtensionRequest(models.Model):
    """A request to extend the handling period (延期, Art. 34) and the leader's decision on it.

    A model of its own rather than fields on the petition or the assignment: the request, who asked,
    the reason, the days asked for and the decision (who, when, the new date) stay on record as one
    row, an office that accepted its own matter (no assignment) extends the same way, and the rule
    "one extension per petition" is a database constraint: at most one request per petition that is
    pending or approved.  A rejected request does not use up the extension — the unit may ask again
    with better reasons; once one is approved, no further request is taken.
    """

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="extension_requests"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("办理单位"), on_delete=models.PROTECT, related_name="+"
    )
    days = models.PositiveSmallIntegerField(_("申请延长天数"))
    reason = models.TextField(_("延期理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decision = models.CharField(
        _("审批结果"), max_length=10, choices=ExtensionDecision.choices, default=ExtensionDecision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    old_due_on = models.DateField(_("原办理期限"), null=True, blank=True)
    new_due_on = models.DateField(_("延长后的办理期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["petition", "requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition"],
                condition=Q(decision__in=["pending", "approved"]),
                name="extension_one_per_petition",
            )
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} +{self.days} ({self.decision})"


class ReplyOutcome(models.TextChoices):
    """The three outcomes of a written reply (Art. 32)."""

    SUPPORT = "support", _("支持")
    EXPLAIN = "explain", _("解释说明")
    NOT_SUPPORTED = "not_supported", _("不予支持")


class DecisionLetter(models.Model):
    """处理意见书: the written reply to the petitioner (Art. 32), with the review notice (Art. 35)."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="decision_letters"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("答复单位"), on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("处理结果"), max_length=20, choices=ReplyOutcome.choices)
    request_summary = models.TextField(_("信访请求"))
    facts = models.TextField(_("查明事实"))
    basis = models.TextField(_("法律政策依据"))
    opinion = models.TextField(_("处理意见"))
    review_notice = models.TextField(_("复查权利告知"))
    issued_at = models.DateTimeField(_("出具时间"), default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handling_due_on = models.DateField(_("答复时的办理期限"), null=True, blank=True)
    # The last day the petitioner may evaluate this reply (issue #9 §1): stored, so evaluations that
    # lapsed are countable in SQL (参评率) without the calendar.  Set when the letter is issued.
    evaluation_due_on = models.DateField(_("评价期限"), null=True, blank=True)
    # 送达: the day the letter reached the petitioner (issue #10 point 8).  The evaluation and
    # review-request windows run from it; NULL while not served, and then no window has started.
    served_on = models.DateField(_("送达日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("处理意见书")
        verbose_name_plural = _("处理意见书")
        ordering = ["petition", "issued_at"]
        indexes = [
            models.Index(fields=["issued_at"], name="letter_issued_idx"),
            models.Index(fields=["evaluation_due_on"], name="letter_evaluation_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.outcome}"


# --- evaluation, review and recheck (Arts. 35–36; 国信发〔2022〕11号) -------------------------------


class Rating(models.TextChoices):
    """The three levels of the satisfaction evaluation (满意度评价)."""

    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class EvaluationSource(models.TextChoices):
    PORTAL = "portal", _("信访人网上评价")
    FOLLOW_UP = "follow_up", _("工作人员回访录入")


class EvaluationStatus(models.TextChoices):
    """Derived, never stored: a lapsed or pending evaluation is never counted as satisfied."""

    PENDING = "pending", _("待评价")
    EVALUATED = "evaluated", _("已评价")
    LAPSED = "lapsed", _("超期未评价")


class Evaluation(models.Model):
    """The petitioner's rating of a reply, separately for the petition office (信访部门) and for the
    handling unit, given on the portal or recorded by staff from a follow-up call (回访).  One per
    decision letter: the petitioner evaluates the reply that stands (issue #7 point 6) — a reply sent
    back for re-handling keeps its evaluation on record, and the new reply is evaluated afresh.  The
    body evaluated is still the one that first handled the matter (谁初次办理、谁接受评价): a
    re-handling is done by the same body; reviewing bodies are not evaluated here."""

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="evaluations")
    letter = models.ForeignKey(DecisionLetter, on_delete=models.PROTECT, related_name="+")
    office = models.ForeignKey(
        Organisation, verbose_name=_("信访部门"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Organisation, verbose_name=_("办理单位"), on_delete=models.PROTECT, related_name="+"
    )
    office_rating = models.CharField(_("对信访部门的评价"), max_length=20, choices=Rating.choices)
    unit_rating = models.CharField(_("对办理单位的评价"), max_length=20, choices=Rating.choices)
    reason = models.TextField(_("不满意的理由"), blank=True)
    source = models.CharField(_("评价方式"), max_length=10, choices=EvaluationSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        verbose_name = _("满意度评价")
        verbose_name_plural = _("满意度评价")
        indexes = [
            models.Index(fields=["office", "office_rating"], name="evaluation_office_idx"),
            models.Index(fields=["unit", "unit_rating"], name="evaluation_unit_idx"),
            models.Index(fields=["recorded_at"], name="evaluation_recorded_idx"),  # stats roll-up
        ]
        constraints = [
            models.UniqueConstraint(fields=["letter"], name="evaluation_one_per_letter"),
            models.CheckConstraint(
                condition=~(Q(office_rating="dissatisfied") | Q(unit_rating="dissatisfied")) | ~Q(reason=""),
                name="evaluation_dissatisfied_needs_reason",
                violation_error_message=_("评价为不满意的，须填写理由。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.office_rating}/{self.unit_rating}"


class AppealKind(models.TextChoices):
    REVIEW = "review", _("复查")  # Art. 35
    RECHECK = "recheck", _("复核")  # Art. 36


class AppealOutcome(models.TextChoices):
    """What a review or recheck opinion decides (上海条例 Art. 39: 维持、变更、责令重新办理)."""

    UPHOLD = "uphold", _("维持原处理意见")
    CHANGE = "change", _("变更原处理意见")
    REHANDLE = "rehandle", _("撤销原处理意见，责令重新办理")


class Appeal(models.Model):
    """A request for review (复查) or recheck (复核) and the opinion on it.

    The ``body`` is the organ one level above the one whose opinion is contested (Art. 35–36); its
    period is counted from ``received_on``, lengthened by the days of any hearing (Art. 36).
    """

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="appeals")
    kind = models.CharField(_("类别"), max_length=10, choices=AppealKind.choices)
    body = models.ForeignKey(
        Organisation, verbose_name=_("复查复核机关"), on_delete=models.PROTECT, related_name="+"
    )
    request = models.TextField(_("请求及理由"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_on = models.DateField(_("收到请求日期"))
    outcome = models.CharField(_("结论"), max_length=10, choices=AppealOutcome.choices, blank=True)
    facts = models.TextField(_("查明事实"), blank=True)
    basis = models.TextField(_("法律政策依据"), blank=True)
    opinion = models.TextField(_("意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_on = models.DateField(_("出具日期"), null=True, blank=True)
    # 送达 of the opinion (issue #10 point 8): the recheck-request window runs from it.
    opinion_served_on = models.DateField(_("意见书送达日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("复查复核")
        verbose_name_plural = _("复查复核")
        ordering = ["petition", "received_on", "pk"]
        constraints = [
            # One open appeal at a time; a petition re-handled on a review's order may be reviewed again.
            models.UniqueConstraint(
                fields=["petition"], condition=Q(decided_on__isnull=True), name="appeal_one_open_per_petition"
            )
        ]
        indexes = [  # the stats roll-up recomputes a day of requests and of opinions
            models.Index(fields=["received_on"], name="appeal_received_idx"),
            models.Index(fields=["decided_on"], name="appeal_decided_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.kind}"


class Hearing(models.Model):
    """A hearing (听证) held during a recheck: its days do not count against the recheck period
    (Art. 36).  ``ended_on`` is the last day of the hearing, itself not counted (a hearing held on
    one day pauses that day, issue #7 point 8); the clock runs again the day after.  NULL while the
    hearing is open."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="hearings")
    started_on = models.DateField(_("听证开始日期"))
    ended_on = models.DateField(_("听证结束日期"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("听证")
        verbose_name_plural = _("听证")
        ordering = ["appeal", "started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal"], condition=Q(ended_on__isnull=True), name="hearing_one_open_per_appeal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.started_on}–{self.ended_on or ''}"


class RoutingRule(models.Model):
    """谁主管、谁负责: in ``area`` (a government and everything under it), petitions of ``category``
    (or of any entry under it) go to ``unit``.  The most specific rule wins: the deepest area, then
    the entry over its class (routing.propose_unit)."""

    area = models.ForeignKey(Organisation, verbose_name=_("属地"), on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        "petitions.Category", verbose_name=_("问题分类"), on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        Organisation, verbose_name=_("责任单位"), on_delete=models.CASCADE, related_name="routing_rules"
    )

    class Meta:
        verbose_name = _("分办规则")
        verbose_name_plural = _("分办规则")
        constraints = [models.UniqueConstraint(fields=["area", "category"], name="routing_rule_unique")]

    def __str__(self) -> str:
        return f"{self.area_id}/{self.category_id} → {self.unit_id}"


# --- the deadline record: every statutory deadline kept as a fact (issue #9 §1) ----------------------


class DeadlineKind(models.TextChoices):
    """The deadlines a body must meet, one record each (docs/statistics.md §2).  The first six
    follow the petition's own clock (``Petition.due_on``); the last three run beside it."""

    DISPOSAL = (
        "disposal",
        _("信访部门处理"),
    )  # Art. 22: register → forward / assign / accept / decline / redirect
    UNIT_ACCEPTANCE = "unit_acceptance", _("承办单位确认受理")  # Art. 23 ¶3
    HANDLING = "handling", _("办理")  # Art. 34: 60 days
    EXTENSION = "extension", _("延期办理")  # Art. 34: the extended period, after an approved extension
    REVIEW = "review", _("复查")  # Art. 35
    RECHECK = "recheck", _("复核")  # Art. 36
    JURISDICTION = "jurisdiction", _("管辖争议决定")  # Art. 24: the common superior decides
    COMPLETION_REPORT = "completion_report", _("交办事项办结报告")  # Art. 22(3): the unit reports back
    SUPERVISION = "supervision", _("督办反馈")  # Arts. 39–40: the unit answers a supervision notice


class DeadlineOutcome(models.TextChoices):
    """How a deadline record ended.  Open records have none; an open record past its due date is
    overdue (missed so far) and counted as missed in every figure."""

    MET = "met", _("按期完成")
    LATE = "late", _("超期完成")
    EXTENDED = "extended", _("已延期")  # replaced by an extension record: neither met nor missed
    VOID = "void", _("已撤销")  # the obligation fell away (withdrawn, merged, re-routed by the office)


class DeadlineRecord(models.Model):
    """One deadline one body had: who, from when, until when, and whether and when it was met.

    ``Petition.due_on`` is the clock running now and is overwritten at every step; these records are
    never overwritten, only closed, so the figures of any past period can be recomputed exactly and
    a missed deadline stays evidence (时限违规, Arts. 43–45).  Written by ``deadline_records.track``
    inside the transaction of the action that opens or ends them."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="deadline_records"
    )
    kind = models.CharField(_("时限类别"), max_length=20, choices=DeadlineKind.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("责任机构"), on_delete=models.PROTECT, related_name="+"
    )
    # The organisation's tree path, copied so a scope ("my subtree") is one prefix range (as Involvement).
    organisation_path = models.CharField(max_length=255)
    started_on = models.DateField(_("起算日期"))
    due_on = models.DateField(_("期限届满日"))
    closed_on = models.DateField(_("完成日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("结果"), max_length=10, choices=DeadlineOutcome.choices, blank=True)
    # The action that ended it (``reply``, ``unit_accept`` …), for the violation list's "how".
    closed_by_action = models.CharField(max_length=40, blank=True)
    # Which supervision notice a SUPERVISION record belongs to (several may run at once).
    reference = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("时限记录")
        verbose_name_plural = _("时限记录")
        ordering = ["petition", "started_on", "pk"]
        indexes = [
            models.Index(fields=["petition", "kind"], name="deadline_petition_idx"),
            # The roll-up recomputes one day at a time by due date (stats.rollup).
            models.Index(fields=["due_on"], name="deadline_due_idx"),
            # 时限违规 per unit: a subtree's records by due date.
            models.Index(
                fields=["organisation_path", "due_on"],
                name="deadline_scope_idx",
                opclasses=["varchar_pattern_ops", "date_ops"],
            ),
            models.Index(fields=["due_on"], name="deadline_open_idx", condition=Q(closed_on__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.kind} → {self.due_on}"

    @property
    def missed(self) -> bool:
        if self.outcome == DeadlineOutcome.LATE:
            return True
        return not self.outcome and self.due_on < timezone.localdate()
