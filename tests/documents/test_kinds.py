"""Every kind of document, issued from a petition that reached its step with the real services: the
DOCX (python-docx) and the PDF (pypdf) carry the reference number, the petition number, the
addressee and the kind's key fields in Chinese; the PDF embeds a CJK font and has no missing glyphs.
Also: drafts print "（草稿）" and no number; numbers are gap-free per organisation, kind and year and
follow the configured prefix; the receipt's query code is printed once and never stored.
"""

from __future__ import annotations

import datetime as dt
import threading

import freezegun
import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from tests.procedure import new_registration, to_accepted
from xinfang.documents import rendering, services, tasks
from xinfang.documents.choices import DocumentKind
from xinfang.documents.kinds import KINDS
from xinfang.documents.models import Document, KindSetting
from xinfang.petitions.choices import EventKind

from .conftest import ISSUE, compact, docx_text, kept_docx, make, pdf_text_and_fonts

pytestmark = pytest.mark.django_db
MISSING_GLYPHS = ("\ufffd", "\u25a1\u25a1\u25a1")  # replacement character; a run of tofu boxes


def test_every_kind_is_registered_and_has_a_default_template():
    assert set(KINDS) == set(DocumentKind.values) == set(ISSUE)
    for code in DocumentKind.values:
        assert rendering.default_template(code)[:2] == b"PK"


def _assert_printed(text: str, document: Document, expected: list[str], where: str) -> None:
    flat = compact(text)
    missing = [
        value
        for value in [document.reference, document.petition.number, document.addressee, *expected]
        if compact(value) not in flat
    ]
    assert not missing, f"{document.kind} {where}: missing {missing}"


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_each_kind_is_issued_from_its_step_and_its_docx_carries_the_fields(staff, kind):
    issued = ISSUE[kind](staff)
    document = Document.objects.get(pk=issued.document.pk)
    assert document.is_issued and document.kind == kind
    assert document.reference.endswith(f"〔{timezone.localdate().year}〕1号")
    text = docx_text(kept_docx(document))
    _assert_printed(text, document, issued.expected, "DOCX")
    assert "（草稿）" not in text
    if document.addressee_kind == "unit":
        assert document.addressee_unit is not None and document.addressee == document.addressee_unit.name
    else:
        assert document.addressee == "张三"


def test_every_kind_as_pdf_with_an_embedded_cjk_font(staff):
    """One test for the 14 conversions (seconds each): every kind is checked, every failure reported."""
    failures: list[str] = []
    for kind, issue in ISSUE.items():
        issued = issue(staff)
        document = Document.objects.get(pk=issued.document.pk)
        text, fonts = pdf_text_and_fonts(tasks.ensure_pdf(document))
        try:
            _assert_printed(text, document, issued.expected, "PDF")
        except AssertionError as exc:
            failures.append(str(exc))
        if any(mark in text for mark in MISSING_GLYPHS):
            failures.append(f"{kind}: missing glyphs in the PDF text")
        if not fonts or not all(f["embedded"] for f in fonts):
            failures.append(f"{kind}: fonts not embedded: {fonts}")
        if not any(("CJK" in f["name"] or "Noto" in f["name"]) for f in fonts):
            failures.append(f"{kind}: no CJK font embedded: {[f['name'] for f in fonts]}")
        assert Document.objects.get(pk=document.pk).pdf_file  # kept for the portal and printing
    assert not failures, "\n".join(failures)


# --- drafts, the receipt's query code, the agreement step -----------------------------------------


def test_a_draft_prints_draft_and_no_number(staff):
    world = staff.world
    number = new_registration(world).petition.number
    to_accepted(world, number)
    document = services.draft(
        user=world.handler_a, number=number, kind="acceptance", body={"handling": "第一段。\n第二段。"}
    )
    text = docx_text(rendering.render_docx(document))
    assert "（草稿）" in text and "〔" not in text and not document.reference
    assert number in text and "受理告知书" in text
    assert "第一段。\n第二段。" in text  # a line the drafter typed stays a line (docxtpl: <w:br/>)


def test_the_receipt_carries_the_query_code_once_and_never_stores_it(world):
    registration = new_registration(world)
    number = registration.petition.number
    document = services.draft(user=world.intake_a, number=number, kind="receipt")
    document = services.issue(user=world.intake_a, document=document)
    printed = docx_text(rendering.render_docx(document, extra={"query_code": registration.query_code}))
    assert f"查询码：{registration.query_code}" in printed
    kept = docx_text(kept_docx(document))
    assert registration.query_code not in kept
    assert "查询码已在登记时告知信访人；如遗失，可凭身份证件到信访部门重新获取。" in kept
    assert registration.query_code not in Document.objects.get(pk=document.pk).body_json
    again = docx_text(rendering.render_docx(document))  # a later copy
    assert registration.query_code not in again and "查询码已在登记时告知信访人" in again


