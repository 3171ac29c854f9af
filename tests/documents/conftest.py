"""Bringing a petition to the step of each kind of document with the real services, and issuing the
document: draft, approve when the kind (or the organisation's setting) requires it, issue.

``ISSUE[kind](world, staff)`` returns the issued document and what the test must find printed in it
(``Issued.expected``: the kind's key fields, in Chinese).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import make_staff
from tests.procedure import (
    OPINION,
    RECHECK,
    REPLY,
    new_registration,
    to_accepted,
    to_under_recheck,
    to_under_review,
)
from xinfang.documents import services
from xinfang.documents.kinds_notices import day
from xinfang.documents.models import Document
from xinfang.supervision import services as supervision
from xinfang.supervision.models import NoticeKind
from xinfang.workflow import appeals
from xinfang.workflow import services as workflow

TODAY = timezone.localdate


@dataclass
class Staff:
    """Who drafts, approves and issues: the county's staff of the world fixture and the city's."""

    world: Any
    city_office: Any
    city_leader: Any


@dataclass
class Issued:
    document: Document
    expected: list[str] = field(default_factory=list)


@pytest.fixture
def staff(world) -> Staff:
    from xinfang.organisations.models import Organisation

    city_office = Organisation.objects.get(name="A市信访局")
    return Staff(
        world=world, city_office=city_office, city_leader=make_staff("leader_city", world.city, "leader")
    )


def complete(document: Document, *, drafter: Any, leader: Any) -> Document:
    """Approve if required, then issue, as the drafter."""
    if services.requires_approval(document):
        services.approve(user=leader, document=document)
    return services.issue(user=drafter, document=document)


def make(
    kind: str, number: str, *, drafter: Any, leader: Any, body: dict[str, str] | None = None
) -> Document:
    document = services.draft(user=drafter, number=number, kind=kind, body=body)
    return complete(document, drafter=drafter, leader=leader)


def _registered(world) -> str:
    return new_registration(world).petition.number


def issue_receipt(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    doc = make("receipt", number, drafter=w.intake_a, leader=w.leader_a)
    return Issued(doc, ["登记回执", "来信", "查询码已在登记时告知信访人", "拖欠农民工工资", "甲县信访局"])


def issue_acceptance(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_accepted(w, number)
    doc = make("acceptance", number, drafter=w.handler_a, leader=w.leader_a)
    return Issued(doc, ["受理告知书", "甲县人社局", f"已于{day(TODAY())}依法受理", "交办", "送达回证"])


def issue_non_acceptance(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    workflow.decline(user=w.intake_a, number=number, reasons="所反映的问题已由人民法院作出生效判决")
    doc = make("non_acceptance", number, drafter=w.intake_a, leader=w.leader_a,
               body={"channel": "向甲县人民法院申请强制执行"})  # fmt: skip
    return Issued(doc, ["不予受理告知书", "所反映的问题已由人民法院作出生效判决",
                        "向甲县人民法院申请强制执行", "《信访工作条例》第二十二条", "送达回证"])  # fmt: skip


def issue_redirect(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    workflow.redirect(user=w.intake_a, number=number, channel="向甲县劳动人事争议仲裁委员会申请劳动仲裁")
    doc = make("redirect", number, drafter=w.intake_a, leader=w.leader_a)
    return Issued(doc, ["告知书", "向甲县劳动人事争议仲裁委员会申请劳动仲裁", "第三十一条", "送达回证"])


def issue_forwarding(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    workflow.forward(user=w.intake_a, number=number, unit=w.a.department, comment="请依法核实处理")
    doc = make("forwarding", number, drafter=w.intake_a, leader=w.leader_a)
    return Issued(doc, ["转送单", "张三", "请依法核实处理", "不须报送办结报告", f"{day(TODAY())}"])


def issue_assignment(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    due = TODAY() + dt.timedelta(days=20)
    workflow.assign(user=w.intake_a, number=number, unit=w.a.department, report_due_on=due)
    doc = make("assignment", number, drafter=w.intake_a, leader=w.leader_a)
    return Issued(
        doc, ["交办单", "须报送办结报告", f"请于{day(due)}前将办理结果书面报送甲县信访局", "限办日期"]
    )


def issue_extension(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_accepted(w, number)
    workflow.request_extension(user=w.handler_a, number=number, reasons="需调取工地全部考勤记录", days=30)
    workflow.approve_extension(user=w.leader_a, number=number)
    doc = make("extension", number, drafter=w.handler_a, leader=w.leader_a)
    request = doc.petition.extension_requests.get()
    return Issued(doc, ["延期告知书", "需调取工地全部考勤记录", f"原办理期限：{day(request.old_due_on)}",
                        f"延长后的办理期限：{day(request.new_due_on)}", "延长30日", "送达回证"])  # fmt: skip


def issue_decision_letter(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_accepted(w, number)
    doc = make("decision_letter", number, drafter=w.handler_a, leader=w.leader_a, body=dict(REPLY))
    return Issued(doc, ["处理意见书", REPLY["facts"], REPLY["basis"], REPLY["opinion"], "处理结果：支持",
                        "请求复查", "甲县人民政府", "送达回证"])  # fmt: skip


def issue_review_opinion(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_under_review(w, number)
    doc = make("review_opinion", number, drafter=w.supervisor_a, leader=w.leader_a, body=dict(OPINION))
    return Issued(doc, ["复查意见书", "被申请人：甲县人社局", OPINION["facts"], "维持原处理意见",
                        "处理意见未解决欠薪问题", "向A市请求复核", "送达回证"])  # fmt: skip


def issue_recheck_opinion(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_under_recheck(w, number)
    doc = make("recheck_opinion", number, drafter=w.city_supervisor, leader=s.city_leader, body=dict(RECHECK))
    return Issued(doc, ["复核意见书", "被申请人：甲县人民政府", RECHECK["facts"], RECHECK["opinion"],
                        "本复核意见为最终意见", "送达回证"])  # fmt: skip


def issue_hearing(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_under_recheck(w, number)
    appeals.start_hearing(user=w.city_supervisor, number=number, comment="双方对欠薪数额争议较大")
    doc = make("hearing", number, drafter=w.city_supervisor, leader=s.city_leader,
               body={"place": "A市信访局三楼听证室"})  # fmt: skip
    return Issued(doc, ["听证通知书", "A市信访局三楼听证室", f"听证时间：{day(TODAY())}",
                        "复查意见仍未解决欠薪问题", "送达回证"])  # fmt: skip


def issue_supervision(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_accepted(w, number)
    respond_by = TODAY() + dt.timedelta(days=7)
    supervision.supervise(user=w.supervisor_a, number=number, kind=NoticeKind.FORMAL,
                          requirements="请于七日内书面报告欠薪核查进展", respond_by=respond_by)  # fmt: skip
    doc = make("supervision", number, drafter=w.supervisor_a, leader=w.leader_a,
               body={"reasons": "信访人多次来访反映办理缓慢"})  # fmt: skip
    return Issued(doc, ["督办函", "信访人多次来访反映办理缓慢", "请于七日内书面报告欠薪核查进展",
                        f"请于{day(respond_by)}前将办理情况书面反馈甲县信访局", "现予督办"])  # fmt: skip


def issue_conclusion(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_under_recheck(w, number)
    appeals.recheck(user=w.city_supervisor, number=number, **RECHECK)
    doc = make("conclusion", number, drafter=w.intake_a, leader=w.leader_a)
    return Issued(doc, ["终结告知书", "复核意见已送达", f"终结日期：{day(TODAY())}", "不再受理", "送达回证"])


AGREEMENT_TERMS = "用人单位于本协议签订之日起十日内一次性支付拖欠工资三十万元。"


def issue_agreement(s: Staff) -> Issued:
    w = s.world
    number = _registered(w)
    to_accepted(w, number)
    doc = make("agreement", number, drafter=w.handler_a, leader=w.leader_a,
               body={"terms": AGREEMENT_TERMS, "performance": "银行转账"})  # fmt: skip
    return Issued(doc, ["调解协议书", AGREEMENT_TERMS, "当事人：信访人张三；甲县人社局", "主持调解",
                        "履行方式和期限：银行转账", "送达回证"])  # fmt: skip


ISSUE: dict[str, Callable[[Staff], Issued]] = {
    "receipt": issue_receipt,
    "acceptance": issue_acceptance,
    "non_acceptance": issue_non_acceptance,
    "redirect": issue_redirect,
    "forwarding": issue_forwarding,
    "assignment": issue_assignment,
    "extension": issue_extension,
    "decision_letter": issue_decision_letter,
    "review_opinion": issue_review_opinion,
    "recheck_opinion": issue_recheck_opinion,
    "hearing": issue_hearing,
    "supervision": issue_supervision,
    "conclusion": issue_conclusion,
    "agreement": issue_agreement,
}


# --- reading the files back --------------------------------------------------------------------


def compact(text: str) -> str:
    """Text without whitespace: line breaks of the PDF and the DOCX's runs fall anywhere."""
    return "".join(text.split())


def docx_text(data: bytes) -> str:
    from docx import Document as Docx

    doc = Docx(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def kept_docx(document: Document) -> bytes:
    from xinfang.core.files import open_plaintext

    with open_plaintext(document.docx_file) as reader:
        return reader.read()


def pdf_text_and_fonts(data: bytes) -> tuple[str, list[dict[str, Any]]]:
    """The PDF's text and, for every font its pages use, its name and whether a font file is
    embedded (``/FontFile``, ``/FontFile2`` or ``/FontFile3`` in the descriptor, of the font or of
    its CID descendant)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    fonts: dict[str, dict[str, Any]] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for ref in (resources.get_object().get("/Font") or {}).values():
            font = ref.get_object()
            candidates = [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]
            name = str(font.get("/BaseFont", ""))
            embedded = False
            for candidate in candidates:
                descriptor = candidate.get("/FontDescriptor")
                if descriptor is not None:
                    descriptor = descriptor.get_object()
                    embedded = embedded or any(
                        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
                    )
            fonts[name] = {"name": name, "embedded": embedded}
    return text, list(fonts.values())
