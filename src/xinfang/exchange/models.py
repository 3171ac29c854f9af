"""Models of exchange: the peers (other installations or platforms), the referrals received from
the level above (``Referral``, one per petition) with the reports sent back (``ReferralReport``),
the referrals we send to a level below (``OutboundReferral``), and the outbox of HTTP calls to
peers (``Delivery``), delivered by the worker with retries so nothing is lost when a peer is down.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.core.fields import EncryptedTextField
from xinfang.petitions.models import Petition


class Peer(models.Model):
    """Another Xinfang installation (or another platform) we exchange referrals with.

    ``token`` is the API token *we* use at the peer (encrypted at rest, never shown again after
    entry); ``account`` is the local system account the peer calls *us* with: a request is matched
    to its peer by the token's account, never by a URL in the body."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    base_url = models.URLField(_("接口地址"), max_length=200, blank=True)
    token = EncryptedTextField(_("访问令牌"), blank=True, default="")
    token_hint = models.CharField(_("令牌前缀"), max_length=16, blank=True, editable=False)
    remote_office_code = models.CharField(
        _("对方机构代码"), max_length=40, blank=True, help_text=_("交办给对方时对方的信访工作机构代码")
    )
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("对方使用的本地系统账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exchange_peer",
    )
    is_enabled = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("对接平台")
        verbose_name_plural = _("对接平台")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", _("已接收待报告")
    DRAFTED = "drafted", _("报告已起草")
    REPORTED = "reported", _("已报告")
    ACCEPTED = "accepted", _("上级已认可")
    RETURNED = "returned", _("上级退回重报")


OPEN_REFERRAL_STATUSES = (ReferralStatus.RECEIVED, ReferralStatus.DRAFTED, ReferralStatus.RETURNED)