def test_issuing_the_agreement_records_it_on_the_timeline(staff):
    issued = ISSUE["agreement"](staff)
    petition = issued.document.petition
    event = petition.events.filter(kind=EventKind.AGREEMENT_RECORDED).get()
    assert "一次性支付拖欠工资三十万元" in event.public_note and "张三" in event.data["parties"]


def test_a_kind_is_not_offered_before_its_step(world):
    number = new_registration(world).petition.number
    for kind in ("acceptance", "non_acceptance", "extension", "conclusion", "supervision", "agreement"):
        with pytest.raises(services.DocumentRefused) as refused:
            services.draft(user=world.intake_a, number=number, kind=kind)
        assert refused.value.code == "not_available"


# --- reference numbers --------------------------------------------------------------------------


def _receipt(world, office_staff=None) -> Document:
    clerk = office_staff or world.intake_a
    county = world.a if clerk == world.intake_a else world.b
    from tests.factories import register

    number = register(county.office, clerk, county.township).petition.number
    return make("receipt", number, drafter=clerk, leader=world.leader_a)


def test_reference_numbers_are_gap_free_per_organisation_kind_and_year(world, monkeypatch):
    year = timezone.localdate().year
    assert _receipt(world).reference == f"甲信登〔{year}〕1号"
    assert _receipt(world).reference == f"甲信登〔{year}〕2号"
    assert _receipt(world, world.intake_b).reference == f"乙信登〔{year}〕1号"  # another office
    number = new_registration(world).petition.number
    workflow_decline = __import__("xinfang.workflow.services", fromlist=["decline"]).decline
    workflow_decline(user=world.intake_a, number=number, reasons="不属于信访事项")
    other = make("non_acceptance", number, drafter=world.intake_a, leader=world.leader_a,
                 body={"channel": "向人民法院起诉"})  # fmt: skip
    assert other.reference == f"甲信不受〔{year}〕1号"  # another kind
    # An issue that fails after taking its number gives the number back (the transaction rolls back).
    failing = services.draft(
        user=world.intake_a, number=new_registration(world).petition.number, kind="receipt"
    )

    def broken(document, template=None, extra=None):  # noqa: ANN001, ANN202
        raise RuntimeError("template broken")

    monkeypatch.setattr(rendering, "render_docx", broken)
    with pytest.raises(RuntimeError):
        services.issue(user=world.intake_a, document=failing)
    monkeypatch.undo()
    assert not Document.objects.get(pk=failing.pk).reference
    assert services.issue(user=world.intake_a, document=failing).reference == f"甲信登〔{year}〕3号"


def test_reference_numbers_follow_the_configured_prefix_and_restart_each_year(world):
    KindSetting.objects.create(organisation=world.a.office, kind="receipt", prefix="甲信访回执")
    with freezegun.freeze_time("2026-12-31 10:00:00"):
        assert _receipt(world).reference == "甲信访回执〔2026〕1号"
        assert _receipt(world).reference == "甲信访回执〔2026〕2号"
    with freezegun.freeze_time("2027-01-04 10:00:00"):
        document = _receipt(world)
        assert document.reference == "甲信访回执〔2027〕1号" and document.issued_on == dt.date(2027, 1, 4)
        assert "二〇二七年一月四日" in docx_text(kept_docx(document))


ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent connections queue on the row lock")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_clerks_issuing_at_once_get_one_and_two(world):
    drafts = [
        services.draft(user=world.intake_a, number=new_registration(world).petition.number, kind="receipt")
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def work(document: Document) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(services.issue(user=world.intake_a, document=document).sequence)
        except BaseException as exc:  # reported below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [1, 2], results


def test_a_review_ordering_rehandling_tells_of_the_new_reply_not_the_recheck(world):
    from tests.procedure import OPINION, to_under_review

    number = new_registration(world).petition.number
    to_under_review(world, number)
    body = {**OPINION, "outcome": "rehandle", "opinion": "撤销原处理意见，责令甲县人社局重新办理。"}
    document = services.draft(user=world.supervisor_a, number=number, kind="review_opinion", body=body)
    text = compact(docx_text(rendering.render_docx(document)))
    assert "另行出具处理意见书" in text and "请求复核" not in text
    assert "撤销原处理意见，责令重新办理" in text  # the outcome's label
