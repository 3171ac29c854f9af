"""The clerk's receipt (回执) for the visitor: a print view of the number, the date received, how
to follow the petition on the portal and — only when it was just issued — the query code.

The query code is stored hashed and shown once (registration, reissue).  The petition page that
shows it posts it to this view with the "打印回执" button; the view prints it only when it matches
the stored hash, so the receipt cannot carry a code other than the petition's own.  Opened later
(a plain GET) the receipt has everything but the code.  The page is a standalone A4 document: no
menus, no internal comments, nothing the visitor may not take home.  The formal receipt document
(登记回执 as a numbered document, ``documents.receipt_views``) prints from the same button's
second choice, with the code on the same terms.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.models import Step

from .access import PetitionNotFound, access_petition
from .models import Petition
from .services import hash_query_code

__all__ = ["code_if_current", "receipt"]


def code_if_current(petition: Petition, code: str) -> str:
    """``code`` if it is the petition's current query code, else ""."""
    code = (code or "").strip().upper()
    if not code or not petition.query_code_hash:
        return ""
    return code if hash_query_code(code) == petition.query_code_hash else ""


@role_required(*CASEWORK_ROLES)
@require_http_methods(["GET", "POST"])
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    """The printable receipt; POST with ``query_code`` (the code just shown) prints it too."""
    try:
        petition = access_petition(request.user, number)
    except PetitionNotFound:
        raise Http404(_("信访事项不存在或无权查看。")) from None
    petition = Petition.objects.select_related("office", "category", "category__parent").get(pk=petition.pk)
    code = code_if_current(petition, request.POST.get("query_code", "")) if request.method == "POST" else ""
    # Printing hands personal data (the names) and possibly the code to paper: audited.
    record_event(
        actor=request.user,
        action="petition.receipt_print",
        obj=petition,
        data={"number": petition.number, "with_code": bool(code)},
    )
    names = list(petition.petitioners.values_list("name", flat=True))
    disposal = due_date(Step.DISPOSAL, petition.received_on, petition.office).due_on
    response = render(
        request,
        "petitions/receipt.html",
        {
            "petition": petition,
            "names": names,
            "query_code": code,
            "disposal_due": disposal,
            "portal_url": request.build_absolute_uri(reverse("portal:track")),
            "printed_at": timezone.localtime(),
        },
    )
    response["Cache-Control"] = "no-store"  # the code must not stay in a cache
    return response
