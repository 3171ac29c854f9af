"""Supervision notices (督办通知) and the unit's feedback on them (《信访工作条例》第三十九条、第四十条).

A petition office — any level whose scope includes the petition and that does not handle it
itself — issues a notice to the body handling the petition ("the unit").  The petition's own state
never changes: the notice is a second track beside the procedure, with its own small life
(open → answered → accepted, or returned → open again, or lifted by the issuer at any time).
Several notices may be open on one petition at once (e.g. the city and the province).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Petition


class NoticeKind(models.TextChoices):
    URGE = "urge", _("催办")
    FORMAL = "formal", _("督办")
    LISTED = "listed", _("挂牌督办")
    ONSITE = "onsite", _("现场督办")


class NoticeStatus(models.TextChoices):
    OPEN = "open", _("待反馈")
    ANSWERED = "answered", _("已反馈待审核")
    ACCEPTED = "accepted", _("已办结")
    LIFTED = "lifted", _("已解除")


# Notices still waiting for someone: the unit (open) or the issuing office (answered).
LIVE_NOTICE_STATUSES = (NoticeStatus.OPEN, NoticeStatus.ANSWERED)


class EscalationLevel(models.IntegerChoices):
    NONE = 0, _("未升级")
    UNIT_LEADERS = 1, _("已告知承办单位领导")
    LEVEL_ABOVE = 2, _("已报上一级信访部门")


class FeedbackDecision(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACCEPTED = "accepted", _("已认可")
    RETURNED = "returned", _("已退回")


class SupervisionNotice(models.Model):
    """One supervision notice issued by a petition office to the body handling a petition."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="supervision_notices")
    kind = models.CharField(_("督办方式"), max_length=10, choices=NoticeKind.choices)
    office = models.ForeignKey(
        Organisation, verbose_name=_("督办机关"), on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("督办人"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    # The body supervised: the handling body when the notice was issued.  Kept even if the petition
    # later moves, so the notice still says whom it was addressed to.
    unit = models.ForeignKey(
        Organisation, verbose_name=_("被督办单位"), on_delete=models.PROTECT, related_name="+"
    )
    requirements = models.TextField(_("督办要求"))
    respond_by = models.DateField(_("反馈期限"))
    # 挂牌督办 names a leader of the issuing office (or its government) who answers for it.
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("挂牌领导"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("督办状态"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.OPEN
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("升级程度"), choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    # Only this flag ever reaches the portal, as the one line "上级机关已督办" (no details).
    published = models.BooleanField(_("向信访人公开已督办"), default=False)
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解除人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lift_reason = models.TextField(_("解除理由"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("督办通知")
        verbose_name_plural = _("督办通知")
        ordering = ["-issued_at", "-id"]
        indexes = [
            # The petition page's panel.
            models.Index(fields=["petition", "status"], name="notice_petition_idx"),
            # "Notices to answer" of a unit (its workbench section), soonest deadline first.
            models.Index(fields=["unit", "status", "respond_by"], name="notice_unit_idx"),
            # "Issued by my office": awaiting answer / answered awaiting review.
            models.Index(fields=["office", "status", "respond_by"], name="notice_office_idx"),
            # The daily escalation scan: open notices past respond_by.
            models.Index(fields=["status", "respond_by"], name="notice_due_idx"),
            # The listed-supervision list (挂牌督办).
            models.Index(fields=["kind", "status"], name="notice_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=NoticeKind.LISTED) | Q(leader__isnull=False),
                name="notice_listed_has_leader",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.petition_id} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_NOTICE_STATUSES

    def is_overdue(self, today=None) -> bool:
        """Open and past its respond_by date: the unit has not answered in time."""
        today = today or timezone.localdate()
        return self.status == NoticeStatus.OPEN and self.respond_by < today


class SupervisionFeedback(models.Model):
    """A progress report by the unit on a notice, and the issuing office's decision on it."""

    notice = models.ForeignKey(SupervisionNotice, on_delete=models.CASCADE, related_name="feedback")
    text = models.TextField(_("反馈内容"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("反馈人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("反馈时间"), default=timezone.now)
    decision = models.CharField(
        _("审核结果"), max_length=10, choices=FeedbackDecision.choices, default=FeedbackDecision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("督办反馈")
        verbose_name_plural = _("督办反馈")
        ordering = ["submitted_at", "id"]
        indexes = [models.Index(fields=["notice", "submitted_at"], name="feedback_notice_idx")]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.get_decision_display()}"


# --- Automatic urging (催办, issue #8 §3): owner helper S2, see ``urging.py`` --------------------


class ReminderStep(models.TextChoices):
    BEFORE = "before", _("即将到期")
    DUE = "due", _("今日到期")
    OVERDUE = "overdue", _("已超期")


class Reminder(models.Model):
    """One automatic reminder (系统催办) raised by the daily pass for one staff deadline.

    "Before" and "due" are raised once per deadline, whatever day the pass first sees them (a pass
    missed because the worker was down catches up); "overdue" once per working day the deadline
    stays missed.  The two partial unique constraints say exactly that, so a second pass — even one
    running at the same time — inserts nothing again (``INSERT … ON CONFLICT DO NOTHING``).  A new
    deadline (an extension, a new step of the procedure) is a new ``due_on`` and is urged afresh.
    """

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="reminders")
    due_on = models.DateField(_("办理时限"))
    step = models.CharField(_("催办节点"), max_length=10, choices=ReminderStep.choices)
    on = models.DateField(_("催办日期"))
    # The pass's own timestamp: every row of one pass has the same value, which is how the pass
    # finds the rows it inserted itself (to notify only for those).
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("系统催办")
        verbose_name_plural = _("系统催办")
        ordering = ["petition", "-on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "due_on", "step"],
                condition=~Q(step="overdue"),
                name="reminder_once_per_deadline",
            ),
            models.UniqueConstraint(
                fields=["petition", "due_on", "step", "on"], name="reminder_once_per_day"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="reminder_run_idx")]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.step} {self.due_on} @{self.on}"


# --- 约谈 / 通报 / 改进工作建议 (《信访工作条例》第三十九条、第四十条): owner helper S2 ------------


class AccountabilityKind(models.TextChoices):
    SUMMONS = "summons", _("约谈")
    CIRCULAR = "circular", _("通报")
    RECOMMENDATION = "recommendation", _("改进工作建议")


class AccountabilityStatus(models.TextChoices):
    OPEN = "open", _("待回复")
    ANSWERED = "answered", _("已回复")
    CLOSED = "closed", _("已办结")


class Accountability(models.Model):
    """A summons (约谈), a circulated notice (通报) or a recommendation to improve work (改进工作建议)
    issued by a petition office to an organisation in its scope, with the petitions concerned and
    the organisation's written response.  See ``accountability.py`` for who may do what."""

    kind = models.CharField(_("类别"), max_length=16, choices=AccountabilityKind.choices)
    office = models.ForeignKey(
        Organisation, verbose_name=_("发出机关"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Organisation, verbose_name=_("对象单位"), on_delete=models.PROTECT, related_name="+"
    )
    petitions = models.ManyToManyField(
        Petition, verbose_name=_("涉及信访事项"), blank=True, related_name="accountabilities"
    )
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(_("内容"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发出人"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("发出时间"), default=timezone.now)
    # The date by which the unit must answer in writing; empty when no written answer is asked
    # (a circular may be for information only).
    response_due_on = models.DateField(_("书面回复期限"), null=True, blank=True)
    response = models.TextField(_("书面回复"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responded_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=AccountabilityStatus.choices, default=AccountabilityStatus.OPEN
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办结人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    close_note = models.TextField(_("办结意见"), blank=True)

    class Meta:
        verbose_name = _("约谈通报")
        verbose_name_plural = _("约谈通报")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["office", "status", "issued_at"], name="accountability_office_idx"),
            models.Index(fields=["unit", "status", "response_due_on"], name="accountability_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"

    def is_overdue(self, today=None) -> bool:
        """Still waiting for the unit's written answer after its deadline."""
        today = today or timezone.localdate()
        return (
            self.status == AccountabilityStatus.OPEN
            and self.response_due_on is not None
            and self.response_due_on < today
        )
