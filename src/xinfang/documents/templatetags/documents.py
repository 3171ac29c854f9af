"""``{% document_panel petition %}``: the documents (文书) of a petition on its staff page, with
the buttons the signed-in user may use now.  Lives here so that the petition page (petitions app)
imports nothing of documents; the page already authorised the petition."""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.core import page_memo

from .. import services
from ..choices import DocumentStatus
from ..models import Document
from ..views import draftable_kinds, permissions

register = template.Library()


@register.inclusion_tag("documents/_panel.html", takes_context=True)
def document_panel(context: dict[str, Any], petition: Any) -> dict[str, Any]:
    user = context["request"].user
    documents = page_memo.remember(petition, "documents", lambda: services.documents_of(petition))
    # Whether a document was corrected and its kind's open draft are read from this one list, not
    # asked of the database per document and per kind (issue #12 §3).
    by_pk = {d.pk: d for d in documents}
    superseded_by = {d.supersedes_id: d for d in documents if d.supersedes_id is not None}
    supersedes_field = Document._meta.get_field("supersedes")
    superseded_field = Document._meta.get_field("superseded_by")
    for d in documents:
        d.petition = petition  # one petition object for every row (no query per document)
        superseded_field.set_cached_value(d, superseded_by.get(d.pk))
        if d.supersedes_id in by_pk:  # a correction names the document it corrects
            supersedes_field.set_cached_value(d, by_pk[d.supersedes_id])
    rows = [{"document": d, "may": permissions(user, d)} for d in documents]
    # A kind with an open draft is continued there, not drafted twice (as ``views.open_draft``).
    open_drafts: dict[str, Any] = {}
    for d in sorted(documents, key=lambda d: d.pk):
        if d.status != DocumentStatus.ISSUED:
            open_drafts[d.kind] = d  # the newest wins
    drafts = [{"kind": spec, "draft": open_drafts.get(spec.code)} for spec in draftable_kinds(user, petition)]
    return {"petition": petition, "rows": rows, "drafts": drafts}
