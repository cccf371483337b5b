"""Упаковочный лист: what is in the boxes of one shipment, for the recipient to check.

Portrait A4: sender and recipient, the order and the shipment (its number as a Code 128
barcode), the parcels with their weight and size, then every line with its units, price
(VAT included), sum and the parcels it lies in, each marked unit's identification code
(GTIN and serial of its Честный ЗНАК code, without the crypto tail) under its line, and
the totals with the sum in words.
"""

from __future__ import annotations

from potok.domain.documents.papers import PackingSlip, SlipLine
from potok.domain.documents.words import count_in_words, money_in_words
from potok.renderers.fonts import BOLD
from potok.renderers.formats import kilograms, money, quantity, short_date
from potok.renderers.pdf import MM, Sheet
from potok.renderers.upd_xml import identification_code
from potok.renderers.warehouse import LEFT, WIDTH, Table, draw_paper, signature_lines

COLUMNS = [
    ("№", 8, "center"),
    ("Артикул", 28, "left"),
    ("Наименование", 76, "left"),
    ("Кол-во, шт", 16, "right"),
    ("Цена, руб.", 20, "right"),
    ("Сумма, руб.", 22, "right"),
    ("Место", 16, "center"),
]


def slip_cells(line: SlipLine) -> list[str]:
    name = line.name
    if line.codes:
        name += "\nКоды маркировки: " + "; ".join(identification_code(c) for c in line.codes)
    if len(line.parcels) == 1:
        places = str(line.parcels[0][0])
    else:
        places = ", ".join(f"{no}: {units}" for no, units in line.parcels)
    return [
        str(line.no),
        line.sku,
        name,
        quantity(line.quantity),
        money(line.price),
        money(line.total),
        places,
    ]


def render_packing_slip(slip: PackingSlip) -> bytes:
    """The packing slip as PDF bytes."""
    parcels = "; ".join(
        f"№ {p.parcel_no}: {kilograms(p.weight_g) or '-'} кг, "
        f"{p.dimensions_mm[0]}×{p.dimensions_mm[1]}×{p.dimensions_mm[2]} мм"
        for p in slip.parcels
    )
    order = f"№ {slip.order_id}" + (f" ({slip.order_ref})" if slip.order_ref else "")
    particulars = [
        ("Отправитель:", _place(slip.sender.name, slip.sender.address, slip.sender.phone)),
        (
            "Получатель:",
            _place(slip.recipient.name, slip.recipient.address, slip.recipient.phone),
        ),
        ("Заказ:", f"{order} от {short_date(slip.order_on)}"),
        ("Склад отгрузки:", _place(slip.warehouse.name, slip.warehouse.address, "")),
        ("Упаковано:", short_date(slip.packed_on)),
        (f"Мест: {len(slip.parcels)}", parcels),
    ]

    def footer(sheet: Sheet, top: float) -> float:
        sheet.text(
            LEFT,
            top,
            f"Итого: наименований {len(slip.lines)}, единиц {quantity(slip.units)}, "
            f"на сумму {money(slip.total)} руб., мест {len(slip.parcels)}, "
            f"вес {kilograms(slip.weight_g) or '-'} кг",
            size=9,
            font=BOLD,
        )
        top = sheet.paragraph(
            LEFT,
            top + 6 * MM,
            WIDTH,
            f"Всего мест: {count_in_words(len(slip.parcels), 'n')}. "
            f"Сумма: {money_in_words(slip.total)}",
            size=8.5,
        )
        return signature_lines(sheet, top + 6 * MM, ["Упаковал", "Получил"])

    return draw_paper(
        title=f"Упаковочный лист · отправление {slip.shipment}",
        barcode=slip.shipment,
        particulars=particulars,
        table=Table(COLUMNS, [slip_cells(line) for line in slip.lines]),
        footer=footer,
        footer_height=32 * MM,
        author=slip.sender.name,
    )


def _place(name: str, address: str, phone: str) -> str:
    return ", ".join(part for part in (name, address, f"тел. {phone}" if phone else "") if part)
