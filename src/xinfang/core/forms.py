"""Form helpers shared by every app."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that accepts several files; type and size checks stay in the services."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):  # type: ignore[override]
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def add_service_errors(
    form: forms.Form, error: ValidationError, *, prefix_map: dict[str, forms.Form] | None = None
) -> None:
    """Attach a service's field-keyed ValidationError to a form (and sub-forms by key prefix).

    Keys the form does not know are shown as non-field errors, so no message is ever lost.
    """
    prefix_map = prefix_map or {}
    messages = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for key, texts in messages.items():
        target, field = form, key
        for prefix, sub_form in prefix_map.items():
            if key and key.startswith(prefix):
                target, field = sub_form, key[len(prefix) :]
                break
        for text in texts:
            if field in target.fields:
                target.add_error(field, text)
            else:
                form.add_error(None, text)
