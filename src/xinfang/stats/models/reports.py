"""A petition office's own DOCX template for its monthly or annual report (issue #9 §6).

Without one, the default templates in ``stats/report_templates/`` are used.  The file is kept in
the database (a few tens of kilobytes, no personal data): it is then in every backup with the rest
of the site, and an upload that fails validation leaves nothing behind on disk.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.organisations.models import Organisation


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", _("信访工作月报")
    ANNUAL = "annual", _("年度信访工作报告")


class ReportTemplate(models.Model):
    """The template one petition office uses for one kind of report (one per office and kind:
    an upload replaces the previous one, deleting it restores the default)."""

    office = models.ForeignKey(
        Organisation, verbose_name=_("信访部门"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("报告类型"), max_length=10, choices=ReportKind.choices)
    filename = models.CharField(_("文件名"), max_length=200)
    content = models.BinaryField(_("模板文件"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("报告模板")
        verbose_name_plural = _("报告模板")
        constraints = [models.UniqueConstraint(fields=["office", "kind"], name="report_template_unique")]

    def __str__(self) -> str:
        return f"{self.office} · {self.get_kind_display()}"
