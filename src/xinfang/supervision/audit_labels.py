"""The audit page's Chinese for what supervision writes (audit/labels.py): the ``petition.<action>``
codes of the supervision transitions (registered after workflow's own labels, which only know the
table as it was when workflow became ready), the export of a notice list, and the coded values of
the details (the kind of a notice, its previous status, the list exported)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinfang.audit import labels

from .models import NoticeKind, NoticeStatus
from .transitions import TRANSITIONS


def register_audit_labels() -> None:
    labels.register(
        actions={
            **{f"petition.{t.action}": t.label for t in TRANSITIONS},
            "supervision.export": _("导出督办通知列表"),
        },
        values={
            "kind": dict(NoticeKind.choices),
            "previous": dict(NoticeStatus.choices),
            "list": {
                "awaiting": _("本机关督办 · 待反馈"),
                "review": _("本机关督办 · 待审核反馈"),
                "listed": _("挂牌督办"),
                "to-answer": _("发给本单位的督办"),
            },
        },
    )
