"""Staff pages for the transitions: the action panel on the petition page and the POST that
performs an action.  Parsing only; every rule is in ``services`` and ``engine``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.core import page_memo
from xinfang.organisations.models import Organisation
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.choices import FINAL_STATUSES, Conclusion, Status
from xinfang.petitions.models import Petition
from xinfang.petitions.services import person_history

from . import disputes, routing, services
from .engine import TransitionRefused, allowed_actions
from .models import AppealOutcome, Rating, ReplyOutcome


def unit_choices(petition: Petition) -> Any:
    """Units a petition office may route to (``routing.unit_choices``): its own government's area,
    plus the special-channel organs when the category demands them.  For a jurisdiction dispute, the
    organisations the common superior may name (``disputes.designable_units``)."""
    if petition.status == Status.DISPUTED:
        return disputes.designable_units(petition)
    return routing.unit_choices(petition)


class ActionForm(forms.Form):
    """Every field any action may need; each action reads only its own (the services check them)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    unit = forms.ModelChoiceField(
        label=gettext_lazy("责任单位"), queryset=Organisation.objects.none(), required=False
    )
    report_due_on = forms.DateField(
        label=gettext_lazy("限办日期"), required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )  # fmt: skip
    reasons = forms.CharField(
        label=gettext_lazy("理由"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    channel = forms.CharField(label=gettext_lazy("法定途径"), required=False)
    days = forms.IntegerField(label=gettext_lazy("申请延长天数"), required=False, min_value=1)
    outcome = forms.ChoiceField(
        label=gettext_lazy("处理结果"), required=False,
        choices=[("", "---------"), *ReplyOutcome.choices],
    )  # fmt: skip
    facts = forms.CharField(
        label=gettext_lazy("查明事实"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    basis = forms.CharField(
        label=gettext_lazy("法律政策依据"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    opinion = forms.CharField(
        label=gettext_lazy("处理意见"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    comment = forms.CharField(
        label=gettext_lazy("内部意见"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    office_rating = forms.ChoiceField(
        label=gettext_lazy("对信访部门的评价"), required=False, choices=[("", "---------"), *Rating.choices]
    )
    unit_rating = forms.ChoiceField(
        label=gettext_lazy("对办理单位的评价"), required=False, choices=[("", "---------"), *Rating.choices]
    )
    appeal_outcome = forms.ChoiceField(
        label=gettext_lazy("结论"), required=False, choices=[("", "---------"), *AppealOutcome.choices]
    )
    conclusion = forms.ChoiceField(
        label=gettext_lazy("终结理由"), required=False,
        choices=[("", "---------"), *[c for c in Conclusion.choices if c[0] != Conclusion.RECHECKED]],
    )  # fmt: skip
    # merge: chosen among the same person's other open petitions (issue #8 §7), never typed
    into = forms.ChoiceField(
        label=gettext_lazy("合并到信访事项"), required=False, choices=(),
        help_text=gettext_lazy("同一信访人在您可见范围内、仍在办理中的其他信访事项。"),
    )  # fmt: skip
    staff = forms.CharField(
        label=gettext_lazy("回避人员（用户名，留空为本人）"), required=False, max_length=150
    )
    # name_subject: whom a report accuses (issue #7 point 1)
    subject_organisation = forms.ModelChoiceField(
        label=gettext_lazy("被检举控告单位"), queryset=Organisation.objects.none(), required=False
    )
    no_subject_organisation = forms.BooleanField(
        label=gettext_lazy("经核实，检举控告未指向具体单位"), required=False
    )
    subject_name = forms.CharField(
        label=gettext_lazy("被反映人/单位（原文）"), required=False, max_length=200
    )
    subject_person = forms.CharField(
        label=gettext_lazy("被检举控告人（加密保存）"), required=False, max_length=200
    )

    handler = forms.ChoiceField(label=gettext_lazy("承办人"), required=False, choices=())

    def __init__(self, *args: Any, petition: Petition, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Lazy: the query runs only when the merge form is shown or posted.
        self.fields["into"].choices = lambda: [
            ("", gettext_lazy("请选择")),
            *((p.number, merge_label(p)) for p in merge_candidates(user, petition)),
        ]
        self.fields["unit"].queryset = unit_choices(petition)
        self.fields["subject_organisation"].queryset = routing.accused_choices(petition.office)
        self.fields["handler"].choices = lambda: [
            ("", gettext_lazy("请选择")),
            *((u.username, f"{u} · {u.organisation.name}") for u in services.handler_choices(petition)),
        ]
        for name, make_field in EXTRA_FIELDS.items():
            self.fields[name] = make_field(petition)
        if page_memo.active(petition):
            # The petition page renders one form per action; their lists are read once, not once
            # per form (a posted form is built outside the page and validates on the querysets).
            for name in ("unit", "subject_organisation", "into", "handler"):
                self.fields[name].choices = _read_once(petition, name, self.fields[name].choices)


def _read_once(petition: Petition, name: str, choices: Any) -> Callable[[], list[Any]]:
    """``choices`` as a callable (still read only when a form shows the field) whose rows are read
    once per petition page.  Not ``list(choices)``: a model field's choices would count first."""
    return lambda: page_memo.remember(petition, ("action_choices", name), lambda: [c for c in choices])  # noqa: C416


MERGE_CANDIDATES = 50  # the newest; a person with more open petitions is a case for the supervisor


def merge_candidates(user: Any, petition: Petition) -> list[Petition]:
    """The petitions ``petition`` may be merged into, as the merge service will accept them: the
    same people's other petitions (``person_history``: by ID number, or name and phone) in
    ``user``'s scope that are still open, newest first."""
    if user is None:
        return []
    history = person_history(user, petition).exclude(status__in=FINAL_STATUSES)
    fields = ("number", "title", "status", "received_on", "registered_at")
    return list(history.select_related(None).only(*fields)[:MERGE_CANDIDATES])


def merge_label(petition: Petition) -> str:
    """How a candidate reads in the list: number, date received, status and title."""
    received = petition.received_on.isoformat() if petition.received_on else ""
    return f"{petition.number} · {received} · {petition.get_status_display()} · {petition.title[:30]}"


# The fields each action shows, and how its service is called with the cleaned data.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "name_subject": ("subject_organisation", "no_subject_organisation", "subject_name", "subject_person"),
    "forward": ("unit", "comment"),
    "assign": ("unit", "report_due_on", "comment"),
    "accept": ("comment",),
    "decline": ("reasons",),
    "redirect": ("channel",),
    "unit_accept": ("comment",),
    "return": ("reasons",),
    "overrule_return": ("comment",),
    "dispute_jurisdiction": ("reasons",),
    "decide_jurisdiction": ("unit", "reasons"),
    "request_extension": ("days", "reasons"),
    "approve_extension": ("comment",),
    "reject_extension": ("reasons",),
    "reply": ("outcome", "facts", "basis", "opinion"),
    "approve_completion": ("comment",),
    "reject_completion": ("reasons",),
    "evaluate": ("office_rating", "unit_rating", "reasons"),
    "request_review": ("reasons",),
    "review": ("appeal_outcome", "facts", "basis", "opinion"),
    "request_recheck": ("reasons",),
    "start_hearing": ("comment",),
    "end_hearing": ("comment",),
    "recheck": ("appeal_outcome", "facts", "basis", "opinion"),
    "conclude": ("conclusion", "comment"),
    "refuse_repeat": ("comment",),
    "withdraw": ("reasons",),
    "merge": ("into", "comment"),
    "report_urgent": ("reasons",),
    "recuse": ("staff", "reasons"),
    "assign_handler": ("handler", "reasons"),
}
# A form field whose service argument has another name (the reply and the appeals both take
# ``outcome``, with different choices).
ARGUMENT_NAMES = {"appeal_outcome": "outcome", "handler": "staff"}
# Fields of actions registered by apps above workflow (``register_action``): name -> a function
# of the petition that builds the field.
EXTRA_FIELDS: dict[str, Callable[[Petition], forms.Field]] = {}


def register_action(
    action: str,
    service: Callable[..., Petition],
    fields: tuple[str, ...],
    extra_fields: dict[str, Callable[[Petition], forms.Field]] | None = None,
) -> None:
    """Let an app above workflow (supervision) show its transition in the action panel and take it
    through ``act``: the service, the form fields it shows (existing ones by name, or new ones
    built per petition), in order.  A field's name is its service argument (``ARGUMENT_NAMES``
    aside)."""
    for name, make_field in (extra_fields or {}).items():
        EXTRA_FIELDS[name] = make_field
    ACTION_FIELDS[action] = fields
    SERVICES[action] = service


SERVICES = services.ACTION_SERVICES

# Actions taken by issuing a document (the reply is the decision letter, the review and recheck
# their opinions, issue #10): an app above workflow (documents) registers, per action, a function
# of (petition, user) giving the (label, url) of the page where the step is drafted; the panel links
# there instead of showing the action's form, and ``act`` sends a POST there instead of performing.
ACTION_REDIRECTS: dict[str, Callable[[Petition, Any], tuple[str, str] | None]] = {}


def register_redirect(action: str, target: Callable[[Petition, Any], tuple[str, str] | None]) -> None:
    ACTION_REDIRECTS[action] = target


def redirect_target(action: str, petition: Petition, user: Any) -> tuple[str, str] | None:
    """(label, url) of the page that takes ``action`` for ``user``, or None for the panel's own form."""
    target = ACTION_REDIRECTS.get(action)
    return target(petition, user) if target is not None else None


# Refusal codes about one field of an action's form that the service does not name in ``params``.
CODE_FIELDS = {
    "missing_outcome": "outcome",
    "invalid_unit": "unit",
    "accused_unit": "unit",
    "extension_too_long": "days",
    "invalid_date": "report_due_on",
}


@dataclass(frozen=True)
class ActionRetry:
    """A submission that was refused or invalid, shown again on the petition page: the action's form
    open, with everything that was typed in it and the reason next to the field concerned (issue #7
    point 31: a refusal must never cost the user what they wrote)."""

    action: str
    form: ActionForm

    def typed(self) -> list[tuple[str, Any]]:
        """(label, value) of every non-empty field of the action, for when its form is gone (the
        petition moved on meanwhile and the action is no longer offered)."""
        rows = []
        for name in ACTION_FIELDS[self.action]:
            field, value = self.form.fields[name], self.form.data.get(name, "")
            if not str(value).strip():
                continue
            if isinstance(field, forms.ModelChoiceField):  # the organisation's name, not its key
                found = field.queryset.filter(pk=value).first() if str(value).isdigit() else None
                value = found or value
            elif isinstance(field, forms.ChoiceField):
                value = dict(field.choices).get(value, value)
            rows.append((field.label, value))
        return rows


@require_POST
@login_required
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Perform ``action`` on petition ``number`` and go back to its page with the outcome; when the
    action is refused or the input invalid, show the page again with the form as it was filled in
    (not a redirect, so that nothing typed is lost)."""
    if action not in SERVICES:
        raise Http404
    try:
        petition = Petition.objects.restrict(request.user).get(number=number)
    except Petition.DoesNotExist:
        raise Http404(_("信访事项不存在或无权查看。")) from None
    target = redirect_target(action, petition, request.user)
    # The step is taken by issuing its document: nothing happens here.  Someone not offered the
    # action goes on to the service, which says why it is refused.
    if target is not None and action in {t.action for t in allowed_actions(petition, request.user)}:
        messages.info(request, _("该操作通过印发文书完成：请在文书页面起草、审批并印发，印发后即办理完毕。"))
        return redirect(target[1])
    form = ActionForm(request.POST, petition=petition, user=request.user)
    if not form.is_valid():
        messages.error(request, _("提交的内容有误，请检查标出的项目。"))
        return _show_again(request, number, action, form)
    data = form.cleaned_data
    kwargs = {ARGUMENT_NAMES.get(name, name): data[name] for name in ACTION_FIELDS[action]}
    if "unit" in kwargs and kwargs["unit"] is None:
        form.add_error("unit", _("请选择责任单位。"))
        messages.error(request, _("请选择责任单位。"))
        return _show_again(request, number, action, form)
    if action == "merge" and not kwargs.get("into"):
        form.add_error("into", _("请选择要合并到的信访事项。"))
        messages.error(request, _("请选择要合并到的信访事项。"))
        return _show_again(request, number, action, form)
    try:
        SERVICES[action](user=request.user, number=number, version=data["version"], **kwargs)
    except PetitionNotFound:
        raise Http404(_("信访事项不存在或无权查看。")) from None
    except TransitionRefused as exc:
        messages.error(request, " ".join(exc.messages))
        field = _form_field(action, (exc.params or {}).get("field") or CODE_FIELDS.get(exc.code or ""))
        if field is None and (exc.code or "").startswith("missing"):
            # a required text left empty, not named by the service: the action's first empty field
            field = next((f for f in ACTION_FIELDS[action] if not str(request.POST.get(f, "")).strip()), None)
        if field is not None:
            form.add_error(field, " ".join(exc.messages))
        return _show_again(request, number, action, form)
    messages.success(request, _("已办理：{action}").format(action=_label(action)))
    return redirect("petitions:detail", number=number)


def _form_field(action: str, argument: str | None) -> str | None:
    """The form field of ``action`` behind a service argument name (``outcome`` is the review's
    ``appeal_outcome``), or None when the action has no such field."""
    for name in ACTION_FIELDS[action]:
        if argument is not None and ARGUMENT_NAMES.get(name, name) == argument:
            return name
    return None


def _show_again(request: HttpRequest, number: str, action: str, form: ActionForm) -> HttpResponse:
    """The petition page, rendered for this request, with ``form`` in ``action``'s panel (the
    ``petition_actions`` tag reads ``request.action_retry``)."""
    from xinfang.petitions.views import detail  # the page belongs to petitions; imported late

    request.action_retry = ActionRetry(action=action, form=form)  # type: ignore[attr-defined]
    return detail(request, number=number)


def _label(action: str) -> str:
    from .transitions import TRANSITIONS

    return str(TRANSITIONS[action].label)
