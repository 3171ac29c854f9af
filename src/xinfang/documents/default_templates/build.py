"""Build the default template of every kind of document, ``<kind>.docx`` (python-docx).

Run ``.venv/bin/python src/xinfang/documents/default_templates/build.py`` after changing this file
and commit the DOCX files with it, so the templates are reproducible from source.

Layout after GB/T 9704-2012 (党政机关公文格式), with the helpers the report templates use
(``xinfang.core.docx_layout``): A4, margins 37/35/28/26 mm; the issuing organisation (发文机关标志)
as the letterhead, red, in 小标宋; the reference number (文号) centred under it over a red line —
"（草稿）" while the document is a draft; the title in 方正小标宋简体 二号; the addressee (主送); the
body in 仿宋_GB2312 三号 on fixed 28 pt lines; the petition's number (信访事项编号); the issuing
organisation, the seal area (印章) and the date in Chinese numerals at the right.  A letter to the
petitioner ends, on a page of its own, with the detachable proof of service (送达回证) the
server brings back signed.

The templates are docxtpl (Jinja) templates: ``{{ name }}`` prints a value of the document's context
(``documents.rendering.context_for``: the body the kind builds, the kind's context and the common
names).  An office's own template may use the same names.
"""

from __future__ import annotations

from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Mm, Pt

from xinfang.core import docx_layout as layout
from xinfang.core.docx_layout import (
    BODY_FONT,
    RED,
    SIZE_1,
    SIZE_2,
    SIZE_3,
    SIZE_4,
    TITLE_FONT,
)

HERE = Path(__file__).resolve().parent
CENTER, RIGHT, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT
REFERENCE = "{% if is_draft %}（草稿）{% else %}{{ reference }}{% endif %}"
NUMBER_LINE = "信访事项编号：{{ petition_number }}"
SEAL = "（印章）"

# --- the body of each kind: paragraphs of the body, indented two characters ---------------------

