"""The print view's content read from the document's own DOCX (issue #10 point 6): what is printed
from the browser is what the DOCX and the PDF say, for every kind and every uploaded template
version, without a second layout to keep in step.  Paragraphs and tables become plain blocks with a
few classes (alignment, first-line indent, size, red, bold, rules, page breaks) that
``static/xinfang/css/print.css`` lays out on A4; the CSP allows no inline style."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from docx import Document as Docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

ALIGN_CLASSES = {
    WD_ALIGN_PARAGRAPH.CENTER: "al-center",
    WD_ALIGN_PARAGRAPH.RIGHT: "al-right",
    WD_ALIGN_PARAGRAPH.JUSTIFY: "al-justify",
}


@dataclass
class Run:
    text: str
    classes: str = ""


@dataclass
class Block:
    kind: str  # "p" or "table"
    classes: str = ""
    runs: list[Run] = field(default_factory=list)
    rows: list[list[list[Block]]] = field(default_factory=list)  # table: rows of cells of paragraphs

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


def _size_class(points: float | None) -> str:
    if points is None:
        return ""
    if points >= 24:
        return "fs-1"  # 一号: the issuer's mark
    if points >= 20:
        return "fs-2"  # 二号: titles
    if points >= 15:
        return ""  # 三号: the body size
    return "fs-small"


def _is_red(run: Any) -> bool:
    rgb = run.font.color.rgb if run.font.color is not None and run.font.color.type is not None else None
    return rgb is not None and rgb[0] >= 0xB0 and rgb[1] < 0x40 and rgb[2] < 0x40


def _paragraph(p: Paragraph) -> Block:
    fmt = p.paragraph_format
    style_fmt = p.style.paragraph_format if p.style is not None else None
    align = fmt.alignment if fmt.alignment is not None else (style_fmt.alignment if style_fmt else None)
    classes = [ALIGN_CLASSES.get(align, "")]
    if fmt.first_line_indent is not None and fmt.first_line_indent > 0:
        classes.append("indent")
    if fmt.right_indent is not None and fmt.right_indent > 0:
        classes.append("right-space")
    border = p._p.find(qn("w:pPr") + "/" + qn("w:pBdr") + "/" + qn("w:bottom"))
    if border is not None:
        classes.append("rule-red" if (border.get(qn("w:color")) or "").upper() != "000000" else "rule-cut")
    runs = []
    for run in p.runs:
        text = run.text
        if not text:
            continue
        size = run.font.size.pt if run.font.size is not None else None
        run_classes = [_size_class(size), "red" if _is_red(run) else "", "bold" if run.bold else ""]
        runs.append(Run(text=text, classes=" ".join(c for c in run_classes if c)))
    if not runs:
        classes.append("blank")
    return Block(kind="p", classes=" ".join(c for c in classes if c), runs=runs)


def _table(table: Table) -> Block:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is listed once per grid column
                continue
            seen.add(id(cell._tc))
            cells.append([_paragraph(p) for p in cell.paragraphs])
        rows.append(cells)
    return Block(kind="table", rows=rows)


def sheets(content: bytes) -> list[list[Block]]:
    """The DOCX as pages: a new sheet at every "page break before" paragraph or page-break run."""
    doc = Docx(io.BytesIO(content))
    pages: list[list[Block]] = [[]]
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            p = Paragraph(child, doc)
            breaks = bool(p.paragraph_format.page_break_before) or any(
                br.get(qn("w:type")) == "page" for br in child.iter(qn("w:br"))
            )
            if breaks and pages[-1]:
                pages.append([])
            pages[-1].append(_paragraph(p))
        elif child.tag == qn("w:tbl"):
            pages[-1].append(_table(Table(child, doc)))
    return [page for page in pages if page]
