"""Forms of the notification pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import MessageTemplate, used_placeholders


class TemplateForm(forms.ModelForm):
    """Reword a template; only the placeholders the code fills for it are allowed."""

    class Meta:
        model = MessageTemplate
        fields = ["name", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        used = used_placeholders(text)  # raises for unbalanced braces
        unknown = sorted(set(used) - set(self.instance.allowed))
        if unknown:
            raise ValidationError(
                _("不能使用以下占位符：%(names)s。可用的占位符：%(allowed)s。"),
                params={
                    "names": "、".join("{" + n + "}" for n in unknown),
                    "allowed": "、".join("{" + n + "}" for n in self.instance.allowed) or "—",
                },
                code="unknown_placeholder",
            )
        if len(text) > 300:
            # One SMS is 70 characters, long ones are split up to a few parts; keep them short.
            raise ValidationError(_("短信内容不能超过300字。"), code="too_long")
        return text

    def save(self, commit: bool = True) -> Any:  # pragma: no cover - the view saves via the service
        raise NotImplementedError


def read_ids(data: Any) -> list[int] | None:
    """The ids a "mark as read" request names (None: all).  Ids that are not the user's own are
    ignored later by services.mark_read; anything not a number is dropped here."""
    if str(data.get("all", "")).lower() in {"1", "true", "on"}:
        return None
    raw = data.getlist("ids") if hasattr(data, "getlist") else data.get("ids", [])
    return [int(v) for v in raw if str(v).isdigit()][:1000]
