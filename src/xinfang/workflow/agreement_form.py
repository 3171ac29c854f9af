"""The action panel's form for 记录调解和解协议 (``services.record_agreement``, Art. 33).

Registered through ``actions.register_action`` like the actions of apps above workflow, so the
panel shows the transition with its own two fields.  The documents app drafts the agreement itself
(调解/和解协议书) and, issuing it, records the step; it may point the panel there instead
(``actions.register_redirect``).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.petitions.models import Petition


def _parties(petition: Petition) -> forms.Field:
    return forms.CharField(
        label=_("协议各方"), required=False, max_length=500,
        help_text=_("例如：信访人张某与某某公司"),
    )  # fmt: skip


def _terms(petition: Petition) -> forms.Field:
    return forms.CharField(
        label=_("协议内容"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("协议内容将在信访人的办理进度中公开；协议履行后，由信访部门以达成协议为由终结。"),
    )  # fmt: skip


def register_panel_action() -> None:
    from . import services
    from .actions import register_action

    register_action(
        "record_agreement", services.record_agreement, ("parties", "terms"),
        {"parties": _parties, "terms": _terms},
    )  # fmt: skip
