"""Models of information sent up the chain (信访信息、摘报): the report itself, its links to the
petitions and disputes it draws on, and the gap-free issue numbers (期号) per office and year."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    DIGEST = "digest", _("信访摘报")
    BULLETIN = "bulletin", _("信访工作动态")
    IMPORTANT = "important", _("重要信访事项报告")
    # 《信访工作条例》第二十五条: 重大、紧急信访事项和信访信息 are reported at once.
    URGENT = "urgent", _("紧急信息")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待签发")
    RETURNED = "returned", _("已退回修改")
    SIGNED = "signed", _("已签发待报送")
    SENT = "sent", _("已报送")


class ReportUse(models.TextChoices):
    """What the receiving office did with a report it read (阅读/采用情况)."""

    NONE = "", _("未反馈")
    USED = "used", _("已采用")
    INSTRUCTED = "instructed", _("领导已批示")
    NOTED = "noted", _("阅知")


class InformationReport(models.Model):
    """One 信访信息: drafted by a clerk of a petition office, signed off by an approver, sent to the
    petition office of the level above, read and perhaps used (采用/批示) there."""

    kind = models.CharField(_("类别"), max_length=12, choices=ReportKind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    office = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("报送单位")
    )
    receiver = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("接收单位")
    )
    # 期号: taken when the report is sent, so a draft that is never sent leaves no gap.
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("期号"), null=True, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    # The figures of a period, frozen as JSON when the draft is saved and never recomputed once
    # submitted: {"start", "end", "area", "rows": [{"metric", "label", "unit", "value"}]}.
    figures = models.JSONField(_("数据"), default=dict, blank=True)
    petitions = models.ManyToManyField(
        "petitions.Petition", blank=True, related_name="+", verbose_name=_("涉及信访事项")
    )
    disputes = models.ManyToManyField(
        "screening.Dispute", blank=True, related_name="+", verbose_name=_("涉及矛盾纠纷")
    )

    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("拟稿人")
    )
    created_at = models.DateTimeField(_("拟稿时间"))
    updated_at = models.DateTimeField(_("修改时间"))
    # The approver the clerk asked (optional: empty means any approver of the office may sign).
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("送签领导"),
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("送签时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("退回人"),
    )  # fmt: skip
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("签发人"),
    )  # fmt: skip
    signed_at = models.DateTimeField(_("签发时间"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("报送人"),
    )  # fmt: skip
    sent_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    copy_to = models.CharField(_("抄送"), max_length=200, blank=True)

    # The receiving office's side.
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("阅读人"),
    )  # fmt: skip
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    use = models.CharField(_("采用情况"), max_length=12, choices=ReportUse.choices, default="", blank=True)
    feedback = models.TextField(_("反馈意见"), blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("反馈人"),
    )  # fmt: skip
    feedback_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("信访信息")
        verbose_name_plural = _("信访信息")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            # The office's own ledger (by status, newest first) and its workbench panels.
            models.Index(fields=["office", "status", "-updated_at"], name="info_office_idx"),
            # The inbox of the office above: sent reports, unread first, newest first.
            models.Index(fields=["receiver", "status", "read_at", "-sent_at"], name="info_inbox_idx"),
            models.Index(fields=["approver", "status"], name="info_approver_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "year", "sequence"],
                condition=models.Q(sequence__isnull=False),
                name="info_unique_issue_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue_label} {self.title}"

    @property
    def issue_label(self) -> str:
        """第12期 (with the year: 2026年第12期), or empty before the report is sent."""
        if self.sequence is None:
            return ""
        return _("%(year)s年第%(n)s期") % {"year": self.year, "n": self.sequence}

    @property
    def is_urgent(self) -> bool:
        return self.kind == ReportKind.URGENT

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.splitlines() if p.strip()]


class IssueSequence(models.Model):
    """The last 期号 used per sending office and year: ``UPDATE … SET last = last + 1`` inside the
    sending transaction (gap-free like ``documents.ReferenceSequence``; a rollback returns it)."""

    office = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "year"], name="info_issue_sequence")]

    def __str__(self) -> str:
        return f"{self.office_id} {self.year}: {self.last}"
