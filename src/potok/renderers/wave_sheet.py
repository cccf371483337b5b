"""Лист волны: one walk through the warehouse for many orders, then sorting onto the cart.

Every bin appears once, in walking order, with the units to take there summed over the
wave's shipments and, beside them, how many go into which slot of the cart («1×2, 3×1»:
two into slot 1, one into slot 3). The slots are listed with their orders and shipments
above the walk; the wave's number is a Code 128 barcode, as the scanner reads it.
"""

from __future__ import annotations

from potok.domain.documents.papers import PickRow, WaveSheet, WaveSlot
from potok.renderers.fonts import BOLD
from potok.renderers.formats import quantity, short_date
from potok.renderers.pdf import MM, Sheet
from potok.renderers.pick_list import NO_BIN, STATUSES
from potok.renderers.warehouse import LEFT, Table, draw_paper, signature_lines

COLUMNS = [
    ("№", 8, "center"),
    ("Ячейка", 22, "left"),
    ("Зона", 10, "center"),
    ("Артикул", 24, "left"),
    ("Наименование", 52, "left"),
    ("Партия", 16, "left"),
    ("Взять", 12, "right"),
    ("Раскладка: слот×шт", 32, "left"),
    ("Отм.", 10, "center"),
]
WAVE_STATUSES = {
    "open": "создана",
    "picking": "собирается",
    "done": "собрана",
    "cancelled": "отменена",
}


def wave_cells(number: int, row: PickRow) -> list[str]:
    name = row.name + ("\nс/н: " + ", ".join(row.serials) if row.serials else "")
    return [
        str(number),
        row.location or NO_BIN,
        row.zone,
        row.sku,
        name,
        row.lot or "",
        quantity(row.quantity),
        ", ".join(f"{slot}×{units}" for slot, units in row.sort),
        "",
    ]


def render_wave_sheet(wave: WaveSheet) -> bytes:
    """The wave sheet as PDF bytes."""
    slots = "; ".join(_slot(s) for s in wave.slots)
    particulars = [
        ("Склад:", f"{wave.warehouse.name} ({wave.warehouse.address})"),
        ("Создана:", f"{short_date(wave.created_on)}, {wave.created_by}"),
        ("Статус:", WAVE_STATUSES.get(wave.status, wave.status)),
        (f"Слотов: {len(wave.slots)}", slots),
    ]

    def footer(sheet: Sheet, top: float) -> float:
        sheet.text(
            LEFT,
            top,
            f"Всего: ячеек {len({row.location for row in wave.rows})}, позиций "
            f"{len(wave.rows)}, единиц {quantity(wave.units)}",
            size=9,
            font=BOLD,
        )
        return signature_lines(sheet, top + 8 * MM, ["Подобрал", "Разложил"])

    return draw_paper(
        title=f"Лист волны {wave.number}",
        barcode=wave.number,
        particulars=particulars,
        table=Table(COLUMNS, [wave_cells(i, row) for i, row in enumerate(wave.rows, start=1)]),
        footer=footer,
        footer_height=25 * MM,
        author=wave.warehouse.name,
    )


def _slot(slot: WaveSlot) -> str:
    """«2 - заказ 43 (43-1, 3 шт)», with the shipment's status once it has left picking."""
    state = "" if slot.status in ("pending", "picking") else ", " + STATUSES.get(slot.status, "")
    units = quantity(slot.units)
    return f"{slot.slot} - заказ {slot.order_id} ({slot.shipment}, {units} шт{state})"
