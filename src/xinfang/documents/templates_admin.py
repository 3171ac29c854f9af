"""Replacing the DOCX templates and the per-organisation settings of documents (issue #10: "Templates
can be replaced by an administrator and the next document uses the new version; older documents
keep theirs").  Each upload is a new ``DocumentTemplate`` version; ``services.issue`` takes the
newest for the next document and stores it on the document, so an issued document never changes.
"""

from __future__ import annotations

import contextlib
import io
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from docxtpl import DocxTemplate

from xinfang.audit.services import record_event
from xinfang.core.docx import check_docx_file
from xinfang.organisations.models import Organisation

from . import kinds as kinds_module
from .choices import DocumentKind
from .models import DocumentTemplate, KindSetting
from .rendering import DEFAULTS, default_template, jinja_env

SAMPLE_TEXT = "示例"


def has_default(kind: str) -> bool:
    return (DEFAULTS / f"{kind}.docx").exists()


def sample_context(kind: str) -> dict[str, Any]:
    """A context with every name a template of ``kind`` may print, filled with sample text: the
    common names (``rendering.common_context``), the kind's body fields, what its ``context``
    adds, and every name its default template uses (the names drawn from the record, e.g. the
    decision letter's ``review_notice``)."""
    spec = kinds_module.kind(kind)
    body = {f.name: (f.choices[0][0] if f.choices else SAMPLE_TEXT) for f in spec.fields}
    context: dict[str, Any] = {
        "title": DocumentKind(kind).label, "reference": "青信〔2026〕1号", "organisation": "示例县信访局",
        "addressee": "张三", "petition_number": "XF000000000000", "petition_title": SAMPLE_TEXT,
        "received_on": "二〇二六年一月一日", "date": "二〇二六年一月二日", "is_draft": False,
        **body,
    }  # fmt: skip
    # A context that needs a real document fails here: its names come from the default template.
    with contextlib.suppress(Exception):
        context.update(spec.context(SimpleNamespace(body=body, kind=kind)))  # type: ignore[arg-type]
    if has_default(kind):
        for name in DocxTemplate(io.BytesIO(default_template(kind))).get_undeclared_template_variables():
            context.setdefault(name, SAMPLE_TEXT)
    return context


def check_template(kind: str, content: bytes) -> None:
    """Refuse a file docxtpl cannot fill for ``kind``: not a DOCX, a broken tag, or a name the
    document does not provide (which would print as nothing)."""
    if kind not in kinds_module.KINDS:
        raise ValidationError(_("请选择文书种类。"), code="kind")
    check_docx_file(content)
    context = sample_context(kind)
    try:
        doc = DocxTemplate(io.BytesIO(content))
        unknown = doc.get_undeclared_template_variables(context=context)
        doc.render(context, jinja_env=jinja_env())
        doc.save(io.BytesIO())
    except Exception as error:  # noqa: BLE001 — any failure of an uploaded file means "refuse it"
        raise ValidationError(
            _("模板无法生成文书：{error}。请检查模板中的{{{{ }}}}与{{% %}}标记是否完整。").format(
                error=error
            ),
            code="invalid",
        ) from None
    if unknown:
        raise ValidationError(
            _("模板使用了文书中没有的字段：{names}。可用字段见默认模板。").format(
                names="、".join(sorted(unknown))
            ),
            code="unknown_names",
        )


def versions(kind: str) -> list[DocumentTemplate]:
    return list(
        DocumentTemplate.objects.filter(kind=kind)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-version")
    )


def save_template(*, user: Any, kind: str, filename: str, content: bytes, note: str = "") -> DocumentTemplate:
    """A new version of ``kind``'s template, validated, audited: the next document issued uses it."""
    check_template(kind, content)
    for _attempt in range(3):  # two administrators uploading at once: the loser takes the next number
        try:
            with transaction.atomic():
                last = DocumentTemplate.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0
                template = DocumentTemplate.objects.create(
                    kind=kind, version=last + 1, filename=filename[:200], content=content,
                    note=(note or "").strip()[:200], uploaded_by=user,
                )  # fmt: skip
                record_event(actor=user, action="document.template", obj=template,
                             data={"kind": kind, "version": template.version, "filename": filename[:200],
                                   "size": len(content)})  # fmt: skip
            return template
        except IntegrityError:
            continue
    raise ValidationError(_("其他管理员正在上传同一种文书的模板，请稍后重试。"), code="busy")


def save_setting(
    *, user: Any, organisation: Organisation, kind: str, prefix: str, requires_approval: bool
) -> KindSetting:
    """The reference prefix and the approval rule of ``organisation``'s ``kind``, audited; the next
    document issued uses them (numbers already taken keep their prefix)."""
    prefix = (prefix or "").strip()
    if kind not in kinds_module.KINDS:
        raise ValidationError({"kind": _("请选择文书种类。")})
    if not prefix:
        raise ValidationError({"prefix": _("请填写文号前缀。")})
    if any(ch in prefix for ch in "〔〕[]()（）"):
        raise ValidationError({"prefix": _("文号前缀不含年份和括号，系统自动加上〔年份〕和序号。")})
    with transaction.atomic():
        setting, created = KindSetting.objects.update_or_create(
            organisation=organisation, kind=kind,
            defaults={"prefix": prefix, "requires_approval": bool(requires_approval)},
        )  # fmt: skip
        record_event(actor=user, action="document.setting", obj=setting,
                     data={"organisation": organisation.pk, "kind": kind, "prefix": prefix,
                           "requires_approval": bool(requires_approval), "created": created})  # fmt: skip
    return setting