RECEIPT = [
    "您（你们）于{{ received_on_text }}以{{ channel_label }}形式反映的“{{ petition_title }}”，"
    "{{ organisation }}已于{{ registered_on }}登记。",
    NUMBER_LINE,
    "{% if query_code %}查询码：{{ query_code }}（请妥善保管。凭信访事项编号和查询码，可以在网上"
    "或到信访部门查询办理进展和结果。）{% else %}{{ query_code_notice }}{% endif %}",
    "{{ disposal_notice }}",
    ("note", "{{ note }}"),
]
ACCEPTANCE = [
    "您（你们）于{{ received_on_text }}以{{ channel_label }}形式提出的信访事项（{{ petition_title }}）"
    "{{ routing_note }}，经审查，符合受理条件，{{ organisation }}已于{{ accepted_on }}依法受理。",
    NUMBER_LINE,
    "您反映的主要请求：{{ request_summary }}",
    "{{ handling }}",
]
NON_ACCEPTANCE = [
    "您（你们）于{{ received_on_text }}以{{ channel_label }}形式反映的信访事项（{{ petition_title }}），"
    "经审查，{{ organisation }}决定不予受理。",
    NUMBER_LINE,
    "反映的问题：{{ request_summary }}",
    "不予受理的理由：{{ reasons }}",
    "依据：{{ basis }}",
    "您可以通过以下途径反映或者解决：{{ channel }}",
]
REDIRECT = [
    "您（你们）于{{ received_on_text }}以{{ channel_label }}形式反映的信访事项（{{ petition_title }}），"
    "经审查，应当依照法律、法规规定的途径解决，{{ organisation }}不作为信访事项受理。",
    NUMBER_LINE,
    "反映的问题：{{ request_summary }}",
    "应当通过的途径：{{ channel }}",
    "依据：{{ basis }}",
    ("explanation", "{{ explanation }}"),
]
SLIP_INTRO = (
    "现将{{ petitioners }}于{{ received_on_text }}以{{ channel_label }}形式反映的信访事项{{ routing_verb }}"
    "你单位，请依法办理。"
)
SLIP_ROWS = [
    ("信访事项编号", "{{ petition_number }}"),
    ("信访人", "{{ petitioners }}"),
    ("反映事项", "{{ petition_title }}"),
    ("主要内容", "{{ request_summary }}"),
    ("问题属地", "{{ locality }}"),
    ("{{ routing_verb }}日期", "{{ routed_on }}"),
    ("受理期限", "{{ acceptance_due_on }}"),
    ("办理期限", "{{ handling_deadline }}"),
    ("办结报告", "{{ report_requirement }}"),
    ("办理意见", "{{ instructions }}"),
    ("经办人", "{{ clerk }}"),
]
EXTENSION = [
    "您（你们）提出的信访事项（{{ petition_title }}），{{ organisation }}正在依法办理。因{{ reason }}，"
    "经本机关负责人批准，办理期限延长{{ days }}日。",
    NUMBER_LINE,
    "原办理期限：{{ old_due_on }}",
    "延长后的办理期限：{{ new_due_on }}",
    "延期理由：{{ reason }}",
    "本机关将在延长后的期限内办结并书面答复您。依据：《信访工作条例》第三十四条。",
]
DECISION_LETTER = [
    "您（你们）于{{ received_on_text }}以{{ channel_label }}形式提出的信访事项{{ routing_note }}，"
    "{{ organisation }}已依法受理并办理。现将处理意见告知如下：",
    NUMBER_LINE,
    "一、信访请求：{{ request_summary }}",
    "二、查明的事实：{{ facts }}",
    "三、法律政策依据：{{ basis }}",
    "四、处理意见：{{ opinion }}",
    "处理结果：{{ outcome_label }}。",
    "{{ review_notice }}",
]
OPINION_HEAD = [
    "申请人：{{ addressee }}",
    "被申请人：{{ respondent }}",
    NUMBER_LINE,
]
REVIEW_OPINION = [
    *OPINION_HEAD,
    "申请人对{{ respondent }}作出的{{ contested }}不服，于{{ appeal_received_on }}向{{ organisation }}"
    "请求复查。本机关依法进行了复查，现将复查意见告知如下：",
    "请求及理由：{{ request }}",
    "查明的事实：{{ facts }}",
    "法律政策依据：{{ basis }}",
    "复查结论：{{ outcome_label }}。",
    "复查意见：{{ opinion }}",
    "{{ recheck_notice }}",
]
RECHECK_OPINION = [
    *OPINION_HEAD,
    "申请人对{{ respondent }}作出的{{ contested }}不服，于{{ appeal_received_on }}向{{ organisation }}"
    "请求复核。本机关依法进行了复核，现将复核意见告知如下：",
    "请求及理由：{{ request }}",
    "查明的事实：{{ facts }}",
    "法律政策依据：{{ basis }}",
    "复核结论：{{ outcome_label }}。",
    "复核意见：{{ opinion }}",
    "{{ final_notice }}",
]
HEARING = [
    "你（你们）对{{ respondent }}作出的复查意见不服，于{{ appeal_received_on }}请求复核。{{ organisation }}"
    "决定就下列事项举行听证，现将有关事项通知如下：",
    NUMBER_LINE,
    "听证事项：{{ matters }}",
    "听证时间：{{ hearing_time }}",
    "听证地点：{{ place }}",
    "{{ requirements }}",
]
SUPERVISION = [
    "{{ routed_by }}{{ routed_on }}{{ routing_verb }}你单位办理的{{ petitioners }}反映的信访事项"
    "（{{ petition_title }}），因{{ reasons }}，根据《信访工作条例》第三十九条、第四十条的规定，现予"
    "{{ notice_kind_label }}。",
    NUMBER_LINE,
    "督办要求：{{ requirements }}",
    ("recommendation", "改进建议：{{ recommendation }}"),
    "反馈期限：请于{{ respond_by }}前将办理情况书面反馈{{ organisation }}。",
    ("leader", "挂牌督办领导：{{ leader }}"),
]
CONCLUSION = [
    "您（你们）于{{ received_on_text }}提出的信访事项（{{ petition_title }}），{{ history }}",
    NUMBER_LINE,
    "终结理由：{{ conclusion_label }}",
    "终结日期：{{ concluded_on }}",
    "根据《信访工作条例》第三十六条第三款的规定，该信访事项已经终结。对同一事实和理由提出的信访事项，"
    "各级信访工作机构和其他机关、单位不再受理。",
]
AGREEMENT = [
    "当事人：{{ parties }}",
    NUMBER_LINE,
    "争议事项：{{ matter }}",
    "经{{ organisation }}{{ agreement_way }}，各方在平等自愿的基础上达成协议如下：",
    "{{ terms }}",
    "履行方式和期限：{{ performance }}",
    "本协议自各方签字（盖章）之日起生效，各方应当自觉履行。协议履行完毕后，该信访事项依法终结，"
    "对同一事实和理由提出的信访事项不再受理（《信访工作条例》第三十三条）。",
]


