"""``{% document_panel petition %}``: the documents (文书) of a petition on its staff page, with
the buttons the signed-in user may use now.  Lives here so that the petition page (petitions app)
imports nothing of documents; the page already authorised the petition."""

from __future__ import annotations

from typing import Any

from django import template

from .. import services
from ..views import draftable_kinds, open_draft, permissions

register = template.Library()


@register.inclusion_tag("documents/_panel.html", takes_context=True)
def document_panel(context: dict[str, Any], petition: Any) -> dict[str, Any]:
    user = context["request"].user
    documents = services.documents_of(petition)
    for d in documents:
        d.petition = petition  # one petition object for every row (no query per document)
    rows = [{"document": d, "may": permissions(user, d)} for d in documents]
    # A kind with an open draft is continued there, not drafted twice.
    drafts = [
        {"kind": spec, "draft": open_draft(petition, spec.code)} for spec in draftable_kinds(user, petition)
    ]
    return {"petition": petition, "rows": rows, "drafts": drafts}
