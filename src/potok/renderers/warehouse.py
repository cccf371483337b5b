"""What the warehouse papers share: a title with the shipment's (or wave's) barcode, a
block of particulars, and a ruled table over as many portrait A4 pages as it takes, each
page saying which of how many it is and repeating the barcode, so that a loose page still
finds its shipment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from potok.renderers.barcodes import draw_code128
from potok.renderers.fonts import BOLD, REGULAR
from potok.renderers.pdf import MM, PORTRAIT, Column, Grid, HeaderCell, Sheet, paginate

LEFT = 12 * MM
WIDTH = 186 * MM
TOP = 10 * MM
BOTTOM = 285 * MM
BARCODE_WIDTH = 62 * MM
BARCODE_HEIGHT = 12 * MM


@dataclass(frozen=True, slots=True)
class Table:
    """Columns as (title, width in mm, alignment) and the rows' cells."""

    columns: Sequence[tuple[str, float, str]]
    rows: Sequence[Sequence[str]]
    bold_rows: frozenset[int] = frozenset()

    def grid(self) -> Grid:
        columns = [Column(width * MM, align) for _, width, align in self.columns]  # type: ignore[arg-type]
        header = [HeaderCell(i, i, title) for i, (title, _, _) in enumerate(self.columns)]
        return Grid(columns, header, [7 * MM], header_size=7, body_size=8, x=LEFT)


Footer = Callable[[Sheet, float], float]


def draw_paper(
    *,
    title: str,
    barcode: str,
    particulars: Sequence[tuple[str, str]],
    table: Table,
    footer: Footer,
    footer_height: float,
    author: str,
) -> bytes:
    """A paper: title and barcode, particulars, the table over pages, the footer at the end."""
    sheet = Sheet(pagesize=PORTRAIT, title=title, author=author, subject=title)
    grid = table.grid()
    heights = [grid.row_height(row) for row in table.rows]
    top = _head(sheet, title, barcode, None)
    for caption, value in particulars:
        sheet.text(LEFT, top, caption, size=8.5)
        top = max(
            sheet.paragraph(LEFT + 32 * MM, top, WIDTH - 32 * MM, value, size=8.5, font=BOLD),
            top + 8.5 * 1.15,
        )
        top += 1 * MM
    top += 2 * MM
    rest_top = TOP + BARCODE_HEIGHT + 4 * MM
    pages = paginate(
        heights or [0.0],
        first=BOTTOM - top - grid.header_height,
        rest=BOTTOM - rest_top - grid.header_height,
        last_extra=footer_height,
    )
    for number, page in enumerate(pages, start=1):
        if number > 1:
            sheet.next_page()
            top = _head(sheet, title, barcode, f"лист {number} из {len(pages)}")
        elif len(pages) > 1:
            sheet.text(LEFT + WIDTH, TOP - 5 * MM, f"лист 1 из {len(pages)}", size=7, align="right")
        top = grid.draw_header(sheet, top)
        for index in page:
            if index < len(table.rows):
                top = grid.draw_row(
                    sheet, top, table.rows[index], heights[index], bold=index in table.bold_rows
                )
    footer(sheet, top + 3 * MM)
    return sheet.finish()


def _head(sheet: Sheet, title: str, barcode: str, page: str | None) -> float:
    draw_code128(
        sheet,
        LEFT + WIDTH - BARCODE_WIDTH,
        TOP,
        barcode,
        height=BARCODE_HEIGHT,
        max_width=BARCODE_WIDTH,
    )
    sheet.text(LEFT + WIDTH, TOP + BARCODE_HEIGHT + 0.5 * MM, barcode, size=8, align="right")
    bottom = sheet.paragraph(LEFT, TOP, WIDTH - BARCODE_WIDTH - 4 * MM, title, size=14, font=BOLD)
    if page:
        sheet.text(LEFT, bottom + 1 * MM, page, size=8, font=REGULAR)
    return max(bottom, TOP + BARCODE_HEIGHT + 4 * MM) + 3 * MM


def signature_lines(sheet: Sheet, top: float, captions: Sequence[str]) -> float:
    """Signature places side by side: «Подобрал ____ / ____»."""
    width = WIDTH / len(captions)
    for index, caption in enumerate(captions):
        x = LEFT + index * width
        start = sheet.label(x, top, caption, size=8)
        sheet.field(start, top, 22 * MM, "", "подпись")
        sheet.field(start + 24 * MM, top, width - (start - x) - 28 * MM, "", "расшифровка")
    return top + 10 * MM
