"""The demo's decision letters as documents (文书).

The seed writes decision letters in bulk, below the documents app; without their documents a
reply that is not yet served could never be served (service is recorded on the document), and no
seeded reply could be printed.  So the seed gives every unserved letter, and the most recent served
ones, an issued 处理意见书: numbered, its DOCX rendered and kept like one issued through the pages
(the PDF is made on first download).  Rendering costs ~50 ms a letter, hence the cap on the rest.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from xinfang.core.files import encrypted_content
from xinfang.documents.choices import Addressee, DocumentKind, DocumentStatus, ServiceMethod
from xinfang.documents.kinds import for_petitioner, kind
from xinfang.documents.models import Document
from xinfang.documents.numbering import format_reference, next_sequence, prefix_for
from xinfang.documents.rendering import render_docx
from xinfang.workflow.models import DecisionLetter

RECENT_SERVED = 100


def _issue_for(letter: DecisionLetter) -> Document:
    petition = letter.petition
    issued_on = timezone.localdate(letter.issued_at)
    document = Document(
        petition=petition, kind=DocumentKind.DECISION_LETTER, status=DocumentStatus.ISSUED,
        organisation=letter.organisation, addressee_kind=Addressee.PETITIONER,
        addressee=for_petitioner(petition), letter=letter, drafted_by=letter.issued_by,
        drafted_at=letter.issued_at, issued_by=letter.issued_by, issued_at=letter.issued_at,
        issued_on=issued_on, year=issued_on.year,
    )  # fmt: skip
    document.body = {
        **kind(DocumentKind.DECISION_LETTER).build(petition),
        "outcome": letter.outcome, "request_summary": letter.request_summary, "facts": letter.facts,
        "basis": letter.basis, "opinion": letter.opinion, "review_notice": letter.review_notice,
    }  # fmt: skip
    if letter.served_on is not None:  # served before the documents existed: say how, plainly
        document.served_on, document.service_method = letter.served_on, ServiceMethod.IN_PERSON
        document.service_detail = {"recipient": document.addressee, "note": "演示数据"}
    with transaction.atomic():
        document.sequence = next_sequence(document.organisation, document.kind, document.year)
        document.reference = format_reference(
            prefix_for(document.organisation, document.kind), document.year, document.sequence
        )
        docx = render_docx(document)
        document.docx_file.save("decision_letter.docx", encrypted_content(ContentFile(docx)), save=False)
        document.save()
    return document


def seed_letter_documents(recent_served: int = RECENT_SERVED) -> int:
    """Issue the documents of the seeded letters that have none: every unserved one and the
    ``recent_served`` most recent served ones.  Returns how many were made; a rerun makes none."""
    without = DecisionLetter.objects.filter(documents__isnull=True).select_related(
        "petition", "organisation", "issued_by"
    )
    unserved = list(without.filter(served_on__isnull=True).order_by("issued_at", "pk"))
    served = list(without.filter(served_on__isnull=False).order_by("-issued_at", "-pk")[:recent_served])
    for letter in unserved + served:
        _issue_for(letter)
    return len(unserved) + len(served)
