"""Form helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext


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


# --- the form conventions of every page (issue #8 §7) ------------------------------------------
#
# One place instead of a base class in every app: Django renders every label and widget through
# settings.FORM_RENDERER, so the conventions hold for forms that exist today and for those added
# later, in every app, whether the template uses _field.html, label_tag or {{ field }}.

DJANGO_BLANK_LABEL = "---------"  # ModelChoiceField's empty_label and BLANK_CHOICE_DASH


def _chinese() -> bool:
    return (translation.get_language() or settings.LANGUAGE_CODE).lower().startswith("zh")


def chinese_label(label: Any) -> Any:
    """A label ending in Django's ASCII suffix ":" ends in the Chinese colon "：" instead (in Chinese)."""
    if not isinstance(label, str) or not label.endswith(":") or not _chinese():
        return label
    text = label[:-1] + "："
    return mark_safe(text) if isinstance(label, SafeData) else text  # noqa: S308 - was safe already


def _category_group(instance: Any) -> tuple[Any, ...] | None:
    """(sort key, group label) of an issue category option: its first-level class; None for other
    models.  Duck-typed on the model's label so that this floor imports no app above it."""
    meta = getattr(instance, "_meta", None)
    if meta is None or meta.label_lower != "petitions.category":
        return None
    head = instance.parent if instance.parent_id else instance
    return (head.sort_order, head.code, head.name)


def group_categories(optgroups: list[tuple[Any, list[dict], int]]) -> list[tuple[Any, list[dict], int]]:
    """A flat select of issue categories regrouped as one <optgroup> per first-level class (in the
    classes' order), each option named without its class; a first-level class itself (routing
    rules may name one) is the first option of its group.  Other selects are returned unchanged."""
    if any(name for name, _options, _index in optgroups):
        return optgroups  # already grouped by its field
    loose: list[dict] = []
    nested = False
    groups: dict[tuple[Any, ...], list[dict]] = {}
    for _name, options, _index in optgroups:
        for option in options:
            key = _category_group(getattr(option["value"], "instance", None))
            if key is None:
                if option["value"] not in ("", None):
                    return optgroups  # not a category select
                loose.append(option)
                continue
            instance = option["value"].instance
            option = {**option}
            if instance.parent_id:
                nested = True
                option["label"] = instance.name
            else:
                option["label"] = gettext("%(name)s（整类）") % {"name": instance.name}
            groups.setdefault(key, []).append(option)
    if not nested:
        return optgroups  # first-level classes only (the queue's filter): nothing to group
    result: list[tuple[Any, list[dict], int]] = [(None, [option], i) for i, option in enumerate(loose)]
    for key in sorted(groups, key=lambda k: k[:2]):
        result.append((key[2], groups[key], len(result)))
    return result


def blank_choice_label(optgroups: list[tuple[Any, list[dict], int]]) -> None:
    """An empty choice shown as Django's "---------" reads "请选择" (in place)."""
    for _name, options, _index in optgroups:
        for option in options:
            if option.get("label") == DJANGO_BLANK_LABEL:
                option["label"] = gettext("请选择")


class FormRenderer(DjangoTemplates):
    """Django's template renderer with the conventions of Chinese forms: labels end in "：", an
    empty select says "请选择", and issue categories are grouped by their first-level class."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if "label" in context and "field" in context and template_name.endswith("label.html"):
            context = {**context, "label": chinese_label(context["label"])}
        widget = context.get("widget")
        if isinstance(widget, dict) and "optgroups" in widget:
            optgroups = group_categories(widget["optgroups"])
            blank_choice_label(optgroups)
            context = {**context, "widget": {**widget, "optgroups": optgroups}}
        return super().render(template_name, context, request)
