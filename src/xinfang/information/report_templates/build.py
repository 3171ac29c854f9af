"""Build the default template of an information report, ``report.docx`` (python-docx).

Run ``.venv/bin/python src/xinfang/information/report_templates/build.py`` after changing this file
and commit the DOCX with it, so the template is reproducible from source.

The customary 信访信息 layout (an internal publication, 简报式): the masthead "信访信息" (or the
kind: 紧急信息 …) in red, the issue "2026年第12期" under it, the sending office, the 签发人 and the
date on one line above a red rule, the title in 小标宋 二号, the body in 仿宋 三号, an
optional table of figures, and at the foot between two rules 报送 (the receiving office) and 抄送.
A4 with the GB/T 9704 margins and fonts (``xinfang.core.docx_layout``).  ``{{ name }}`` prints a
value of ``rendering.context``; ``{%p … %}`` repeats or hides a paragraph, ``{%tr … %}`` a row.
"""

from __future__ import annotations

from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH

from xinfang.core import docx_layout as layout
from xinfang.core.docx_layout import RED, SIZE_1, SIZE_2, SIZE_4, SIZE_TABLE, TITLE_FONT

HERE = Path(__file__).resolve().parent
CENTER, RIGHT, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT


def build() -> Path:
    doc = layout.new_document("docxtpl template: information/report_templates/build.py")
    p = layout.paragraph
    p(doc, "{{ masthead }}", font_name=TITLE_FONT, size=SIZE_1, align=CENTER, color=RED)
    p(doc, "{{ issue }}", align=CENTER)
    rule = p(doc, "{{ office }}　　签发人：{{ signer }}　　{{ date }}", size=SIZE_4, align=CENTER)
    layout.bottom_border(rule)
    p(doc, "")
    p(doc, "{{ title }}", font_name=TITLE_FONT, size=SIZE_2, align=CENTER)
    p(doc, "")
    p(doc, "{%p for para in paragraphs %}")
    p(doc, "{{ para }}", indent=True)
    p(doc, "{%p endfor %}")
    p(doc, "{%p if figure_rows %}")
    p(doc, "附：{{ figure_caption }}", indent=True)
    table = doc.add_table(rows=4, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    layout.cell(table.rows[0].cells[0], "项目", bold=True, size=SIZE_TABLE)
    layout.cell(table.rows[0].cells[1], "数量", bold=True, size=SIZE_TABLE)
    layout.cell(table.rows[1].cells[0], "{%tr for r in figure_rows %}", size=SIZE_TABLE)
    layout.cell(table.rows[2].cells[0], "{{ r.label }}", align=LEFT, size=SIZE_TABLE)
    layout.cell(table.rows[2].cells[1], "{{ r.value }}{{ r.unit }}", size=SIZE_TABLE)
    layout.cell(table.rows[3].cells[0], "{%tr endfor %}", size=SIZE_TABLE)
    p(doc, "{%p endif %}")
    p(doc, "")
    top = p(doc, "", size=SIZE_4)
    layout.bottom_border(top, color="000000", size_eighths=8)
    p(doc, "报送：{{ receiver }}", size=SIZE_4)
    p(doc, "{%p if copy_to %}")
    p(doc, "抄送：{{ copy_to }}", size=SIZE_4)
    p(doc, "{%p endif %}")
    foot = p(doc, "拟稿：{{ drafter }}", size=SIZE_4, align=RIGHT)
    layout.bottom_border(foot, color="000000", size_eighths=8)
    out = HERE / "report.docx"
    doc.save(out)
    return out


if __name__ == "__main__":
    print(build())