# --- the parts ------------------------------------------------------------------------------------


def _letterhead(doc) -> None:  # noqa: ANN001
    layout.paragraph(doc, "{{ organisation }}", font_name=TITLE_FONT, size=SIZE_1, align=CENTER, color=RED)
    layout.paragraph(doc, "")
    rule = layout.paragraph(doc, REFERENCE, align=CENTER)
    layout.bottom_border(rule)  # 版头中的分隔线, red
    layout.paragraph(doc, "")


def _title(doc, text: str = "{{ title }}") -> None:  # noqa: ANN001
    layout.paragraph(doc, text, font_name=TITLE_FONT, size=SIZE_2, align=CENTER)
    layout.paragraph(doc, "")


def _body(doc, paragraphs: list[str | tuple[str, str]]) -> None:  # noqa: ANN001
    """The body; an optional paragraph, ``(name, text)``, is printed only when ``name`` has a value
    (docxtpl's ``{%p if %}`` paragraphs vanish when rendered, leaving no empty line)."""
    for item in paragraphs:
        if isinstance(item, tuple):
            name, text = item
            layout.paragraph(doc, f"{{%p if {name} %}}")
            layout.paragraph(doc, text, indent=True)
            layout.paragraph(doc, "{%p endif %}")
        else:
            layout.paragraph(doc, item, indent=True)


def _signature(doc) -> None:  # noqa: ANN001
    """The issuing organisation and the date, right-aligned four characters in (GB/T 9704 7.3.5.1:
    成文日期右空四字), with the seal area above them.  The block is kept together and with the last
    line of the body, so no page carries a signature without text (7.3.5.3)."""
    last = doc.paragraphs[-1]
    if last.text == "{%p endif %}":  # an optional paragraph: keep its text with the signature
        last = doc.paragraphs[-2]
    last.paragraph_format.keep_with_next = True
    blank = layout.paragraph(doc, "")
    blank.paragraph_format.keep_with_next = True
    for text in (SEAL, "{{ organisation }}", "{{ date }}"):
        p = layout.paragraph(doc, text, align=RIGHT)
        p.paragraph_format.right_indent = Pt(SIZE_3.pt * 2)
        p.paragraph_format.keep_with_next = text != "{{ date }}"


def _field_table(doc, rows: list[tuple[str, str]]):  # noqa: ANN001, ANN202
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = (Mm(36), Mm(120))  # the 156 mm text width; LibreOffice reads the grid, Word the cells
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row, (label, value) in zip(table.rows, rows, strict=True):
        row.cells[0].width, row.cells[1].width = widths
        cant_split = OxmlElement("w:cantSplit")  # a row is never torn across two pages
        row._tr.get_or_add_trPr().append(cant_split)
        layout.cell(row.cells[0], label, bold=True, size=SIZE_4, font_name=BODY_FONT)
        layout.cell(row.cells[1], value, align=LEFT, size=SIZE_4, font_name=BODY_FONT)
    return table


