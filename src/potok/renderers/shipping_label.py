"""Транспортная этикетка: one page per parcel, on the label printers' own paper.

Two sizes: 100 x 150 mm (the 4 x 6 inch label of 100 mm printers) and 58 x 60 mm (58 mm
receipt-width printers). Both carry the carrier and its tariff, the tracking number as a
Code 128 barcode with its digits under it, «Место n из m» and the weight, the recipient
(large: it is what the courier reads), the sender, and the order and shipment numbers.
Text that would not fit is set smaller rather than cut.
"""

from __future__ import annotations

from collections.abc import Sequence

from potok.domain.documents.papers import LabelSize, Place, ShippingLabel
from potok.renderers.barcodes import draw_code128
from potok.renderers.fonts import BOLD, NARROW, NARROW_BOLD, REGULAR
from potok.renderers.formats import kilograms
from potok.renderers.pdf import MM, Sheet


def render_labels(labels: Sequence[ShippingLabel], size: LabelSize) -> bytes:
    """The labels, one per page, as PDF bytes."""
    width, height = size.millimetres
    first = labels[0]
    sheet = Sheet(
        pagesize=(width * MM, height * MM),
        title=f"Этикетка {first.carrier} {first.tracking_number}",
        author=first.sender.name,
        subject=f"Отправление {first.shipment}",
    )
    draw = _large if size is LabelSize.LARGE else _small
    for index, label in enumerate(labels):
        if index:
            sheet.next_page()
        draw(sheet, label)
    return sheet.finish()


def _party(name: str, place: Place) -> str:
    phone = f", тел. {place.phone}" if place.phone else ""
    return f"{name}: {place.name}{phone}\n{place.address}".rstrip()


def _large(sheet: Sheet, label: ShippingLabel) -> None:
    margin, inner = 4 * MM, 92 * MM
    top = margin
    sheet.text(margin, top, label.carrier.upper(), size=18, font=BOLD)
    sheet.text(margin + inner, top + 1 * MM, label.place, size=14, font=BOLD, align="right")
    top += 8 * MM
    if label.tariff:
        sheet.text(margin, top, f"Тариф: {label.tariff}", size=9)
    weight = kilograms(label.weight_g)
    if weight:
        sheet.text(margin + inner, top, f"Вес: {weight} кг", size=9, align="right")
    top += 5 * MM
    sheet.line(margin, top, margin + inner, top, width=1)
    top += 3 * MM
    barcode_width = draw_code128(
        sheet, margin, top, label.tracking_number, height=28 * MM, max_width=inner
    )
    sheet.text(
        margin + barcode_width / 2, top + 29 * MM, label.tracking_number, size=12, align="center"
    )
    top += 36 * MM
    sheet.line(margin, top, margin + inner, top, width=1)
    top += 2 * MM
    sheet.text(margin, top, "Получатель", size=8)
    sheet.box(
        margin,
        top + 4 * MM,
        inner,
        30 * MM,
        _recipient(label.recipient),
        size=13,
        font=BOLD,
        valign="top",
        border=False,
        min_size=7,
    )
    top += 36 * MM
    sheet.line(margin, top, margin + inner, top, width=0.5)
    top += 2 * MM
    sheet.box(
        margin,
        top,
        inner,
        16 * MM,
        _party("Отправитель", label.sender),
        size=9,
        font=REGULAR,
        valign="top",
        border=False,
    )
    top += 18 * MM
    sheet.line(margin, top, margin + inner, top, width=0.5)
    sheet.text(margin, top + 2 * MM, f"Заказ № {label.order_id}{_ref(label)}", size=10)
    sheet.text(
        margin + inner,
        top + 2 * MM,
        f"Отправление {label.shipment}",
        size=10,
        font=BOLD,
        align="right",
    )


def _small(sheet: Sheet, label: ShippingLabel) -> None:
    margin, inner = 2 * MM, 54 * MM
    top = 1.5 * MM
    sheet.text(margin, top, label.carrier.upper(), size=10, font=NARROW_BOLD)
    sheet.text(margin + inner, top, label.place, size=10, font=NARROW_BOLD, align="right")
    top += 4.5 * MM
    barcode_width = draw_code128(
        sheet, margin, top, label.tracking_number, height=13 * MM, max_width=inner
    )
    sheet.text(
        margin + barcode_width / 2, top + 13.5 * MM, label.tracking_number, size=8, align="center"
    )
    top += 17.5 * MM
    sheet.line(margin, top, margin + inner, top, width=0.7)
    sheet.box(
        margin,
        top + 0.5 * MM,
        inner,
        19 * MM,
        _recipient(label.recipient),
        size=7.5,
        font=NARROW_BOLD,
        valign="top",
        border=False,
        min_size=5,
    )
    top += 20 * MM
    sheet.line(margin, top, margin + inner, top, width=0.4)
    sheet.box(
        margin,
        top + 0.3 * MM,
        inner,
        9 * MM,
        _party("От", label.sender).replace("\n", ", "),
        size=6,
        font=NARROW,
        valign="top",
        border=False,
        min_size=4.5,
    )
    top += 9.5 * MM
    weight = kilograms(label.weight_g)
    sheet.text(
        margin,
        top,
        f"Заказ № {label.order_id}{_ref(label)} · {label.shipment}"
        + (f" · {weight} кг" if weight else ""),
        size=6.5,
        font=NARROW,
    )


def _recipient(place: Place) -> str:
    lines = [place.name]
    if place.phone:
        lines.append(f"тел. {place.phone}")
    if place.address:
        lines.append(place.address)
    return "\n".join(lines)


def _ref(label: ShippingLabel) -> str:
    return f" ({label.order_ref})" if label.order_ref else ""
