"""python-docx helpers shared by the build scripts of the default DOCX templates: the reports
(``stats/report_templates/build.py``) and the documents (``documents/default_templates/build.py``).

The layout follows GB/T 9704-2012 (党政机关公文格式) as far as python-docx reaches: A4 with the
standard margins (天头 37 mm, 下白边 35 mm, 订口 28 mm, 翻口 26 mm), the title in 小标宋 二号, 主送
and the body in 仿宋_GB2312 三号 at a fixed 28 pt line, first-level headings in 黑体, second-level in
楷体, the page number "— 1 —" at the foot.  Fonts are named, not embedded: Word on a government PC
has them; the PDF converter maps them to Noto CJK (``documents/fonts``).

Only build scripts import this module (never the running site): it writes templates, it does not
fill them.
"""

from __future__ import annotations

from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
SIZE_1 = Pt(26)  # 一号
SIZE_2 = Pt(22)  # 二号
SIZE_3 = Pt(16)  # 三号
SIZE_4 = Pt(14)  # 四号
SIZE_TABLE = Pt(10.5)  # 五号: tables of figures fit the 156 mm text width
RED = RGBColor(0xE6, 0x00, 0x12)  # 发文机关标志 and the separator line are red (GB/T 9704 7.2.3)


def font(run: Any, name: str, size: Pt, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    # Word takes Chinese glyphs from the East Asian font slot, which font.name does not set.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def paragraph(
    doc: Any,
    text: str,
    *,
    font_name: str = BODY_FONT,
    size: Pt = SIZE_3,
    bold: bool = False,
    align: Any = None,
    indent: bool = False,
    space_before: int = 0,
    color: RGBColor | None = None,
) -> Any:
    """One paragraph of one run at a fixed line height (28 pt for 三号 and larger, 18 pt below),
    optionally indented by two characters (首行缩进两字)."""
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28) if size >= SIZE_3 else Pt(18)
    if size > Pt(28):  # a 一号 letterhead does not fit a 28 pt line
        fmt.line_spacing = Pt(size.pt * 1.3)
    fmt.space_after = Pt(0)
    fmt.space_before = Pt(space_before)
    if indent:
        fmt.first_line_indent = Pt(size.pt * 2)
    if align is not None:
        p.alignment = align
    font(p.add_run(text), font_name, size, bold, color)
    return p


def bottom_border(p: Any, color: str = "E60012", size_eighths: int = 12, style: str = "single") -> None:
    """A line under the paragraph: the red separator under the 文号 (GB/T 9704 7.2.5) or the dashed
    cut line of a detachable slip."""
    p_pr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), style)
    bottom.set(qn("w:sz"), str(size_eighths))
    bottom.set(qn("w:space"), "1")
    bottom.set(qn("w:color"), color)
    borders.append(bottom)
    p_pr.append(borders)


def page_break_before(p: Any) -> None:
    p.paragraph_format.page_break_before = True


def cell(
    table_cell: Any,
    text: str,
    *,
    bold: bool = False,
    align: Any = WD_ALIGN_PARAGRAPH.CENTER,
    size: Pt = SIZE_TABLE,
    font_name: str = BODY_FONT,
) -> None:
    p = table_cell.paragraphs[0]
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    font(p.add_run(text), font_name, size, bold)


def repeat_header(table: Any) -> None:
    """The table's first row repeats on each page a long table runs over."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header_flag = OxmlElement("w:tblHeader")
    header_flag.set(qn("w:val"), "true")
    tr_pr.append(header_flag)


def page_number_footer(section: Any) -> None:
    """ "— 1 —" centred at the foot (GB/T 9704 7.5, simplified: not alternating sides)."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    font(p.add_run("— "), BODY_FONT, SIZE_4)
    run = p.add_run()
    font(run, BODY_FONT, SIZE_4)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    font(p.add_run(" —"), BODY_FONT, SIZE_4)


def new_document(comment: str) -> Any:
    """An empty A4 document with the GB/T 9704 margins, 仿宋 三号 as the normal style and the page
    number at the foot; ``comment`` names the build script (Word shows it under 文件 > 信息)."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = SIZE_3
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    page_number_footer(section)
    doc.core_properties.author = "信访业务系统"  # not python-docx's default; a document sets its own
    doc.core_properties.comments = comment
    return doc


__all__ = [
    "BODY_FONT", "HEADING_FONT", "RED", "SIZE_1", "SIZE_2", "SIZE_3", "SIZE_4", "SIZE_TABLE",
    "SUBHEADING_FONT", "TITLE_FONT", "bottom_border", "cell", "font", "new_document", "page_break_before",
    "page_number_footer", "paragraph", "repeat_header",
]  # fmt: skip
