"""Attachment checks (attachments.check_attachment): type by content as well as by name, size limits."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from xinfang.petitions import attachments as att

from ..factories import JPEG_BYTES, PDF_BYTES, PNG_BYTES, make_upload, pdf_of_size
from . import files

ACCEPTED = [
    ("letter.pdf", PDF_BYTES, "application/pdf"),
    ("LETTER.PDF", PDF_BYTES, "application/pdf"),
    ("photo.jpg", JPEG_BYTES, "image/jpeg"),
    ("photo.jpeg", JPEG_BYTES, "image/jpeg"),
    ("photo.png", PNG_BYTES, "image/png"),
    ("scan.tif", files.TIFF, "image/tiff"),
    ("scan.tiff", files.image("TIFF"), "image/tiff"),
    (
        "statement.docx",
        files.docx(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("statement.doc", files.ole_doc(), "application/msword"),
]


@pytest.mark.parametrize(("name", "content", "content_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_allowed_types_are_recognised_by_content(name, content, content_type):
    """Each allowed type is accepted when its first bytes match, and typed by them."""
    upload = make_upload(name, content, content_type="text/plain")  # the browser's claim is ignored
    assert att.check_attachment(upload).content_type == content_type
    assert upload.tell() == 0  # left ready to be stored


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("noextension", PDF_BYTES, "attachment_type"),
        ("page.html", b"<html>", "attachment_type"),
        ("archive.zip", b"PK\x03\x04", "attachment_type"),
        ("image.gif", b"GIF89a", "attachment_type"),
        ("letter.pdf.exe", PDF_BYTES, "attachment_type"),
        ("photo.jpg", PNG_BYTES, "attachment_content"),
        ("letter.pdf", b" %PDF-1.4", "attachment_content"),
        ("letter.docx", PDF_BYTES, "attachment_content"),
        ("letter.pdf", b"", "attachment_empty"),
    ],
)
def test_refused_uploads(name, content, code):
    """Unlisted types, content that does not match the name, and empty files are refused."""
    with pytest.raises(ValidationError) as refused:
        att.check_attachment(make_upload(name, content))
    assert refused.value.code == code
    assert name in refused.value.messages[0]


def test_size_limit_is_inclusive():
    """Exactly the limit is accepted; one byte more is refused."""
    at_limit = pdf_of_size(att.MAX_ATTACHMENT_BYTES)
    att.check_attachment(make_upload("max.pdf", at_limit))
    with pytest.raises(ValidationError) as refused:
        att.check_attachment(make_upload("max.pdf", pdf_of_size(att.MAX_ATTACHMENT_BYTES + 1)))
    assert refused.value.code == "attachment_size"


def test_count_limit():
    """At most the configured number of attachments per petition."""
    uploads = [make_upload(f"{i}.pdf", PDF_BYTES) for i in range(3)]
    assert len(att.check_attachments(uploads, limit=3)) == 3
    with pytest.raises(ValidationError) as refused:
        att.check_attachments(uploads, limit=2)
    assert refused.value.code == "attachment_count"
