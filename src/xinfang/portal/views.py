"""Public portal pages: submit a petition, follow it, act on it.  No login; only public fields
ever shown.

Following a petition (issue #3): a successful look-up by number and query code binds the petition
to the browser session (``session[SESSION_KEY] = {number: pk}``, never the code) and redirects to
``/portal/track/<number>/`` (post/redirect/get), which shows the steps, the public timeline, the
opinions and the windows, and the forms of the actions the petitioner may take now.  Each action
posts to ``/portal/track/<number>/<action>/``.  A number not bound to the session is sent back to
the look-up form: the number alone proves nothing.

Documents (issue #10 point 9): the page lists every document issued to the petitioner; each can be
downloaded as PDF (``/portal/track/<number>/documents/<id>.pdf``) and, until it is served, the
petitioner may confirm its receipt (``…/documents/<id>/confirm/``), which records electronic service
that day — the day the review, recheck and evaluation windows count from.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.files import open_plaintext
from xinfang.core.forms import add_service_errors
from xinfang.core.net import client_ip
from xinfang.documents import selectors as document_selectors
from xinfang.documents import services as document_services
from xinfang.documents.choices import DocumentKind
from xinfang.documents.models import Document
from xinfang.documents.pdf import ConversionFailed
from xinfang.documents.tasks import ensure_pdf
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
    request: HttpRequest,
    petition: Petition,
    *,
    failed: tuple[str, Form] | None = None,
    status: int = 200,
    document_error: tuple[int, str] | None = None,
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
        "petition_number": petition.number,
        "documents": document_selectors.issued_to_petitioner(petition),
        "document_error": document_error,
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


# --- documents (issue #10 point 9) ----------------------------------------------------------------


def _petitioner_document(
    request: HttpRequest, number: str, document_id: int
) -> tuple[Petition, Document] | None:
    """The session's petition and one document issued to its petitioner.  None: the session has
    not proved the code (back to the look-up form); Http404: no such document *for this petition*
    (another petition's document, a draft, a unit's document and a missing one look the same)."""
    bound = _bound_petition(request, number)
    if bound is None:
        return None
    document = document_selectors.petitioner_document(bound, document_id)
    if document is None:
        raise Http404("document")
    return bound, document


@never_cache
def document_pdf(request: HttpRequest, number: str, document_id: int) -> HttpResponse:
    """The PDF of a document issued to the petitioner, decrypted as it is sent; audited as a
    download by the public (the holder of the query code)."""
    found = _petitioner_document(request, number, document_id)
    if found is None:
        return _not_bound(request)
    petition, document = found
    if not document.pdf_file:
        # The worker makes the PDF right after issue; if it has not yet (or failed), make it now.
        try:
            ensure_pdf(document)
        except ConversionFailed:
            messages.error(request, _("文书的PDF文件暂时无法生成，请稍后再试；如急需，请联系办理机关。"))
            return redirect("portal:petition", number=number)
    with transaction.atomic():
        record_event(
            actor=None, action="document.download", obj=document,
            data={"via": "portal", "petition": petition.number, "format": "pdf"},
        )  # fmt: skip
    response = FileResponse(
        open_plaintext(document.pdf_file),
        as_attachment=True,
        filename=f"{document.reference or document.get_kind_display()}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _window_sentence(petition: Petition, document: Document) -> str:
    """What the service just recorded starts, in the portal's own words: the windows as
    ``portal.services.public_view`` computes them now that the document is served."""
    windows = public_view(petition).windows
    if document.kind == DocumentKind.DECISION_LETTER and windows.review_request_due_on:
        return _("请求复查的期限自今日起计算，您可在{date}前（含当日）请求复查。").format(
            date=windows.review_request_due_on.isoformat()
        )
    if document.kind == DocumentKind.REVIEW_OPINION and windows.recheck_request_due_on:
        return _("请求复核的期限自今日起计算，您可在{date}前（含当日）请求复核。").format(
            date=windows.recheck_request_due_on.isoformat()
        )
    return ""


@never_cache
@require_POST
def document_confirm(request: HttpRequest, number: str, document_id: int) -> HttpResponse:
    """确认收到: the petitioner confirms that the document reached them — electronic service on
    this day (``documents.services.confirm_receipt``).  Once only: a second confirmation is refused
    with the day it was served, and changes nothing."""
    found = _petitioner_document(request, number, document_id)
    if found is None:
        return _not_bound(request)
    petition, document = found
    try:
        document = document_services.confirm_receipt(petition=petition, document=document)
    except document_services.DocumentRefused as exc:
        return _render_petition(request, petition, document_error=(document.pk, exc.messages[0]), status=409)
    text = _("您已确认收到{kind}（{reference}），该文书已于{date}电子送达。").format(
        kind=document.get_kind_display(), reference=document.reference, date=document.served_on.isoformat()
    )
    window = _window_sentence(petition, document)
    messages.success(request, f"{text}{window}")
    return redirect("portal:petition", number=number)
