"""Importing an office's history (issue #12 §2): one ``ImportRun`` per uploaded file and one
``ImportedRecord`` per petition it brought in, the key that makes a re-import change nothing."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation


def upload_path(instance: ImportRun, filename: str) -> str:
    # A random name: the original file name may itself carry personal data.
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class RunStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    CHECKED = "checked", _("已校验")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportRun(models.Model):
    """One file brought in: its counts, its progress and its rejected rows.

    The uploaded file is personal data: it is stored encrypted (``ENCRYPTED_FILE_FIELDS``, as
    attachments are) and deleted when the run ends; what stays is the counts and the rejected
    rows' reasons (row, column, message — never the cell's value)."""

    ENCRYPTED_FILE_FIELDS = ("file",)

    office = models.ForeignKey(
        Organisation, verbose_name=_("导入机构"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("来源系统"), max_length=50)
    file = models.FileField(_("文件"), upload_to=upload_path, max_length=200, blank=True)
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    file_format = models.CharField(max_length=5, blank=True)  # "csv" or "xlsx"
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Written with every progress update: a run whose worker was killed stops beating, and the
    # task's redelivery may then take it over and resume it (tasks.run_import).
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(_("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.UPLOADED)
    dry_run = models.BooleanField(_("仅校验"), default=False)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    imported = models.PositiveIntegerField(_("已导入"), default=0)
    skipped = models.PositiveIntegerField(_("此前已导入"), default=0)
    rejected = models.PositiveIntegerField(_("被拒绝"), default=0)
    # [{"row": 3, "column": "身份证号", "message": "…"}], in row order; capped (services.MAX_ERRORS).
    errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(_("失败原因"), blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["office", "-created_at"], name="import_run_office_idx")]

    def __str__(self) -> str:
        return f"{self.file_name or self.source} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else (100 if self.finished_at else 0)


class ImportedRecord(models.Model):
    """A petition brought in from another system, keyed by that system's id: (office, source,
    source id) is unique, so importing the same file again finds every row here and skips it.

    The office is part of the key: two offices that both call their old system "旧系统" must not
    take each other's rows for already imported."""

    office = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("来源系统"), max_length=50)
    source_id = models.CharField(_("来源编号"), max_length=100)
    petition = models.OneToOneField(
        "petitions.Petition", on_delete=models.CASCADE, related_name="imported_record"
    )
    run = models.ForeignKey(
        ImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )
    # The number the old system printed, when it is not in this office's format and the petition
    # got a new one (docs/import.md, "Numbers").
    original_number = models.CharField(_("原编号"), max_length=100, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "source", "source_id"], name="imported_record_source_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"
