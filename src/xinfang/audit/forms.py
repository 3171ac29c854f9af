"""The audit page's search form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import labels
from .services import LogFilters


def _action_choices() -> list[tuple[str, str]]:
    codes = sorted(labels.action_codes(), key=labels.action_label)
    return [("", _("全部操作")), *((code, labels.action_label(code)) for code in codes)]


_DATE = forms.DateInput(attrs={"type": "date"})


class LogFilterForm(forms.Form):
    action = forms.CharField(label=_("操作"), required=False, max_length=60, widget=forms.Select)
    actor = forms.CharField(label=_("操作人账号"), required=False, max_length=150)
    object = forms.CharField(label=_("对象（如信访编号）"), required=False, max_length=200)
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # A code without a label (an old row of a retired action) can still be searched by URL.
        self.fields["action"].widget.choices = _action_choices()

    def filters(self) -> LogFilters:
        """The valid filters (an invalid date is left out and shown as an error on the form)."""
        if not self.is_bound:
            return LogFilters()
        self.is_valid()  # cleaned_data keeps the valid fields only
        data = self.cleaned_data
        return LogFilters(
            action=(data.get("action") or "").strip(),
            actor=(data.get("actor") or "").strip(),
            object=(data.get("object") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
