"""A refused registration stores nothing (services.clean_draft, register_petition, attachments).

Every refusal is one ValidationError keyed by field, with Chinese messages, and leaves no row in any
table a registration writes, the number sequence where it was, and no file under MEDIA_ROOT.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.utils import timezone, translation

from xinfang.petitions import attachments as att
from xinfang.petitions import services
from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.validators import id_check_digit

from ..factories import PDF_BYTES, PNG_BYTES, make_id_number, make_upload, pdf_of_size, register


def person(**overrides) -> PetitionerDraft:
    values = {"name": "张三", "id_number": make_id_number(), "phone": "13812345678", "address": "幸福路1号"}
    values.update(overrides)
    return PetitionerDraft(**values)


def with_bad_check_digit(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def with_bad_birth_date() -> str:
    first17 = "330102" + "19801332" + "123"  # month 13, day 32; the check digit itself is right
    return first17 + id_check_digit(first17)


def errors_of(exc: ValidationError) -> dict[str, list[tuple[str, str | None]]]:
    """Field → [(message, code)], the way a form or the API turns the error into a response."""
    return {
        field: [(str(message), error.code) for error in errors for message in error.messages]
        for field, errors in exc.error_dict.items()
    }


def big_pdf() -> bytes:
    return pdf_of_size(att.MAX_ATTACHMENT_BYTES + 1)


# (draft overrides, field key, Chinese message, error code or None)
REFUSALS = {
    "bad-id-checksum": (
        lambda: {"petitioners": [person(id_number=with_bad_check_digit(make_id_number()))]},
        "petitioners.0.id_number",
        "身份证号码校验位不正确，请核对。",
        "id_checksum",
    ),
    "bad-id-birth-date": (
        lambda: {"petitioners": [person(id_number=with_bad_birth_date())]},
        "petitioners.0.id_number",
        "身份证号码中的出生日期无效。",
        "id_birthdate",
    ),
    "bad-id-format": (
        lambda: {"petitioners": [person(id_number="33010219800101123")]},
        "petitioners.0.id_number",
        "身份证号码应为18位，前17位为数字，末位为数字或X。",
        "id_format",
    ),
    "bad-phone": (
        lambda: {"petitioners": [person(phone="1381234567")]},
        "petitioners.0.phone",
        "请输入有效的手机号或固定电话号码。",
        "phone_format",
    ),
    "bad-phone-of-second-petitioner": (
        lambda: {"headcount": 2, "petitioners": [person(), person(name="李四", phone="12345")]},
        "petitioners.1.phone",
        "请输入有效的手机号或固定电话号码。",
        "phone_format",
    ),
    "missing-name": (
        lambda: {"petitioners": [person(name=" ")]},
        "petitioners.0.name",
        "请填写信访人姓名。",
        None,
    ),
    "no-petitioner": (
        lambda: {"petitioners": [PetitionerDraft(name="")]},
        "petitioners",
        "请至少填写一位信访人。",
        None,
    ),
    "empty-title": (lambda: {"title": "   "}, "title", "请填写标题。", None),
    "title-too-long": (lambda: {"title": "长" * 201}, "title", "标题不能超过200字。", None),
    "empty-content": (
        lambda: {"content": ""},
        "content",
        "请填写信访内容（至少10个字），说明诉求、事实和理由。",
        None,
    ),
    "content-too-short": (
        lambda: {"content": "工资没发"},
        "content",
        "请填写信访内容（至少10个字），说明诉求、事实和理由。",
        None,
    ),
    "six-representatives-of-a-collective-visit": (
        lambda: {
            "channel": "visit",
            "headcount": 30,
            "petitioners": [person(name=f"代表{i}", id_number=make_id_number()) for i in range(6)],
        },
        "petitioners",
        "集体访最多推选5名代表。",
        None,
    ),
    "headcount-below-petitioners": (
        lambda: {"headcount": 1, "petitioners": [person(), person(name="李四", id_number="")]},
        "headcount",
        "人数不能少于所填信访人数。",
        None,
    ),
    "received-tomorrow": (
        lambda: {"received_on": timezone.localdate() + dt.timedelta(days=1)},
        "received_on",
        "收到日期不能晚于今天。",
        None,
    ),
    "unknown-channel": (lambda: {"channel": "fax"}, "channel", "请选择信访形式。", None),
    "unknown-purpose": (lambda: {"purpose": "gossip"}, "purpose", "请选择信访目的。", None),
    "no-category": (lambda: {"category_id": None}, "category", "请选择问题分类。", None),
    "attachment-wrong-magic": (
        lambda: {"attachments": [make_upload("scan.pdf", b"MZ\x90\x00 this is a program")]},
        "attachments",
        "附件“scan.pdf”的内容与文件类型不符。",
        "attachment_content",
    ),
    "attachment-png-named-pdf": (
        lambda: {"attachments": [make_upload("letter.pdf", PNG_BYTES)]},
        "attachments",
        "附件“letter.pdf”的内容与文件类型不符。",
        "attachment_content",
    ),
    "attachment-too-big": (
        lambda: {"attachments": [make_upload("big.pdf", big_pdf())]},
        "attachments",
        "附件“big.pdf”超过 10 MB。",
        "attachment_size",
    ),
    "attachment-disallowed-type": (
        lambda: {"attachments": [make_upload("tool.exe", b"MZ\x90\x00")]},
        "attachments",
        "附件“tool.exe”的类型不允许，只接受：.pdf .jpg .jpeg .png .tif .tiff .docx .doc",
        "attachment_type",
    ),
    "attachment-empty": (
        lambda: {"attachments": [make_upload("empty.pdf", b"")]},
        "attachments",
        "附件“empty.pdf”是空文件。",
        "attachment_empty",
    ),
    "too-many-attachments": (
        lambda: {
            "attachments": [make_upload(f"p{i}.pdf", PDF_BYTES) for i in range(att.MAX_ATTACHMENTS + 1)]
        },
        "attachments",
        "附件最多 10 个。",
        "attachment_count",
    ),
    "good-attachment-then-bad-one": (
        lambda: {"attachments": [make_upload("ok.pdf", PDF_BYTES), make_upload("bad.png", b"GIF89a")]},
        "attachments",
        "附件“bad.png”的内容与文件类型不符。",
        "attachment_content",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_registration_stores_nothing(world, snapshot, case):
    """Each invalid draft is refused with its field key and Chinese message, and nothing is stored."""
    # given an office that has already registered one petition (so a sequence row exists)
    register(world.a.office, world.intake_a, world.a.township)
    overrides, field, message, code = REFUSALS[case]
    draft_values = overrides()
    before = snapshot()

    # when the invalid draft is registered
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        register(world.a.office, world.intake_a, world.a.township, **draft_values)

    # then the error names the field, in Chinese, with its code …
    errors = errors_of(refused.value)
    assert field in errors, errors
    assert (message, code) in errors[field]
    # … and no row, number or file was stored
    assert snapshot() == before


def test_every_problem_is_reported_at_once(world, snapshot):
    """One refusal lists every field in error, so the clerk corrects the form in one go."""
    before = snapshot()

    # when a draft has several problems
    with pytest.raises(ValidationError) as refused:
        register(
            world.a.office,
            world.intake_a,
            world.a.township,
            title="",
            received_on=timezone.localdate() + dt.timedelta(days=3),
            petitioners=[person(phone="abc", id_number=with_bad_check_digit(make_id_number()))],
        )

    # then all of them are in the one error
    assert set(refused.value.message_dict) == {
        "title",
        "received_on",
        "petitioners.0.phone",
        "petitioners.0.id_number",
    }
    assert snapshot() == before


def test_five_representatives_of_a_collective_visit_are_accepted(world):
    """Five representatives is the maximum, not beyond it; 5 or more people make a collective visit."""
    # when a group of 40 registers with five representatives
    petition = register(
        world.a.office,
        world.intake_a,
        world.a.township,
        channel="visit",
        headcount=40,
        petitioners=[person(name=f"代表{i}", id_number=make_id_number()) for i in range(5)],
    ).petition

    # then it is a collective visit with five petitioners
    assert petition.is_collective is True
    assert petition.petitioners.count() == 5


def test_received_today_is_accepted(world):
    """The received date may be today (only a future date is refused)."""
    reg = register(world.a.office, world.intake_a, world.a.township, received_on=timezone.localdate())
    petition = reg.petition
    assert petition.received_on == timezone.localdate()


@pytest.mark.parametrize("clerk", ["handler_a", "intake_b", "supervisor_a"])
def test_only_the_office_own_clerk_may_register(world, snapshot, clerk):
    """Registering needs the intake role in the registering office; anyone else stores nothing."""
    before = snapshot()
    with pytest.raises(PermissionError):
        register(world.a.office, getattr(world, clerk), world.a.township)
    assert snapshot() == before


def test_crash_after_attachments_were_written_leaves_no_file(world, snapshot, monkeypatch):
    """Files written by a registration that then fails are removed with its rows."""
    # given a draft with two valid attachments, and a crash after they are written
    register(world.a.office, world.intake_a, world.a.township)
    before = snapshot()

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash after the files were stored")

    monkeypatch.setattr(services, "_record_registration", crash)

    # when the registration fails
    with pytest.raises(RuntimeError):
        register(
            world.a.office,
            world.intake_a,
            world.a.township,
            attachments=[make_upload("a.pdf", PDF_BYTES), make_upload("b.png", PNG_BYTES)],
        )

    # then no row and no file remain
    assert snapshot() == before


def test_storage_failure_on_second_attachment_leaves_no_file(world, snapshot, monkeypatch):
    """If writing the second attachment fails, the first one (already on disk) is removed too."""
    # given a disk that fails on the second file written
    register(world.a.office, world.intake_a, world.a.township)
    before = snapshot()
    real_save = FileSystemStorage._save
    calls = []

    def save_then_fail(self, name, content):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", save_then_fail)

    # when a petition with two attachments is registered
    with pytest.raises(OSError):
        register(
            world.a.office,
            world.intake_a,
            world.a.township,
            attachments=[make_upload("a.pdf", PDF_BYTES), make_upload("b.png", PNG_BYTES)],
        )

    # then the first file is not left behind, and no row was stored
    assert len(calls) == 2
    assert snapshot() == before
