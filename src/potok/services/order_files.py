"""Orders in CSV and XLSX files, read: one row per order line, grouped into orders by
channel and external id (or by ``order_id``, an order Potok has); what is done with them
is :mod:`potok.services.order_imports`.

The first row names the columns, in English or Russian, in any order:

- ``channel`` / ``канал``, ``sku`` / ``артикул``, ``quantity`` / ``количество`` (required)
- ``external_id`` / ``внешний номер``: the order's number in its channel; required for a
  new order, and what makes the file safe to send twice
- ``order_id`` / ``номер заказа``: an order Potok has (an export's rows carry it), with
  ``version`` / ``версия``, the order's version the file was made at
- ``line_no`` / ``номер строки``, ``unit_price`` / ``цена``, ``vat_rate`` / ``ставка ндс``
  (the catalogue's when empty)
- a new order's own cells, on its first row (later rows may repeat them or leave them
  empty, never contradict them): ``currency``, ``delivery_method`` (courier or pickup),
  ``pickup_point``, ``city``, ``region``, ``postal_code``, ``address``, ``address_line2``,
  ``latitude``, ``longitude``, ``delivery_price``, ``delivery_vat_rate``, ``customer_name``,
  ``customer_phone``, ``customer_email``, ``payment_status``, ``priority``, ``promised_at``,
  ``comment``

Other columns are ignored, so an order export goes back in as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.orders import Address, DeliveryMethod, PaymentStatus
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.services.file_imports import (
    Cells,
    Progress,
    Rows,
    parse_moment,
    read_rows,
)
from potok.spreadsheets import Column
from potok.spreadsheets.reading import Table

KIND = "orders"
LINE_COLUMNS = (
    Column("order_id", ("номер заказа", "заказ", "id заказа")),
    Column("channel", ("канал", "канал продаж"), required=True),
    Column("external_id", ("внешний номер", "номер во внешней системе", "внешний id")),
    Column("line_no", ("номер строки", "строка", "№ строки")),
    Column("sku", ("артикул",), required=True),
    Column("quantity", ("количество", "кол-во"), required=True),
    Column("unit_price", ("цена", "цена за единицу")),
    Column("vat_rate", ("ставка ндс", "ндс")),
)
HEAD_COLUMNS = (
    Column("currency", ("валюта",)),
    Column("delivery_method", ("способ доставки", "доставка")),
    Column("pickup_point", ("пункт выдачи", "пвз")),
    Column("city", ("город",)),
    Column("region", ("регион", "область")),
    Column("postal_code", ("индекс", "почтовый индекс")),
    Column("address", ("адрес", "улица и дом")),
    Column("address_line2", ("адрес 2", "квартира, подъезд")),
    Column("latitude", ("широта",)),
    Column("longitude", ("долгота",)),
    Column("delivery_price", ("стоимость доставки", "цена доставки")),
    Column("delivery_vat_rate", ("ставка ндс доставки", "ндс доставки")),
    Column("customer_name", ("покупатель", "фио", "имя покупателя")),
    Column("customer_phone", ("телефон", "телефон покупателя")),
    Column("customer_email", ("email", "e-mail", "электронная почта", "почта")),
    Column("payment_status", ("оплата", "статус оплаты")),
    Column("priority", ("приоритет",)),
    Column("promised_at", ("обещано к", "обещанная дата")),
    Column("comment", ("комментарий",)),
    Column("version", ("версия",)),
)
COLUMNS = LINE_COLUMNS + HEAD_COLUMNS
COMPARED = ("channel", "external_id", *(c.name for c in HEAD_COLUMNS))
ORDER_CELLS = tuple(c.name for c in HEAD_COLUMNS if c.name != "version")
"""The order's own cells (not its lines')."""
"""The cells every row of one order must give alike (or leave empty)."""
METHODS = {
    "courier": DeliveryMethod.COURIER,
    "курьер": DeliveryMethod.COURIER,
    "курьером": DeliveryMethod.COURIER,
    "pickup": DeliveryMethod.PICKUP,
    "самовывоз": DeliveryMethod.PICKUP,
    "пункт выдачи": DeliveryMethod.PICKUP,
    "пвз": DeliveryMethod.PICKUP,
}
PAYMENTS = {
    "": PaymentStatus.PENDING,
    "pending": PaymentStatus.PENDING,
    "ожидает оплаты": PaymentStatus.PENDING,
    "не оплачен": PaymentStatus.PENDING,
    "authorized": PaymentStatus.AUTHORIZED,
    "авторизован": PaymentStatus.AUTHORIZED,
    "paid": PaymentStatus.PAID,
    "оплачен": PaymentStatus.PAID,
    "not_required": PaymentStatus.NOT_REQUIRED,
    "не требуется": PaymentStatus.NOT_REQUIRED,
}
READ_CHUNK = 500
"""Orders checked per read transaction."""

OrderKey = tuple[str, str | int]
"""``("id", order_id)`` for an order Potok has, ``(channel, external_id)`` for the file's."""


