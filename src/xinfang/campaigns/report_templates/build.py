"""Build the default closing report template ``closing.docx`` of a campaign (python-docx).

Run ``.venv/bin/python src/xinfang/campaigns/report_templates/build.py`` after changing this file and
commit the DOCX with it.  The layout is the reports' (``stats/report_templates/build.py``): GB/T
9704 through ``xinfang.core.docx_layout``; the names are those of ``campaigns.progress.report_context``.
"""

from __future__ import annotations

from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from xinfang.core import docx_layout as layout
from xinfang.core.docx_layout import BODY_FONT, HEADING_FONT, SIZE_2, SIZE_TABLE, TITLE_FONT

HERE = Path(__file__).resolve().parent
_paragraph = layout.paragraph


def _cell(cell, text: str, *, bold: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:  # noqa: ANN001
    layout.cell(cell, text, bold=bold, align=align, size=SIZE_TABLE, font_name=BODY_FONT)


def _table(doc, header: list[str], loop: str, cells: list[str]) -> None:  # noqa: ANN001
    table = doc.add_table(rows=4, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(header):
        _cell(table.rows[0].cells[i], text, bold=True)
    _cell(table.rows[1].cells[0], f"{{%tr for r in {loop} %}}")
    for i, expr in enumerate(cells):
        align = WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.CENTER
        _cell(table.rows[2].cells[i], f"{{{{ r.{expr} }}}}", align=align)
    _cell(table.rows[3].cells[0], "{%tr endfor %}")
    layout.repeat_header(table)
    _paragraph(doc, "", size=Pt(6))


def build(out: Path = HERE) -> None:
    doc = layout.new_document("docxtpl template: campaigns/report_templates/build.py")
    _paragraph(doc, "")
    _paragraph(doc, "{{ title }}", font_name=TITLE_FONT, size=SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, "")
    _paragraph(doc, "{{ summary }}", indent=True)
    _paragraph(doc, "{{ description }}", indent=True)
    _paragraph(doc, "一、目标完成情况", font_name=HEADING_FONT, indent=True)
    _table(doc, ["指标", "目标", "实际", "完成情况"], "target_rows", ["label", "threshold", "actual", "met"])
    _paragraph(doc, "二、各责任单位化解情况", font_name=HEADING_FONT, indent=True)
    _table(doc, ["责任单位", "列入", "已化解", "化解中", "化解率", "已办结", "办结率", "包案"], "unit_rows",
           ["label", "total", "resolved", "in_progress", "resolution_rate", "concluded", "concluded_rate",
            "contracted"])  # fmt: skip
    _paragraph(doc, "三、分类化解情况", font_name=HEADING_FONT, indent=True)
    _table(doc, ["化解类别", "列入", "已化解", "化解率"], "category_rows",
           ["label", "total", "resolved", "resolution_rate"])  # fmt: skip
    _paragraph(doc, "四、总结", font_name=HEADING_FONT, indent=True)
    _paragraph(doc, "{{ closing_note }}", indent=True)
    _paragraph(doc, "附：积案清单", font_name=HEADING_FONT, indent=True)
    _table(doc, ["信访编号", "标题", "责任单位", "化解类别", "包案领导", "状态"], "case_rows",
           ["number", "title", "unit", "category", "leader", "status"])  # fmt: skip
    _paragraph(doc, "")
    _paragraph(doc, "{{ office }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, "{{ date }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.save(out / "closing.docx")


if __name__ == "__main__":
    build()
