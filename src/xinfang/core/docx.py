"""Checks every uploaded DOCX template passes before docxtpl opens it (the report templates of
``stats.reports`` and the document templates of ``documents.templates_admin``): not empty, not too
large, a real Word document, and not a small zip that unpacks to gigabytes."""

from __future__ import annotations

import io
import zipfile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # a DOCX is a zip: refuse a small file that unpacks to gigabytes


def check_docx_file(content: bytes) -> None:
    """Refuse what is not a DOCX of a sensible size, with a message that says what to do."""
    if not content:
        raise ValidationError(_("请选择模板文件。"), code="empty")
    if len(content) > MAX_TEMPLATE_BYTES:
        raise ValidationError(_("模板文件不能超过5MB。"), code="too_large")
    not_docx = ValidationError(
        _("模板必须是Word文档（.docx），请在Word中另存为.docx后重新上传。"), code="not_docx"
    )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if "word/document.xml" not in archive.namelist():
                raise not_docx
    except zipfile.BadZipFile:
        raise not_docx from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationError(_("模板文件解压后超过50MB，请删除其中的大图片后重新上传。"), code="too_large")