@dataclass(frozen=True, slots=True)
class Head:
    """What a file says of a whole order (read from its first row)."""

    currency: str | None
    delivery: DeliveryRequest
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    payment_status: PaymentStatus
    priority: int
    promised_at: datetime | None
    comment: str


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One row: the order it belongs to, the line it asks for, and (on the order's first
    row only) the order's own cells."""

    number: int
    key: OrderKey
    channel: str
    external_id: str | None
    line_no: int | None
    line: LineRequest
    head: Head | None
    version: int | None = None  # the order's version the file was made at (first row)
    given: tuple[tuple[str, str], ...] = ()  # the first row's filled order cells


@dataclass(slots=True)
class FileOrder:
    """An order of the file: its rows, and the request intake gets for it."""

    key: OrderKey
    channel: str
    external_id: str | None
    first_row: int
    head: Head | None
    version: int | None = None
    lines: list[tuple[int, int | None, LineRequest]] = field(default_factory=list)
    given: tuple[tuple[str, str], ...] = ()
    """The order's own cells its first row fills (of the columns the file has): what an
    order Potok has is compared with."""

    def sorted_lines(self) -> list[tuple[int, int | None, LineRequest]]:
        """``(row, line_no, line)`` in the order's order."""
        # lines numbered in the file go in their numbers' order, the others after them
        return sorted(self.lines, key=lambda x: (x[1] is None, x[1] or 0, x[0]))

    def command(self) -> PlaceOrder:
        assert self.head is not None
        head = self.head
        return PlaceOrder(
            channel=self.channel,
            lines=[line for _, _, line in self.sorted_lines()],
            delivery=head.delivery,
            currency=head.currency,
            external_id=self.external_id,
            customer_name=head.customer_name,
            customer_phone=head.customer_phone,
            customer_email=head.customer_email,
            priority=head.priority,
            promised_at=head.promised_at,
            payment_status=head.payment_status,
            comment=head.comment,
        )


# ---------------------------------------------------------------------- reading


def _optional_decimal(cells: Cells, name: str) -> Decimal | None:
    return cells.decimal(name) if cells.text(name) else None


def _coordinate(cells: Cells, name: str) -> float | None:
    text = cells.text(name).replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        cells.bad(name, f"'{cells.text(name)}' is not a number (degrees, e.g. 55.7602)")
        return None


def _head(cells: Cells) -> Head:
    """The order's own cells of its first row (problems recorded in ``cells``)."""
    currency = cells.text("currency").upper() or None
    pickup_point = cells.text("pickup_point") or None
    method_text = cells.text("delivery_method").lower()
    if method_text:
        method = METHODS.get(method_text)
        if method is None:
            cells.bad("delivery_method", "must be courier or pickup (курьер, самовывоз)")
            method = DeliveryMethod.COURIER
    else:
        method = DeliveryMethod.PICKUP if pickup_point else DeliveryMethod.COURIER
    latitude = _coordinate(cells, "latitude")
    longitude = _coordinate(cells, "longitude")
    city, line1 = cells.text("city"), cells.text("address")
    address = None
    if method is DeliveryMethod.COURIER and (city or line1):
        address = Address(
            city=city,
            line1=line1,
            line2=cells.text("address_line2"),
            region=cells.text("region"),
            postal_code=cells.text("postal_code"),
            latitude=latitude,
            longitude=longitude,
        )
    delivery = DeliveryRequest(
        method,
        address=address,
        pickup_point=pickup_point if method is DeliveryMethod.PICKUP else None,
        price=_optional_decimal(cells, "delivery_price") or Decimal("0.00"),
        vat_rate=_optional_decimal(cells, "delivery_vat_rate") or Decimal("0"),
    )
    payment = PAYMENTS.get(cells.text("payment_status").lower())
    if payment is None:
        cells.bad(
            "payment_status",
            "must be pending, authorized, paid or not_required "
            "(ожидает оплаты, авторизован, оплачен, не требуется)",
        )
        payment = PaymentStatus.PENDING
    priority = 0
    if cells.text("priority"):
        priority = cells.whole("priority", maximum=9) or 0
    promised_at = None
    if cells.text("promised_at"):
        promised_at = parse_moment(cells.text("promised_at"))
        if promised_at is None:
            cells.bad("promised_at", "write it as YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM")
    return Head(
        currency=currency,
        delivery=delivery,
        customer_name=cells.text("customer_name"),
        customer_phone=cells.text("customer_phone") or None,
        customer_email=cells.text("customer_email") or None,
        payment_status=payment,
        priority=priority,
        promised_at=promised_at,
        comment=cells.text("comment"),
    )