class Referral(models.Model):
    """A petition referred to us by the level above (上级交办): registered here with channel
    ``referral``, it keeps the upper level's case number and its own deadline."""

    petition = models.OneToOneField(Petition, on_delete=models.PROTECT, related_name="referral")
    peer = models.ForeignKey(
        Peer, verbose_name=_("交办平台"), null=True, blank=True, on_delete=models.PROTECT
    )
    upper_organisation = models.CharField(_("交办单位"), max_length=100)
    upper_case_number = models.CharField(_("上级编号"), max_length=60)
    upper_reference = models.CharField(_("上级交办标识"), max_length=100, blank=True)
    upper_due_on = models.DateField(_("上级期限"), null=True, blank=True)
    report_required = models.BooleanField(_("须报告结果"), default=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.RECEIVED
    )
    return_reason = models.TextField(_("退回理由"), blank=True)
    reported_on = models.DateField(_("报告日期"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("上级交办事项")
        verbose_name_plural = _("上级交办事项")
        indexes = [
            # the ledger: open work first, by the upper level's deadline; the workbench panel
            models.Index(fields=["status", "upper_due_on", "id"], name="exchange_ref_status_due_idx"),
            models.Index(fields=["received_at", "id"], name="exchange_ref_received_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["peer", "upper_case_number"], name="exchange_ref_unique_case"),
        ]

    def __str__(self) -> str:
        return f"{self.upper_case_number} → {self.petition_id}"

    def is_overdue(self, today: object = None) -> bool:
        """Past the upper level's deadline and not reported yet."""
        today = today or timezone.localdate()
        return (
            self.upper_due_on is not None
            and self.status in OPEN_REFERRAL_STATUSES
            and self.upper_due_on < today  # type: ignore[operator]
        )


class ReportDecision(models.TextChoices):
    PENDING = "pending", _("待上级审核")
    ACCEPTED = "accepted", _("已认可")
    RETURNED = "returned", _("退回重报")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    APPROVED = "approved", _("已审批")
    ISSUED = "issued", _("已印发并报送")


class ReferralReport(models.Model):
    """The report back (上级交办事项办理情况报告): a document of its own — drafted, approved by a
    leader where the office wants it, issued with a 文号 and its DOCX (``report_document``); issuing
    is the step that sends it.  Every report sent is kept, with the upper level's answer."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(
        _("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    process = models.TextField(_("办理过程"), blank=True)
    result = models.TextField(_("办理结果"), blank=True)
    text = models.TextField(_("报告内容"))
    document_number = models.CharField(_("文号"), max_length=60, blank=True)
    docx = EncryptedTextField(blank=True, default="")  # the issued DOCX, base64, encrypted at rest
    handled_on = models.DateField(_("办结日期"))
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(_("送达上级时间"), null=True, blank=True)
    decision = models.CharField(
        _("上级意见"), max_length=10, choices=ReportDecision.choices, default=ReportDecision.PENDING
    )
    decision_reason = models.TextField(_("退回理由"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["referral", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.document_number or self.handled_on}"


class OutboundStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败（重试中）")
    RECEIVED = "received", _("对方已接收")
    REPORTED = "reported", _("对方已报告")
    ACCEPTED = "accepted", _("已认可报告")
    RETURNED = "returned", _("已退回重报")


OPEN_OUTBOUND_STATUSES = (
    OutboundStatus.SENT,
    OutboundStatus.FAILED,
    OutboundStatus.RECEIVED,
    OutboundStatus.RETURNED,
)


class OutboundReferral(models.Model):
    """One of our petitions referred to a peer (a level below running its own system)."""

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="outbound_referrals")
    peer = models.ForeignKey(Peer, verbose_name=_("交办对象"), on_delete=models.PROTECT, related_name="+")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(_("交办时间"), default=timezone.now)
    due_on = models.DateField(_("报告期限"))
    report_required = models.BooleanField(_("须报告结果"), default=True)
    instructions = models.TextField(_("交办要求"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.SENT
    )
    last_error = models.TextField(_("最近一次发送错误"), blank=True)
    remote_number = models.CharField(_("对方编号"), max_length=60, blank=True)
    report_text = models.TextField(_("报告内容"), blank=True)
    report_number = models.CharField(_("报告文号"), max_length=60, blank=True)
    report_handled_on = models.DateField(_("办结日期"), null=True, blank=True)
    report_received_at = models.DateTimeField(_("收到报告时间"), null=True, blank=True)
    # the report's DOCX as sent by the peer, base64, encrypted at rest like every stored document
    report_file = EncryptedTextField(blank=True, default="")
    report_filename = models.CharField(max_length=200, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)

    class Meta:
        verbose_name = _("向下交办事项")
        verbose_name_plural = _("向下交办事项")
        indexes = [
            models.Index(fields=["status", "due_on", "id"], name="exchange_out_status_due_idx"),
            models.Index(fields=["sent_at", "id"], name="exchange_out_sent_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["petition", "peer"], name="exchange_out_unique_peer"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} → {self.peer_id}"

    def is_overdue(self, today: object = None) -> bool:
        today = today or timezone.localdate()
        return self.status in OPEN_OUTBOUND_STATUSES and self.due_on < today  # type: ignore[operator]


class DeliveryKind(models.TextChoices):
    REFER = "refer", _("交办")
    REPORT = "report", _("报告")
    ACCEPT = "accept", _("认可报告")
    RETURN = "return", _("退回重报")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已送达")
    FAILED = "failed", _("发送失败")


class Delivery(models.Model):
    """One HTTP call to a peer, written in the transaction of the action (the outbox rule) and
    sent by the worker (``tasks.deliver``), retried with backoff until the peer answers."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    path = models.CharField(max_length=300)
    # what we send (may hold petitioners' personal data): encrypted JSON
    payload = EncryptedTextField(blank=True, default="")
    idempotency_key = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    outbound = models.ForeignKey(
        OutboundReferral, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    report = models.ForeignKey(
        ReferralReport, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="exchange_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"
