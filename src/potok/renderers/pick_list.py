"""Лист подбора: a shipment's bins in walking order, with what to take from each.

Each row is a bin, a product and a lot: how many to take, how many are picked so far,
the serial numbers set aside for it, and an empty box to tick. Items without a bin come
last. The shipment's number is a Code 128 barcode, as the picker's scanner reads it.
"""

from __future__ import annotations

from potok.domain.documents.papers import PickRow, PickSheet
from potok.renderers.fonts import BOLD
from potok.renderers.formats import quantity, short_date
from potok.renderers.pdf import MM, Sheet
from potok.renderers.warehouse import LEFT, Table, draw_paper, signature_lines

NO_BIN = "без ячейки"
STATUSES = {
    "pending": "ждёт сборки",
    "picking": "собирается",
    "packed": "упаковано",
    "handed_over": "передано перевозчику",
    "in_transit": "в пути",
    "ready_for_pickup": "в пункте выдачи",
    "delivered": "доставлено",
    "failed_delivery": "не доставлено",
    "returning": "возвращается",
    "returned_to_sender": "возвращено",
    "cancelled": "отменено",
}


def pick_cells(number: int, row: PickRow) -> list[str]:
    name = row.name
    if row.serials:
        name += "\nс/н: " + ", ".join(row.serials)
    return [
        str(number),
        row.location or NO_BIN,
        row.zone,
        row.sku,
        name,
        row.lot or "",
        quantity(row.quantity),
        quantity(row.picked) if row.picked else "",
        "",
    ]


COLUMNS = [
    ("№", 8, "center"),
    ("Ячейка", 22, "left"),
    ("Зона", 12, "center"),
    ("Артикул", 26, "left"),
    ("Наименование", 66, "left"),
    ("Партия", 18, "left"),
    ("Взять", 12, "right"),
    ("Взято", 12, "right"),
    ("Отм.", 10, "center"),
]


def render_pick_list(sheet_data: PickSheet) -> bytes:
    """The pick list as PDF bytes."""
    rows = [pick_cells(i, row) for i, row in enumerate(sheet_data.rows, start=1)]
    particulars = [
        ("Заказ:", f"№ {sheet_data.order_id}" + _ref(sheet_data.order_ref)),
        ("Канал:", sheet_data.channel),
        ("Склад:", f"{sheet_data.warehouse.name} ({sheet_data.warehouse.address})".strip()),
        ("Передано на склад:", short_date(sheet_data.released_on)),
        ("Статус:", STATUSES.get(sheet_data.status, sheet_data.status)),
    ]
    if sheet_data.wave:
        particulars.insert(1, ("Волна:", sheet_data.wave))

    def footer(sheet: Sheet, top: float) -> float:
        picked = sum(row.picked for row in sheet_data.rows)
        sheet.text(
            LEFT,
            top,
            f"Всего: позиций {len(sheet_data.rows)}, единиц {quantity(sheet_data.units)}, "
            f"взято {quantity(picked)}",
            size=9,
            font=BOLD,
        )
        return signature_lines(sheet, top + 8 * MM, ["Подобрал", "Проверил"])

    return draw_paper(
        title=f"Лист подбора · отправление {sheet_data.shipment}",
        barcode=sheet_data.shipment,
        particulars=particulars,
        table=Table(COLUMNS, rows),
        footer=footer,
        footer_height=25 * MM,
        author=sheet_data.warehouse.name,
    )


def _ref(order_ref: str) -> str:
    return f" ({order_ref})" if order_ref else ""
