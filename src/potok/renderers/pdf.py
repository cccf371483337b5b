"""Drawing paper forms with ReportLab: boxes of wrapped text, signature lines, ruled tables.

Forms are drawn on the canvas, measured from the top-left corner in millimetres, because
ТОРГ-12 and УПД are fixed layouts rather than flowing text. A :class:`Grid` is a table
with a multi-level header; :func:`paginate` splits its rows into pages so that the last
page keeps room for the totals and the signatures. Every PDF is made with ReportLab's
``invariant`` switch: no creation time, no random id, so the same subject gives the same
bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from potok.renderers.fonts import BOLD, NARROW, NARROW_BOLD, REGULAR, register_fonts

Align = Literal["left", "right", "center"]
VAlign = Literal["top", "middle", "bottom"]

PORTRAIT = A4
LANDSCAPE = landscape(A4)
LEADING = 1.15  # line height as a multiple of the font size
PAD = 0.6 * mm


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` that fit ``width`` (explicit newlines kept)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        parts: list[str] = simpleSplit(paragraph, font, size, width) if paragraph else []
        lines.extend(parts or [""])
    return lines


class Sheet:
    """A PDF being drawn: one canvas, coordinates from the top-left corner in points."""

    def __init__(
        self, *, pagesize: tuple[float, float], title: str, author: str, subject: str
    ) -> None:
        register_fonts()
        self.buffer = io.BytesIO()
        self.width, self.height = pagesize
        self.canvas = Canvas(self.buffer, pagesize=pagesize, invariant=1, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor(author)
        self.canvas.setSubject(subject)
        self.canvas.setCreator("Potok")
        self.canvas.setLineWidth(0.5)

    def finish(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()

    def next_page(self) -> None:
        self.canvas.showPage()
        self.canvas.setLineWidth(0.5)

    # ------------------------------------------------------------------ primitives

    def text(
        self,
        x: float,
        top: float,
        text: str,
        *,
        size: float = 8,
        font: str = REGULAR,
        align: Align = "left",
    ) -> None:
        """One line of text whose top is at ``top``."""
        self.canvas.setFont(font, size)
        baseline = self.height - top - size * 0.9
        if align == "left":
            self.canvas.drawString(x, baseline, text)
        elif align == "right":
            self.canvas.drawRightString(x, baseline, text)
        else:
            self.canvas.drawCentredString(x, baseline, text)

    def paragraph(
        self,
        x: float,
        top: float,
        width: float,
        text: str,
        *,
        size: float = 8,
        font: str = REGULAR,
        align: Align = "left",
    ) -> float:
        """Wrapped text; returns the top of what comes under it."""
        for line in wrap(text, font, size, width):
            anchor = {"left": x, "right": x + width, "center": x + width / 2}[align]
            self.text(anchor, top, line, size=size, font=font, align=align)
            top += size * LEADING
        return top

    def line(self, x1: float, top1: float, x2: float, top2: float, width: float = 0.5) -> None:
        self.canvas.setLineWidth(width)
        self.canvas.line(x1, self.height - top1, x2, self.height - top2)
        self.canvas.setLineWidth(0.5)

    def rect(self, x: float, top: float, width: float, height: float, line: float = 0.5) -> None:
        self.canvas.setLineWidth(line)
        self.canvas.rect(x, self.height - top - height, width, height)
        self.canvas.setLineWidth(0.5)

    def fill(self, x: float, top: float, width: float, height: float) -> None:
        """A black square (a QR module, a barcode bar)."""
        self.canvas.rect(x, self.height - top - height, width, height, stroke=0, fill=1)

    def box(
        self,
        x: float,
        top: float,
        width: float,
        height: float,
        text: str = "",
        *,
        size: float = 7,
        font: str = NARROW,
        align: Align = "left",
        valign: VAlign = "middle",
        border: bool = True,
        min_size: float = 4.5,
    ) -> None:
        """A cell: a rectangle with text wrapped inside, smaller type when it would spill."""
        if border:
            self.rect(x, top, width, height)
        if not text:
            return
        inner = width - 2 * PAD
        lines = wrap(text, font, size, inner)
        while size > min_size and len(lines) * size * LEADING > height - PAD:
            size -= 0.5
            lines = wrap(text, font, size, inner)
        block = len(lines) * size * LEADING
        if valign == "top":
            y = top + PAD
        elif valign == "bottom":
            y = top + height - block - PAD / 2
        else:
            y = top + (height - block) / 2
        for line in lines:
            anchor = {"left": x + PAD, "right": x + width - PAD, "center": x + width / 2}[align]
            self.text(anchor, y, line, size=size, font=font, align=align)
            y += size * LEADING

    def field(
        self,
        x: float,
        top: float,
        width: float,
        value: str = "",
        caption: str = "",
        *,
        size: float = 7.5,
        caption_size: float = 5,
        font: str = REGULAR,
        align: Align = "center",
    ) -> float:
        """A value written on a line with a small caption under it (a form's blank).

        Returns the top of what comes under the caption."""
        height = size * LEADING
        if value:
            lines = wrap(value, font, size, width)
            for index, line in enumerate(lines):
                anchor = {"left": x, "right": x + width, "center": x + width / 2}[align]
                self.text(anchor, top + index * height, line, size=size, font=font, align=align)
            height *= len(lines)
        self.line(x, top + height + 0.3 * mm, x + width, top + height + 0.3 * mm)
        bottom = top + height + 0.6 * mm
        if caption:
            bottom = self.paragraph(
                x, bottom, width, caption, size=caption_size, font=REGULAR, align="center"
            )
        return bottom

    def label(
        self, x: float, top: float, text: str, *, size: float = 7.5, bold: bool = False
    ) -> float:
        """A label before a field; returns where the field may start."""
        font = BOLD if bold else REGULAR
        self.text(x, top, text, size=size, font=font)
        return x + stringWidth(text, font, size) + 1.5 * mm


def text_width(text: str, *, size: float, font: str = REGULAR) -> float:
    return float(stringWidth(text, font, size))


# ---------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class Column:
    width: float  # points
    align: Align = "center"


@dataclass(frozen=True, slots=True)
class HeaderCell:
    """A header cell over columns ``first..last`` and header levels ``level..level+levels-1``."""

    first: int
    last: int
    text: str
    level: int = 0
    levels: int = 1


@dataclass(frozen=True, slots=True)
class Span:
    """A cell of a totals row over columns ``first..last``."""

    first: int
    last: int
    text: str
    align: Align = "right"
    border: bool = True


@dataclass
class Grid:
    """A ruled table with a multi-level header and a row of column numbers under it."""

    columns: Sequence[Column]
    header: Sequence[HeaderCell]
    level_heights: Sequence[float]  # points, one per header level
    numbers: Sequence[str] = ()
    header_size: float = 6
    body_size: float = 7
    body_font: str = NARROW
    x: float = 0.0
    edges: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.edges = [self.x]
        for column in self.columns:
            self.edges.append(self.edges[-1] + column.width)

    @property
    def width(self) -> float:
        return self.edges[-1] - self.edges[0]

    @property
    def header_height(self) -> float:
        return sum(self.level_heights) + (self.number_height if self.numbers else 0)

    @property
    def number_height(self) -> float:
        return self.header_size * LEADING + PAD

    def draw_header(self, sheet: Sheet, top: float) -> float:
        """The header and the column numbers; returns the top of the first row."""
        for cell in self.header:
            y = top + sum(self.level_heights[: cell.level])
            height = sum(self.level_heights[cell.level : cell.level + cell.levels])
            x = self.edges[cell.first]
            width = self.edges[cell.last + 1] - x
            sheet.box(
                x, y, width, height, cell.text, size=self.header_size, align="center", min_size=4
            )
        bottom = top + sum(self.level_heights)
        if self.numbers:
            for index, number in enumerate(self.numbers):
                x = self.edges[index]
                sheet.box(
                    x,
                    bottom,
                    self.edges[index + 1] - x,
                    self.number_height,
                    number,
                    size=self.header_size,
                    align="center",
                )
            bottom += self.number_height
        return bottom

    def row_height(self, cells: Sequence[str]) -> float:
        """How tall a row must be for its wrapped cells."""
        tallest = 1
        for column, text in zip(self.columns, cells, strict=True):
            lines = wrap(text, self.body_font, self.body_size, column.width - 2 * PAD)
            tallest = max(tallest, len(lines))
        return tallest * self.body_size * LEADING + PAD * 2

    def draw_row(
        self, sheet: Sheet, top: float, cells: Sequence[str], height: float, *, bold: bool = False
    ) -> float:
        font = NARROW_BOLD if bold else self.body_font
        for index, (column, text) in enumerate(zip(self.columns, cells, strict=True)):
            sheet.box(
                self.edges[index],
                top,
                column.width,
                height,
                text,
                size=self.body_size,
                font=font,
                align=column.align,
                valign="top",
            )
        return top + height

    def spans_height(self) -> float:
        return self.body_size * LEADING + PAD * 2

    def draw_spans(
        self, sheet: Sheet, top: float, spans: Sequence[Span], *, bold: bool = True
    ) -> float:
        height = self.spans_height()
        for span in spans:
            x = self.edges[span.first]
            sheet.box(
                x,
                top,
                self.edges[span.last + 1] - x,
                height,
                span.text,
                size=self.body_size,
                font=NARROW_BOLD if bold else self.body_font,
                align=span.align,
                border=span.border,
            )
        return top + height


def paginate(
    heights: Sequence[float], *, first: float, rest: float, last_extra: float
) -> list[range]:
    """Rows per page: ``first`` and ``rest`` are the room for rows on the first and later
    pages; the last page needs ``last_extra`` more for totals and signatures. The totals
    never stand alone: when they do not fit, the last row moves over with them."""
    pages: list[range] = []
    start, used, room = 0, 0.0, first
    for index, height in enumerate(heights):
        if used + height > room and index > start:
            pages.append(range(start, index))
            start, used, room = index, 0.0, rest
        used += height
    end = len(heights)
    if used + last_extra > room:
        if end - start > 1:
            pages.append(range(start, end - 1))
            start, used, room = end - 1, heights[-1], rest
        if used + last_extra > room:  # even one row and the totals do not fit
            pages.append(range(start, end))
            start = end
    pages.append(range(start, end))
    return pages


MM = mm
