"""Code 128 barcodes drawn with ReportLab, sized in whole printer dots.

A thermal label printer prints 203 dots per inch; a bar a fraction of a dot wide comes
out uneven and scanners misread it. Bars here are therefore 1-4 dots wide (0.125 mm
each), the widest that fits the room, and the barcode keeps its quiet zones.
"""

from __future__ import annotations

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm

from potok.renderers.pdf import Sheet

DOT = 25.4 / 203 * mm  # one dot of a 203 dpi printer, in points
MAX_DOTS = 4


def code128(value: str, *, height: float, max_width: float) -> Code128:
    """The widest Code 128 of ``value`` (bars of whole dots) that fits ``max_width``."""
    for dots in range(MAX_DOTS, 0, -1):
        barcode = Code128(
            value, barWidth=dots * DOT, barHeight=height, humanReadable=False, quiet=True
        )
        if barcode.width <= max_width:
            return barcode
    return barcode  # one-dot bars: the narrowest there is


def draw_code128(
    sheet: Sheet, x: float, top: float, value: str, *, height: float, max_width: float
) -> float:
    """Draw the barcode with its top-left corner at (x, top); returns its width."""
    barcode = code128(value, height=height, max_width=max_width)
    barcode.drawOn(sheet.canvas, x, sheet.height - top - height)
    return float(barcode.width)