def _proof_of_service(doc) -> None:  # noqa: ANN001
    """送达回证: on a page of its own below a cut line, so it is torn off, signed and filed
    (domain.md §5, "送达 record")."""
    cut = layout.paragraph(doc, "（沿此线剪下，送达回证由送达人带回存档）", size=Pt(12), align=CENTER)
    layout.page_break_before(cut)
    layout.bottom_border(cut, color="000000", size_eighths=8, style="dashed")
    layout.paragraph(doc, "")
    layout.paragraph(doc, "送达回证", font_name=TITLE_FONT, size=SIZE_2, align=CENTER)
    layout.paragraph(doc, "")
    _field_table(
        doc,
        [
            ("文书名称", "{{ title }}"),
            ("文号", REFERENCE),
            ("信访事项编号", "{{ petition_number }}"),
            ("发文机关", "{{ organisation }}"),
            ("受送达人", "{{ addressee }}"),
            ("送达方式", "□直接送达　□邮寄送达　□电子送达　□公告送达"),
            ("送达时间", "　　　　年　　月　　日　　时"),
            ("签收情况", "□签收　□拒收（送达人注明拒收事由和日期）"),
            ("签收人", "（签名）"),
            ("送达人", "（签名）"),
            ("备注", ""),
        ],
    )


def _slip(doc, rows: list[tuple[str, str]]) -> None:  # noqa: ANN001
    layout.paragraph(doc, "{{ addressee }}：")
    _body(doc, [SLIP_INTRO])
    layout.paragraph(doc, "")
    table = _field_table(doc, rows)
    for cell in table.rows[-1].cells:  # the last row goes over with the signature, never alone
        for p in cell.paragraphs:
            p.paragraph_format.keep_with_next = True


def build_kind(code: str, paragraphs: list[str | tuple[str, str]], *, to_petitioner: bool,
               title: str = "{{ title }}", slip: list[tuple[str, str]] | None = None,
               signatures: bool = False, salutation: bool = True,
               out: Path = HERE) -> None:  # fmt: skip
    doc = layout.new_document(f"docxtpl template: documents/default_templates/build.py ({code})")
    _letterhead(doc)
    _title(doc, title)
    if slip is not None:
        _slip(doc, slip)
        _body(doc, paragraphs)
    else:
        if salutation:  # an agreement or an opinion names its parties instead of an addressee
            layout.paragraph(doc, "{{ addressee }}：")
        _body(doc, paragraphs)
    if signatures:
        layout.paragraph(doc, "")
        for text in ("信访人（签名）：", "其他当事人（签名、盖章）：", "主持人（签名）："):
            layout.paragraph(doc, text, indent=True).paragraph_format.keep_with_next = True
    _signature(doc)
    if to_petitioner:
        _proof_of_service(doc)
    doc.save(out / f"{code}.docx")


def build_all(out: Path = HERE) -> list[str]:
    kinds = {
        "receipt": (RECEIPT, {"to_petitioner": False}),
        "acceptance": (ACCEPTANCE, {"to_petitioner": True}),
        "non_acceptance": (NON_ACCEPTANCE, {"to_petitioner": True}),
        "redirect": (REDIRECT, {"to_petitioner": True}),
        "forwarding": ([], {"to_petitioner": False, "slip": SLIP_ROWS}),
        "assignment": ([], {"to_petitioner": False, "slip": SLIP_ROWS}),
        "extension": (EXTENSION, {"to_petitioner": True}),
        "decision_letter": (DECISION_LETTER, {"to_petitioner": True}),
        "review_opinion": (REVIEW_OPINION, {"to_petitioner": True, "salutation": False}),
        "recheck_opinion": (RECHECK_OPINION, {"to_petitioner": True, "salutation": False}),
        "hearing": (HEARING, {"to_petitioner": True}),
        "supervision": (SUPERVISION, {"to_petitioner": False}),
        "conclusion": (CONCLUSION, {"to_petitioner": True}),
        "agreement": (
            AGREEMENT,
            {
                "to_petitioner": True,
                "title": "{{ agreement_title }}",
                "signatures": True,
                "salutation": False,
            },
        ),
    }
    for code, (paragraphs, options) in kinds.items():
        build_kind(code, paragraphs, out=out, **options)
    return list(kinds)


if __name__ == "__main__":
    print("wrote", ", ".join(f"{code}.docx" for code in build_all()), "in", HERE)
