"""Uploads are checked as whole containers, not by their first bytes (issue #7 point 27)."""

from __future__ import annotations

import zipfile

import pytest
from django.core.exceptions import ValidationError

from xinfang.petitions import attachments as att
from xinfang.petitions import containers

from ..factories import make_upload
from . import files

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("letter.pdf", files.PDF, "application/pdf"),
        ("photo.jpg", files.JPEG, "image/jpeg"),
        ("photo.png", files.PNG, "image/png"),
        ("scan.tif", files.TIFF, "image/tiff"),
        ("statement.docx", files.docx(), DOCX),
        ("statement.docx", files.docx(word__media__image1__png=files.PNG), DOCX),
        ("statement.doc", files.ole_doc(), "application/msword"),
    ],
    ids=["pdf", "jpeg", "png", "tiff", "docx", "docx-with-picture", "doc"],
)
def test_real_files_of_every_type_are_accepted(name, content, content_type):
    assert att.check_attachment(make_upload(name, content)).content_type == content_type


def refused(name: str, content: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        att.check_attachment(make_upload(name, content))
    assert name in caught.value.messages[0]  # the message names the file, in Chinese
    return caught.value


def test_a_zip_holding_a_program_named_docx_is_refused():
    """The reported case: an .exe zipped and renamed .docx passes the magic-byte check."""
    error = refused("合同.docx", files.zip_of({"setup.exe": b"MZ\x90\x00" + b"\x00" * 200}))
    assert error.code == "attachment_archive"
    assert "可执行程序" in error.messages[0]


@pytest.mark.parametrize(
    "extra",
    [
        {"word__tool.exe": b"MZ\x90\x00"},
        {"word__setup.dat": b"MZ\x90\x00 a program under an innocent name"},
        {"word__inner.zip": files.zip_of({"a.txt": b"x"})},
        {"word__media__image2.png": files.zip_of({"a.exe": b"MZ"})},  # an archive posing as a picture
        {"word__vbaProject.bin": b"\xd0\xcf\x11\xe0macros"},
        {"word__embeddings__oleObject1.bin": b"\xd0\xcf\x11\xe0package"},
        {"word__activeX__activeX1.xml": b"<ax/>"},
    ],
    ids=["exe", "program-by-content", "nested-zip", "zip-as-png", "macros", "embedded-object", "activex"],
)
def test_programs_macros_embedded_objects_and_nested_archives_are_refused(extra):
    assert refused("statement.docx", files.docx(**extra)).code == "attachment_archive"


@pytest.mark.parametrize(
    "member", ["../../etc/cron.d/x", "/etc/passwd", "C:/Windows/evil.xml", "..\\..\\evil.xml"]
)
def test_absolute_and_parent_paths_are_refused(member):
    assert refused("statement.docx", files.docx(**{member: b"<x/>"})).code == "attachment_archive"


def test_a_zip_that_is_not_an_office_document_is_refused():
    assert refused("notes.docx", files.zip_of({"notes.txt": "说明".encode()})).code == "attachment_content"


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    """20 MB of zeros deflate to about 20 KB: a ratio no document has."""
    bomb = files.docx(word__document__xml=b"<w:document>" + b"\x00" * (20 * 1024 * 1024))
    assert len(bomb) < att.MAX_ATTACHMENT_BYTES
    error = refused("statement.docx", bomb)
    assert error.code == "attachment_bomb"
    assert "压缩炸弹" in error.messages[0]


def test_the_total_uncompressed_size_is_bounded(monkeypatch):
    """Even at an ordinary ratio, a document may not unpack beyond MAX_UNCOMPRESSED_BYTES."""
    monkeypatch.setattr(containers, "MAX_UNCOMPRESSED_BYTES", 2000)
    stored = files.zip_of(
        {**{"[Content_Types].xml": files.CONTENT_TYPES, "word/document.xml": files.DOCUMENT * 10}},
        compression=zipfile.ZIP_STORED,
    )
    assert refused("statement.docx", stored).code == "attachment_bomb"


def test_a_member_whose_header_understates_its_size_is_refused_as_damaged():
    """zipfile reads no further than the declared size, and the CRC then fails."""
    data = bytearray(files.docx())
    index = data.index(b"word/document.xml")  # the local header of that member precedes its name
    local = data.rindex(b"PK\x03\x04", 0, index)
    data[local + 22 : local + 26] = (10).to_bytes(4, "little")  # uncompressed size in the local header
    central = data.index(b"PK\x01\x02", data.index(b"word/document.xml", index + 1) - 60)
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")  # and in the central directory
    assert refused("statement.docx", bytes(data)).code == "attachment_damaged"


def test_too_many_members_are_refused(monkeypatch):
    monkeypatch.setattr(containers, "MAX_MEMBERS", 5)
    many = files.docx(**{f"word__media__p{i}.xml": b"<p/>" for i in range(5)})
    assert refused("statement.docx", many).code == "attachment_archive"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", files.PNG[: len(files.PNG) // 2]),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16),
        ("scan.tif", b"II*\x00" + b"\x00" * 8),
        ("letter.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"),  # no trailer: cut off
        ("letter.pdf", b"%PDF-1.4\n" + b"MZ\x90\x00" * 100),
        ("statement.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8),
        ("statement.docx", b"PK\x03\x04" + b"\x00" * 8),
    ],
    ids=[
        "png-cut",
        "png-empty",
        "jpeg-header-only",
        "tiff-header-only",
        "pdf-cut",
        "pdf-junk",
        "doc",
        "docx",
    ],
)
def test_damaged_files_are_refused(name, content):
    assert refused(name, content).code in {"attachment_damaged", "attachment_content"}


def test_an_image_declaring_a_gigapixel_size_is_refused():
    assert refused("photo.png", files.png_declaring(60_000, 60_000)).code in {
        "attachment_bomb",
        "attachment_damaged",
    }


def test_an_image_of_another_format_under_a_matching_magic_is_refused():
    """An MPO/JPEG is fine as .jpg; a PNG stream after a forged JPEG magic is not."""
    assert refused("photo.jpg", b"\xff\xd8\xff" + files.PNG).code in {
        "attachment_damaged",
        "attachment_content",
    }


def test_the_staff_form_shows_the_reason_in_chinese(world):
    """The registration form puts the refusal under the attachments field, naming the file."""
    from django.utils.datastructures import MultiValueDict

    from xinfang.petitions.forms import PetitionForm

    bad = make_upload("合同.docx", files.zip_of({"setup.exe": b"MZ\x90\x00"}))
    form = PetitionForm(data={}, files=MultiValueDict({"attachments": [bad]}), office=world.a.office)
    assert not form.is_valid()
    assert form.errors["attachments"] == [
        "附件“合同.docx”内含可执行程序、宏、嵌入对象或压缩包，已拒收。"
        "请把文档另存为不含宏和嵌入对象的 Word 文件后再上传。"
    ]
