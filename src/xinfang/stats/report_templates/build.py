"""Build the default report templates ``monthly.docx`` and ``annual.docx`` (python-docx).

Run ``.venv/bin/python src/xinfang/stats/report_templates/build.py`` after changing this file and
commit the two DOCX files with it, so the templates are reproducible from source.

The layout follows GB/T 9704-2012 (党政机关公文格式) as far as python-docx reaches, with the helpers
shared with the documents' templates (``xinfang.core.docx_layout``): A4 with the standard margins,
the title in 小标宋 二号, 主送 and the body in 仿宋_GB2312 三号 at a fixed 28 pt line, first-level
headings in 黑体, second-level in 楷体, the signing office and the date at the right, the page number
"— 1 —" at the foot.

The templates are docxtpl (Jinja) templates: ``{{ name }}`` prints a value of the report's context
(``stats.reports.build_report``), ``{%tr for r in rows %}`` repeats a table row, ``{%p … %}`` a
paragraph.  An office's own template may use any of the same names (``reports.sample_context``).
"""

from __future__ import annotations

from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from xinfang.core import docx_layout as layout
from xinfang.core.docx_layout import BODY_FONT, HEADING_FONT, SIZE_2, SIZE_TABLE, SUBHEADING_FONT, TITLE_FONT

HERE = Path(__file__).resolve().parent
_paragraph = layout.paragraph


def _heading(doc, text: str) -> None:  # noqa: ANN001
    _paragraph(doc, text, font_name=HEADING_FONT, indent=True)


def _subheading(doc, text: str) -> None:  # noqa: ANN001
    _paragraph(doc, text, font_name=SUBHEADING_FONT, indent=True)