def row_parser() -> Callable[[Cells], OrderRow | None]:
    """A parser of a file's rows in turn: the first row of each order gives the order's
    own cells, a later row may repeat them or leave them empty, never contradict them."""
    firsts: dict[OrderKey, tuple[int, tuple[str, ...]]] = {}

    def parse(cells: Cells) -> OrderRow | None:
        channel = cells.required("channel")
        order_text = cells.text("order_id")
        order_id = None
        if order_text:
            order_id = cells.whole("order_id", maximum=2**63 - 1)
        external_id = cells.text("external_id") or None
        if not order_text and external_id is None:
            cells.bad("external_id", "a new order needs its number in its channel")
        line_no = None
        if cells.text("line_no"):
            line_no = cells.whole("line_no", maximum=10_000)
        sku = cells.required("sku")
        quantity = cells.whole("quantity", maximum=MAX_QUANTITY)  # 0 takes a line off
        unit_price = _optional_decimal(cells, "unit_price")
        vat_rate = _optional_decimal(cells, "vat_rate")
        if order_id is not None:
            key: OrderKey = ("id", order_id)
        elif external_id is not None:
            key = (channel, external_id)
        else:
            return None
        texts = tuple(cells.text(name) for name in COMPARED)
        head, version = None, None
        filled: tuple[tuple[str, str], ...] = ()
        first = firsts.get(key)
        if first is None:
            firsts[key] = (cells.record.number, texts)
            filled = tuple(
                (name, cells.text(name))
                for name in ORDER_CELLS
                if cells.has(name) and cells.text(name)
            )
            if order_id is None:  # an order Potok has is compared cell by cell instead
                head = _head(cells)
            if cells.text("version"):
                version = cells.whole("version", maximum=2**31 - 1)
        else:
            for name, given, expected in zip(COMPARED, texts, first[1], strict=True):
                if given and given != expected:
                    cells.bad(
                        name,
                        f"row {first[0]} gives this order '{expected}'; the rows of one "
                        "order must agree (or leave the cell empty)",
                    )
        if cells.problems or quantity is None:
            return None
        return OrderRow(
            cells.record.number,
            key,
            channel,
            external_id,
            line_no,
            LineRequest(sku, quantity, unit_price, vat_rate),
            head,
            version,
            filled,
        )

    return parse


def _line_key(row: OrderRow) -> object:
    return (row.key, row.line_no) if row.line_no is not None else (row.key, "row", row.number)


def read_orders(table: Table, *, progress: Progress | None = None) -> Rows[OrderRow]:
    """The order lines a table lists, and the problems of its bad rows."""
    return read_rows(table, COLUMNS, row_parser(), _line_key, progress=progress)


def group(rows: Rows[OrderRow]) -> list[FileOrder]:
    """The file's orders, in the order their first rows come."""
    orders: dict[OrderKey, FileOrder] = {}
    for number, row in rows.good:
        order = orders.get(row.key)
        if order is None:
            order = orders[row.key] = FileOrder(
                row.key,
                row.channel,
                row.external_id,
                number,
                row.head,
                row.version,
                given=row.given,
            )
        order.lines.append((number, row.line_no, row.line))
    return list(orders.values())
