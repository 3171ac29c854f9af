"""Public portal pages: submit a petition, follow it, act on it.  No login; only public fields
ever shown.

Following a petition (issue #3): a successful look-up by number and query code binds the petition
to the browser session (``session[SESSION_KEY] = {number: pk}``, never the code) and redirects to
``/portal/track/<number>/`` (post/redirect/get), which shows the steps, the public timeline, the
opinions and the windows, and the forms of the actions the petitioner may take now.  Each action
posts to ``/portal/track/<number>/<action>/``.  A number not bound to the session is sent back to
the look-up form: the number alone proves nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinfang.core.forms import add_service_errors
from xinfang.core.net import client_ip
from xinfang.petitions.access import PetitionNotFound
from xinfang.petitions.models import Petition
from xinfang.workflow.engine import TransitionRefused

from .forms import SubmitForm, TrackForm, action_form
from .services import (
    PETITIONER_ACTIONS,
    QueryCodeLocked,
    Throttled,
    TrackingFailed,
    act_as_petitioner,
    find_petition,
    public_view,
    submit_public_petition,
)

SESSION_KEY = "portal_petitions"
# A session follows a few petitions at most (a family's, an agent's); the oldest binding goes first.
MAX_BOUND = 10

SUCCESS_MESSAGES = {
    "evaluate": gettext_lazy("感谢您的评价。"),
    "request_review": gettext_lazy("您的复查请求已提交。"),
    "request_recheck": gettext_lazy("您的复核请求已提交。"),
    "withdraw": gettext_lazy("您已撤回该信访事项。"),
}
# Refusals about the input are the citizen's to correct (400); the rest mean the petition is not
# where the action can be taken (409, e.g. a window that has passed since the page was loaded).
_INPUT_REFUSALS = {"missing_reason", "missing_rating"}


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@never_cache
def submit(request: HttpRequest) -> HttpResponse:
    form = SubmitForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            registration = submit_public_petition(draft=form.to_draft(), ip=client_ip(request))
        except Throttled:
            form.add_error(None, _("提交过于频繁，请稍后再试。"))
            status = 429
        except ValidationError as exc:
            add_service_errors(form, exc, prefix_map={"petitioners.0.": form})
        else:
            # Shown once on the next page, never put in a URL (it would end up in logs and history).
            request.session["portal_receipt"] = {
                "number": registration.petition.number,
                "code": registration.query_code,
            }
            return redirect("portal:submitted")
    elif request.method == "POST":
        status = 400
    return render(request, "portal/submit.html", {"form": form}, status=status)


@never_cache
def submitted(request: HttpRequest) -> HttpResponse:
    receipt = request.session.pop("portal_receipt", None)
    if not receipt:
        return redirect("portal:track")
    return render(request, "portal/submitted.html", {"receipt": receipt})


@never_cache
def track(request: HttpRequest) -> HttpResponse:
    """Follow a petition with its number and query code (POST, so the code stays out of URLs)."""
    # ?number= (the link on the page after submission) fills the number in; the code is never in a URL.
    form = TrackForm(request.POST or None, initial={"number": request.GET.get("number", "")[:40]})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            petition = find_petition(
                number=form.cleaned_data["number"], code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except Throttled:
            form.add_error(None, _("查询失败次数过多，请15分钟后再试。"))
            status = 429
        except QueryCodeLocked:
            form.add_error(None, str(QueryCodeLocked.message))
            status = 404
        except TrackingFailed:
            # One message for an unknown number and a wrong code: nothing is revealed.
            form.add_error(None, _("信访编号或查询码不正确。"))
            status = 404
        else:
            _bind(request, petition)
            return redirect("portal:petition", number=petition.number)
    elif request.method == "POST":
        status = 400
    return render(request, "portal/track.html", {"form": form}, status=status)


def _bind(request: HttpRequest, petition: Petition) -> None:
    """Remember in the session that its holder proved the code of ``petition``.

    The session key changes on binding (as on a login), so a session id planted in the browser
    beforehand does not gain the binding."""
    bound = dict(request.session.get(SESSION_KEY) or {})
    bound.pop(petition.number, None)
    bound[petition.number] = petition.pk
    while len(bound) > MAX_BOUND:
        bound.pop(next(iter(bound)))
    request.session.cycle_key()
    request.session[SESSION_KEY] = bound


def _bound_petition(request: HttpRequest, number: str) -> Petition | None:
    """The petition ``number`` if this session proved its code; None otherwise."""
    pk = (request.session.get(SESSION_KEY) or {}).get(number)
    if not isinstance(pk, int):
        return None
    return Petition.objects.filter(pk=pk, number=number).first()


def _not_bound(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("请输入信访编号和查询码查询办理情况。"))
    return redirect("portal:track")


def _render_petition(
    request: HttpRequest, petition: Petition, *, failed: tuple[str, Form] | None = None, status: int = 200
) -> HttpResponse:
    view = public_view(petition)
    forms = {action: action_form(action) for action in view.allowed_actions}
    if failed is not None:
        action, form = failed
        if action in forms:
            forms[action] = form
    context = {
        "view": view,
        "forms": forms,
        "failed_form": failed[1] if failed is not None else None,
    }
    return render(request, "portal/petition.html", context, status=status)


@never_cache
def petition(request: HttpRequest, number: str) -> HttpResponse:
    """The steps, timeline, opinions and windows of a petition bound to this session, with the forms
    of the actions its petitioner may take now."""
    bound = _bound_petition(request, number)
    if bound is None:
        return _not_bound(request)
    return _render_petition(request, bound)


@never_cache
@require_POST
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """One of the petitioner's actions (evaluate, request_review, request_recheck, withdraw).

    The workflow service decides (state, window, input); a refusal is shown in Chinese with a 4xx
    status and changes nothing, a success redirects back to the petition with a message."""
    if action not in PETITIONER_ACTIONS:
        raise Http404(action)
    bound = _bound_petition(request, number)
    if bound is None:
        return _not_bound(request)
    form = action_form(action, request.POST)
    if not form.is_valid():
        return _render_petition(request, bound, failed=(action, form), status=400)
    try:
        act_as_petitioner(petition=bound, action=action, **form.cleaned_data)
    except TransitionRefused as exc:
        field = (exc.params or {}).get("field")
        form.add_error(field if field in form.fields else None, exc.messages[0])
        status = 400 if exc.code in _INPUT_REFUSALS else 403 if exc.code == "not_allowed" else 409
        return _render_petition(request, bound, failed=(action, form), status=status)
    except PetitionNotFound:
        return _not_bound(request)
    messages.success(request, SUCCESS_MESSAGES[action])
    return redirect("portal:petition", number=number)


@never_cache
@require_POST
def forget(request: HttpRequest, number: str) -> HttpResponse:
    """End following a petition in this browser (a shared computer): the binding is removed."""
    bound = dict(request.session.get(SESSION_KEY) or {})
    if bound.pop(number, None) is not None:
        request.session[SESSION_KEY] = bound
        messages.info(request, _("已退出该信访事项的查询。"))
    return redirect("portal:track")