def _cell(cell, text: str, *, bold: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:  # noqa: ANN001
    layout.cell(cell, text, bold=bold, align=align, size=SIZE_TABLE, font_name=BODY_FONT)


def _table(doc, header: list[str], loop: str, cells: list[str]) -> None:  # noqa: ANN001
    """A table of figures: the header, then one row repeated for each item of ``loop`` (docxtpl's
    ``{%tr for r in … %}`` and ``{%tr endfor %}`` rows vanish when rendered)."""
    table = doc.add_table(rows=4, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(header):
        _cell(table.rows[0].cells[i], text, bold=True)
    _cell(table.rows[1].cells[0], f"{{%tr for r in {loop} %}}")
    for i, expr in enumerate(cells):
        _cell(table.rows[2].cells[i], f"{{{{ r.{expr} }}}}", align=WD_ALIGN_PARAGRAPH.LEFT if i == 0 else
              WD_ALIGN_PARAGRAPH.CENTER)  # fmt: skip
    _cell(table.rows[3].cells[0], "{%tr endfor %}")
    layout.repeat_header(table)
    _paragraph(doc, "", size=Pt(6))


def _document():  # noqa: ANN202
    return layout.new_document("docxtpl template: stats/report_templates/build.py")


def _head(doc) -> None:  # noqa: ANN001
    _paragraph(doc, "", space_before=0)
    _paragraph(doc, "{{ title }}", font_name=TITLE_FONT, size=SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, "")
    _paragraph(doc, "{{ addressee }}：")
    _paragraph(doc, "{{ summary }}", indent=True)


def _issues(doc, *, with_locality_heading: str) -> None:  # noqa: ANN001
    _paragraph(doc, "{{ issues_summary }}", indent=True)
    _table(doc, ["问题分类", "批次", "占比", "上年同期", "同比"], "category_rows",
           ["label", "received", "share", "last", "yoy"])  # fmt: skip
    _paragraph(doc, "{{ category_chart }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    _subheading(doc, with_locality_heading)
    _table(doc, ["问题属地", "批次", "占比", "上年同期", "同比"], "locality_rows",
           ["label", "received", "share", "last", "yoy"])  # fmt: skip
    _subheading(doc, "被反映较多的单位（不含保密的检举控告事项）")
    _table(doc, ["被反映单位", "批次", "占比"], "subject_rows", ["label", "received", "share"])


def _handling(doc) -> None:  # noqa: ANN001
    _paragraph(doc, "{{ routing_summary }}", indent=True)
    _paragraph(doc, "{{ handling_summary }}", indent=True)
    _subheading(doc, "（一）答复情况")
    _table(doc, ["处理结果", "件数", "占比"], "reply_rows", ["label", "count", "share"])
    _subheading(doc, "（二）主要工作指标")
    _table(doc, ["指标", "分子", "分母", "本期", "上年同期", "同比"], "rate_rows",
           ["label", "numerator", "denominator", "percent", "last", "yoy"])  # fmt: skip
    _subheading(doc, "（三）复查复核情况")
    _table(doc, ["项目", "本期", "上年同期", "同比"], "appeal_rows", ["label", "value", "last", "yoy"])


def _suggestions(doc) -> None:  # noqa: ANN001
    _paragraph(doc, "本期信访人提出意见建议类信访事项{{ suggestion_total }}批，按问题分类如下：", indent=True)
    _table(doc, ["问题分类", "批次", "占比"], "suggestion_rows", ["label", "received", "share"])
    _paragraph(doc, "部分意见建议摘录：", indent=True)
    _paragraph(doc, "{%p for t in suggestion_titles %}")
    _paragraph(doc, "{{ loop.index }}. {{ t }}", indent=True)
    _paragraph(doc, "{%p endfor %}")


def _close(doc, *, copy_to: bool) -> None:  # noqa: ANN001
    _paragraph(doc, "{{ data_note }}", size=Pt(12), indent=True)
    _paragraph(doc, "")
    _paragraph(doc, "{{ office }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, "{{ date }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    if copy_to:
        _paragraph(doc, "")
        _paragraph(doc, "抄报：{{ copy_to }}。", size=Pt(14))


def build_annual(out: Path = HERE) -> None:
    doc = _document()
    _head(doc)
    _heading(doc, "一、信访总体情况")
    _table(
        doc,
        ["项目", "单位", "本年", "上年", "同比"],
        "intake_rows",
        ["label", "unit", "value", "last", "yoy"],
    )
    _subheading(doc, "按信访形式分")
    _table(doc, ["信访形式", "批次", "人次", "占比", "上年批次", "同比"], "channel_rows",
           ["label", "received", "persons", "share", "last", "yoy"])  # fmt: skip
    _paragraph(doc, "{{ trend_chart }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    _heading(doc, "二、反映的主要问题及其发生地")
    _issues(doc, with_locality_heading="问题发生地分布")
    _heading(doc, "三、信访事项的转送、交办、督办和办理情况")
    _handling(doc)
    _heading(doc, "四、信访人提出的主要意见建议")
    _suggestions(doc)
    _heading(doc, "五、提出的完善政策、改进工作建议及采纳情况")
    _paragraph(doc, "{{ recommendations }}", indent=True)
    _close(doc, copy_to=True)
    doc.save(out / "annual.docx")


def build_monthly(out: Path = HERE) -> None:
    doc = _document()
    _head(doc)
    _heading(doc, "一、信访总体情况")
    _table(doc, ["项目", "单位", "本月", "上月", "环比", "上年同月", "同比"], "intake_rows",
           ["label", "unit", "value", "prev", "mom", "last", "yoy"])  # fmt: skip
    _subheading(doc, "按信访形式分")
    _table(doc, ["信访形式", "批次", "人次", "占比", "上年同月", "同比"], "channel_rows",
           ["label", "received", "persons", "share", "last", "yoy"])  # fmt: skip
    _paragraph(doc, "{{ trend_chart }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    _heading(doc, "二、反映的主要问题及其发生地")
    _issues(doc, with_locality_heading="问题发生地分布")
    _heading(doc, "三、信访事项办理情况")
    _handling(doc)
    _heading(doc, "四、信访人提出的主要意见建议")
    _suggestions(doc)
    _heading(doc, "五、工作建议及采纳情况")
    _paragraph(doc, "{{ recommendations }}", indent=True)
    _close(doc, copy_to=False)
    doc.save(out / "monthly.docx")


if __name__ == "__main__":
    build_annual()
    build_monthly()
    print("wrote", HERE / "annual.docx", HERE / "monthly.docx")
