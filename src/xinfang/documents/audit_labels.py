"""The audit page's Chinese for what the documents app writes (audit/labels.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinfang.audit import labels

from .choices import DocumentKind, ServiceMethod


def register_audit_labels() -> None:
    labels.register(
        actions={
            "document.draft": _("起草文书"),
            "document.update": _("修改文书草稿"),
            "document.approve": _("审批文书"),
            "document.return": _("退回修改文书草稿"),
            "document.issue": _("印发文书"),
            "document.service": _("登记文书送达"),
            "document.download": _("下载文书"),
            "document.view": _("查看文书"),
            "document.print": _("打印文书"),
            "document.template": _("上传文书模板"),
            "document.setting": _("修改文书设置"),
            "document.batch_request": _("申请批量打印文书"),
            "document.batch_done": _("批量打印文书已生成"),
            "document.batch_failed": _("批量打印文书失败"),
            "document.batch_download": _("下载批量打印文书"),
        },
        values={"kind": dict(DocumentKind.choices), "method": dict(ServiceMethod.choices)},
    )
