"""Documents (文书): every letter and form the procedure issues, numbered, approved, issued and
served (issue #10).

An issued document is a record: its body, its reference number, the template version it was made
with and the DOCX and PDF themselves are kept and never change.  A correction is a new document
that supersedes the old one; both stay on file.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.core.fields import EncryptedTextField
from xinfang.organisations.models import Organisation

from .choices import Addressee, DocumentKind, DocumentStatus, ServiceMethod


class DocumentTemplate(models.Model):
    """One version of the DOCX template of one kind.  Uploading makes a new version, which the next
    document uses; a document keeps the version it was made with.  Without any uploaded version the
    default in ``default_templates/<kind>.docx`` is used (version 0).  The file is kept in the
    database (tens of kilobytes, no personal data), so it is in every backup."""

    kind = models.CharField(_("文书种类"), max_length=20, choices=DocumentKind.choices)
    version = models.PositiveIntegerField(_("版本"))
    filename = models.CharField(_("文件名"), max_length=200)
    content = models.BinaryField(_("模板文件"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("文书模板")
        verbose_name_plural = _("文书模板")
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="document_template_version")]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class KindSetting(models.Model):
    """Per organisation and kind: the prefix of the reference number (e.g. 青信受 → 青信受〔2026〕12号)
    and whether a leader approves before issue.  Set by the system administrator; an organisation
    without a row uses ``kinds.default_prefix`` and the kind's default approval rule."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("发文机关"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("文书种类"), max_length=20, choices=DocumentKind.choices)
    prefix = models.CharField(_("文号前缀"), max_length=20)
    requires_approval = models.BooleanField(_("印发前须领导审批"), default=False)

    class Meta:
        verbose_name = _("文书设置")
        verbose_name_plural = _("文书设置")
        constraints = [models.UniqueConstraint(fields=["organisation", "kind"], name="document_kind_setting")]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.kind} {self.prefix}"


class ReferenceSequence(models.Model):
    """The last reference number used per issuing organisation, kind and year: incremented with
    ``UPDATE … SET last = last + 1`` inside the issuing transaction (gap-free, like
    ``petitions.NumberSequence``; a rollback returns the number)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "year"], name="document_reference_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.kind} {self.year}: {self.last}"


class Document(models.Model):
    """A document of one petition, from draft to service."""

    ENCRYPTED_FILE_FIELDS = ("docx_file", "pdf_file")

    petition = models.ForeignKey("petitions.Petition", on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("文书种类"), max_length=20, choices=DocumentKind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("发文机关"), on_delete=models.PROTECT, related_name="+"
    )
    addressee_kind = models.CharField(_("受文对象"), max_length=10, choices=Addressee.choices)
    addressee = models.CharField(_("受文人"), max_length=200)  # a name or a unit's name
    addressee_unit = models.ForeignKey(
        Organisation, verbose_name=_("受文单位"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    # The body: the kind's fields as JSON, encrypted (it may hold the petitioner's address).
    body_json = EncryptedTextField(_("正文字段"), default="{}")
    template = models.ForeignKey(
        DocumentTemplate, verbose_name=_("模板版本"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="documents",
    )  # fmt: skip  # NULL: the built-in default template (version 0)
    # What the document records in the procedure (set on issue), so service can start the windows.
    letter = models.ForeignKey(
        "workflow.DecisionLetter", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    appeal = models.ForeignKey(
        "workflow.Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    supersedes = models.OneToOneField(
        "self", verbose_name=_("更正的文书"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="superseded_by",
    )  # fmt: skip
    # drafting, approval, issue
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(_("起草时间"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    approval_note = models.TextField(_("审批意见"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    issued_on = models.DateField(_("成文日期"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    reference = models.CharField(_("文号"), max_length=60, blank=True)
    docx_file = models.FileField(_("DOCX"), upload_to="documents/%Y/%m/", blank=True)
    pdf_file = models.FileField(_("PDF"), upload_to="documents/%Y/%m/", blank=True)
    # service (送达)
    served_on = models.DateField(_("送达日期"), null=True, blank=True)
    service_method = models.CharField(_("送达方式"), max_length=15, choices=ServiceMethod.choices, blank=True)
    service_detail = models.JSONField(_("送达情况"), default=dict, blank=True)
    service_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_recorded_at = models.DateTimeField(_("送达登记时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["petition", "drafted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "year", "sequence"],
                condition=Q(sequence__isnull=False),
                name="document_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(status="issued", sequence__isnull=False, issued_on__isnull=False)
                | ~Q(status="issued"),
                name="document_issued_numbered",
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "kind"], name="document_petition_idx"),
            # "issued, not yet served" per office, oldest first
            models.Index(
                fields=["organisation", "status", "served_on", "issued_on"], name="document_unserved_idx"
            ),
            models.Index(fields=["status", "drafted_at"], name="document_status_idx"),
        ]

    def __str__(self) -> str:
        return self.reference or f"{self.get_kind_display()}（{self.get_status_display()}）"

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.body_json or "{}")

    @body.setter
    def body(self, value: dict[str, Any]) -> None:
        self.body_json = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)

    @property
    def is_issued(self) -> bool:
        return self.status == DocumentStatus.ISSUED

    @property
    def is_served(self) -> bool:
        return self.served_on is not None


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class DocumentBatch(models.Model):
    """批量打印: the issued documents of one kind, of one issuing organisation, issued within a date
    range (e.g. a month's receipts), merged into one PDF by the worker (``batch_tasks.make_batch``)
    so the office prints them in one go.  The merged file is kept encrypted like every document."""

    ENCRYPTED_FILE_FIELDS = ("pdf_file",)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("发文机关"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("文书种类"), max_length=20, choices=DocumentKind.choices)
    start = models.DateField(_("成文日期自"))
    end = models.DateField(_("成文日期至"))
    status = models.CharField(
        _("状态"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    count = models.PositiveIntegerField(_("文书份数"), default=0)
    pdf_file = models.FileField(_("PDF"), upload_to="documents/batches/%Y/%m/", blank=True)
    error = models.TextField(_("失败原因"), blank=True)
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("批量打印")
        verbose_name_plural = _("批量打印")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "requested_at"], name="document_batch_org_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start}–{self.end}"
