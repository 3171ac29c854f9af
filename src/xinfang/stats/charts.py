"""Charts of the reports, drawn on the server as PNG (matplotlib, Agg) with a CJK font.

The DOCX reports embed pictures, not scripts, so their charts are drawn here rather than by the
dashboard's ECharts.  Matplotlib's bundled fonts have no Chinese glyphs; the charts use Noto Sans
CJK (``fonts-noto-cjk``; ``XINFANG_CJK_FONT`` names another file).  Without it a chart is still
drawn, its Chinese as empty boxes, and a warning is logged: a report must never fail for a font.
Only the object API is used (``Figure`` + ``FigureCanvasAgg``), never ``pyplot``: pyplot keeps
global state and is not safe in a threaded web server.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

logger = logging.getLogger(__name__)

DEFAULT_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
# Print colours that stay distinct in greyscale: this period dark, the comparison light.
CURRENT = "#1f4e79"
EARLIER = "#9dc3e6"
DPI = 150


def font_path() -> str | None:
    """The CJK font file: ``XINFANG_CJK_FONT``, else Noto Sans CJK where Debian puts it, else any
    installed font matplotlib knows as Noto Sans CJK; None (and a warning) when there is none."""
    return _find_font(getattr(settings, "XINFANG_CJK_FONT", "") or "")


@lru_cache(maxsize=4)
def _find_font(configured: str) -> str | None:
    for candidate in (configured, DEFAULT_FONT):
        if candidate and Path(candidate).is_file():
            return candidate
    for entry in font_manager.fontManager.ttflist:
        if "Noto Sans CJK" in entry.name or "Noto Serif CJK" in entry.name:
            return entry.fname
    logger.warning(
        "No CJK font found (XINFANG_CJK_FONT=%r): report charts are drawn without Chinese glyphs; "
        "install fonts-noto-cjk",
        configured,
    )
    return None


def _font(size: float) -> font_manager.FontProperties:
    path = font_path()
    return (
        font_manager.FontProperties(fname=path, size=size) if path else font_manager.FontProperties(size=size)
    )


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)  # attaches the Agg canvas
    with warnings.catch_warnings():
        # Without the CJK font every Chinese character warns once; the log has said why already.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def trend_chart(
    *, title: str, labels: Sequence[str], current: Sequence[int], earlier: Sequence[int] | None,
    current_label: str, earlier_label: str = "",
) -> bytes:  # fmt: skip
    """Bars per month for ``current``, with ``earlier`` (the same months a year before) beside
    them when given: the 同比 shown at a glance."""
    figure = Figure(figsize=(6.3, 3.0))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    width = 0.4 if earlier is not None else 0.6
    if earlier is not None:
        axes.bar([p - width / 2 for p in positions], earlier, width, color=EARLIER, label=earlier_label)
        bars = axes.bar(
            [p + width / 2 for p in positions], current, width, color=CURRENT, label=current_label
        )
    else:
        bars = axes.bar(positions, current, width, color=CURRENT, label=current_label)
    axes.bar_label(bars, fontproperties=_font(7), padding=1)
    axes.set_xticks(positions, labels, fontproperties=_font(8))
    _finish(figure, axes, title)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 petitions
    axes.legend(prop=_font(8), frameon=False)
    return _png(figure)


def ranking_chart(*, title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    """Horizontal bars, largest on top (the main issues, the places they arose)."""
    figure = Figure(figsize=(6.3, max(1.6, 0.32 * len(labels) + 0.9)))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    bars = axes.barh(positions, values, 0.6, color=CURRENT)
    axes.bar_label(bars, fontproperties=_font(8), padding=2)
    axes.set_yticks(positions, labels, fontproperties=_font(8))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    _finish(figure, axes, title)
    return _png(figure)


def _finish(figure: Figure, axes, title: str) -> None:  # noqa: ANN001 (matplotlib Axes)
    axes.set_title(title, fontproperties=_font(11))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for label in axes.get_xticklabels() + axes.get_yticklabels():
        label.set_fontproperties(_font(8))
    figure.tight_layout()
