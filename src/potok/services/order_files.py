"""Orders from CSV and XLSX files: one row per order line, each new order taken through
intake exactly as ``POST /orders`` takes it, once per channel and external id.

The first row names the columns, in English or Russian, in any order:

- ``channel`` / ``канал``, ``sku`` / ``артикул``, ``quantity`` / ``количество`` (required)
- ``external_id`` / ``внешний номер``: the order's number in its channel; required for a
  new order, and what makes the file safe to send twice
- ``order_id`` / ``номер заказа``: an order Potok has (an export's rows carry it); such rows
  are left as they are
- ``line_no`` / ``номер строки``, ``unit_price`` / ``цена``, ``vat_rate`` / ``ставка ндс``
  (the catalogue's when empty)
- the order's own cells, on its first row (later rows may repeat them or leave them
  empty, never contradict them): ``currency``, ``delivery_method`` (courier or pickup),
  ``pickup_point``, ``city``, ``region``, ``postal_code``, ``address``, ``address_line2``,
  ``latitude``, ``longitude``, ``delivery_price``, ``delivery_vat_rate``, ``customer_name``,
  ``customer_phone``, ``customer_email``, ``payment_status``, ``priority``, ``promised_at``,
  ``comment``

Other columns are ignored, so an order export goes back in as it is.

A file is checked whole before any order is taken: a bad cell, an unknown channel,
product or pickup point, a row contradicting its order's first row refuse the file, and
nothing is taken. Then each new order is taken in its own transaction (an order is what
intake takes at once; a file of thousands must not hold the stock rows of every order
until its last), so an import cut short is finished by sending the same file again:
orders taken before are recognised by channel and external id and taken nothing twice. An
order intake refuses on its own merits (a channel that refuses backorders and has no
stock) is reported as refused, the others are taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO

from potok.domain.catalogue import Product
from potok.domain.channels import Channel
from potok.domain.errors import FieldError, InvalidInput, PotokError
from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.network import Warehouse
from potok.domain.orders import Address, DeliveryMethod, PaymentStatus
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.services.file_imports import (
    Cells,
    FileRejected,
    Progress,
    RowProblem,
    Rows,
    parse_moment,
    read_rows,
)
from potok.services.unit_of_work import UnitOfWork
from potok.spreadsheets import Column, FileFormat, write_table
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
)
COLUMNS = LINE_COLUMNS + HEAD_COLUMNS
HEAD_NAMES = tuple(c.name for c in HEAD_COLUMNS)
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


class Outcome(StrEnum):
    TAKEN = "taken"  # a new order, taken now
    EXISTING = "existing"  # Potok had it already: nothing taken
    REFUSED = "refused"  # intake refused it (the problem says why); nothing taken
    WOULD_TAKE = "would_take"  # a dry run: it would be taken


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """What became of one order of the file (``row``: its first row)."""

    row: int
    channel: str
    external_id: str | None
    outcome: Outcome
    order_id: int | None = None
    status: str | None = None
    problem: str = ""


@dataclass(slots=True)
class OrderImport:
    """What an orders file did (or, in a dry run, would do)."""

    rows: int
    dry_run: bool
    outcomes: list[OrderOutcome] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.outcome is outcome)


@dataclass(slots=True)
class FileOrder:
    """An order of the file: its rows, and the request intake gets for it."""

    key: OrderKey
    channel: str
    external_id: str | None
    first_row: int
    head: Head | None
    lines: list[tuple[int, int | None, LineRequest]] = field(default_factory=list)

    @property
    def line_rows(self) -> list[int]:
        return [row for row, _, _ in self._sorted()]

    def _sorted(self) -> list[tuple[int, int | None, LineRequest]]:
        # lines numbered in the file go in their numbers' order, the others after them
        return sorted(self.lines, key=lambda x: (x[1] is None, x[1] or 0, x[0]))

    def command(self) -> PlaceOrder:
        assert self.head is not None
        head = self.head
        return PlaceOrder(
            channel=self.channel,
            lines=[line for _, _, line in self._sorted()],
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


@dataclass(slots=True)
class Plan:
    """A checked file: the orders to take and those Potok has (by id), in file order."""

    rows: int
    new: list[FileOrder]
    existing: list[OrderOutcome]


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
        quantity = cells.whole("quantity", maximum=MAX_QUANTITY)
        if quantity == 0:
            cells.bad("quantity", "must be at least 1")
        unit_price = _optional_decimal(cells, "unit_price")
        vat_rate = _optional_decimal(cells, "vat_rate")
        if order_id is not None:
            key: OrderKey = ("id", order_id)
        elif external_id is not None:
            key = (channel, external_id)
        else:
            return None
        texts = tuple(cells.text(name) for name in HEAD_NAMES)
        head = None
        first = firsts.get(key)
        if first is None:
            firsts[key] = (cells.record.number, texts)
            head = _head(cells)
        else:
            for name, given, expected in zip(HEAD_NAMES, texts, first[1], strict=True):
                if given and given != expected:
                    cells.bad(
                        name,
                        f"row {first[0]} gives this order '{expected}'; the rows of one "
                        "order must agree (or leave the cell empty)",
                    )
        if cells.problems or quantity is None or not quantity:
            return None
        return OrderRow(
            cells.record.number,
            key,
            channel,
            external_id,
            line_no,
            LineRequest(sku, quantity, unit_price, vat_rate),
            head,
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
                row.key, row.channel, row.external_id, number, row.head
            )
        order.lines.append((number, row.line_no, row.line))
    return list(orders.values())


# ---------------------------------------------------------------------- checking

FIELD_COLUMNS = {
    "channel": "channel",
    "currency": "currency",
    "external_id": "external_id",
    "customer.name": "customer_name",
    "customer.phone": "customer_phone",
    "customer.email": "customer_email",
    "comment": "comment",
    "priority": "priority",
    "promised_at": "promised_at",
    "payment_status": "payment_status",
    "delivery.price": "delivery_price",
    "delivery.vat_rate": "delivery_vat_rate",
    "delivery.address": "address",
    "delivery.address.city": "city",
    "delivery.address.line1": "address",
    "delivery.address.line2": "address_line2",
    "delivery.address.region": "region",
    "delivery.address.postal_code": "postal_code",
    "delivery.address.latitude": "latitude",
    "delivery.address.longitude": "longitude",
    "delivery.pickup_point": "pickup_point",
    "ship_from": None,
    "lines": None,
}


def problems_of(errors: Iterable[FieldError], order: FileOrder) -> list[RowProblem]:
    """Intake's field errors (``lines[2].sku``, ``delivery.address.city``) as problems of
    the file's rows and columns."""
    line_rows = order.line_rows
    lines = [line for _, _, line in order._sorted()]
    found = []
    for error in errors:
        head, _, rest = error.field.partition(".")
        if head.startswith("lines[") and head.endswith("]"):
            index = int(head[6:-1])
            row = line_rows[index] if index < len(line_rows) else order.first_row
            column = rest.split("[")[0] or None
            value = ""
            if index < len(lines) and column in ("sku", "quantity", "unit_price", "vat_rate"):
                shown = getattr(lines[index], column)
                value = "" if shown is None else str(shown)
            found.append(RowProblem(row, column, error.message, value))
            continue
        column = FIELD_COLUMNS.get(error.field, error.field.replace(".", "_"))
        value = order.channel if column == "channel" else ""
        if column == "pickup_point" and order.head is not None:
            value = order.head.delivery.pickup_point or ""
        found.append(RowProblem(order.first_row, column, error.message, value))
    return found


def plan_orders(uow: UnitOfWork, rows: Rows[OrderRow]) -> Plan:
    """Check every order of a file against what Potok has, as intake would, before any is
    taken; raises :class:`FileRejected` naming every bad row and column."""
    problems = list(rows.problems)
    orders = group(rows)
    new = [o for o in orders if o.key[0] != "id"]
    known = [o for o in orders if o.key[0] == "id"]
    existing: list[OrderOutcome] = []
    taking: list[FileOrder] = []
    with uow.read():
        channels: dict[str, Channel | None] = {
            code: uow.channels.get_by_code(code) for code in sorted({o.channel for o in orders})
        }
        found_ids: dict[tuple[str, str], int] = {}
        for code, channel in channels.items():
            if channel is None:
                continue
            wanted = [o.external_id for o in new if o.channel == code and o.external_id]
            for external_id, order_id in uow.orders.ids_by_external(channel.id, wanted).items():
                found_ids[(code, external_id)] = order_id
        statuses = _known(
            uow,
            [int(o.key[1]) for o in known] + list(found_ids.values()),
        )
        for order in known:
            had = statuses.get(int(order.key[1]))
            if had is None:
                problems.append(
                    RowProblem(
                        order.first_row,
                        "order_id",
                        f"there is no order {order.key[1]}; leave order_id empty for a new order",
                        str(order.key[1]),
                    )
                )
            elif had.channel != order.channel:
                problems.append(
                    RowProblem(
                        order.first_row,
                        "channel",
                        f"order {order.key[1]} is of channel '{had.channel}'",
                        order.channel,
                    )
                )
            else:
                existing.append(_existing(order, had))
        points: dict[str, Warehouse | None] = {}
        for start in range(0, len(new), READ_CHUNK):
            chunk = new[start : start + READ_CHUNK]
            products = uow.products.get_many(
                sorted({line.sku for o in chunk for _, _, line in o.lines})
            )
            for order in chunk:
                had_id = found_ids.get((order.channel, order.external_id or ""))
                if had_id is not None and had_id in statuses:
                    existing.append(_existing(order, statuses[had_id]))
                    continue
                found = _check(uow, order, channels.get(order.channel), products, points)
                problems.extend(found)
                if not found:
                    taking.append(order)
    if problems:
        raise FileRejected(problems, rows=rows.count)
    return Plan(rows.count, taking, existing)


@dataclass(frozen=True, slots=True)
class Known:
    """An order Potok has, as far as a report needs it."""

    order_id: int
    channel: str
    external_id: str | None
    status: str


def _known(uow: UnitOfWork, order_ids: Sequence[int]) -> dict[int, Known]:
    """The orders with these ids, a chunk at a time (a whole order is not kept)."""
    found: dict[int, Known] = {}
    wanted = sorted(set(order_ids))
    for start in range(0, len(wanted), READ_CHUNK):
        for order in uow.orders.get_many(wanted[start : start + READ_CHUNK]):
            assert order.id is not None
            found[order.id] = Known(
                order.id, order.channel_code, order.external_id, order.status.value
            )
    return found


def _existing(order: FileOrder, had: Known) -> OrderOutcome:
    return OrderOutcome(
        order.first_row,
        order.channel,
        had.external_id,
        Outcome.EXISTING,
        had.order_id,
        had.status,
    )


def _check(
    uow: UnitOfWork,
    order: FileOrder,
    channel: Channel | None,
    products: dict[str, Product],
    points: dict[str, Warehouse | None],
) -> list[RowProblem]:
    """What intake would refuse in the order's request (read-only)."""
    from potok.services.intake import directory_point, validate_request

    command = order.command()
    code = command.delivery.pickup_point
    point = None
    if command.delivery.method is DeliveryMethod.PICKUP and code:
        if code not in points:
            points[code] = uow.warehouses.get_by_code(code) or directory_point(uow, code)
        point = points[code]
    if channel is not None and not channel.active:
        return [
            RowProblem(
                order.first_row,
                "channel",
                f"channel '{channel.code}' is deactivated and takes no orders",
                channel.code,
            )
        ]
    wanted = {line.sku: products[line.sku] for line in command.lines if line.sku in products}
    try:
        validate_request(command, channel, wanted, point)
    except InvalidInput as error:
        return problems_of(error.errors, order)
    return []


# ---------------------------------------------------------------------- taking


def take_orders(
    uow: UnitOfWork,
    plan: Plan,
    actor: Actor,
    *,
    dry_run: bool = False,
    clock: Clock = utc_now,
    progress: Progress | None = None,
) -> OrderImport:
    """Take each new order of a checked file through intake, one transaction each (none in
    a dry run); an order taken meanwhile (a racing import of the same file) is existing."""
    from potok.services.intake import Placement, place_order

    done = OrderImport(plan.rows, dry_run)
    outcomes: list[OrderOutcome] = list(plan.existing)
    for count, order in enumerate(plan.new, start=1):
        if dry_run:
            outcomes.append(
                OrderOutcome(order.first_row, order.channel, order.external_id, Outcome.WOULD_TAKE)
            )
            continue
        try:
            placed = place_order(uow, order.command(), actor, clock=clock)
        except InvalidInput as error:
            problem = "; ".join(str(p) for p in problems_of(error.errors, order))
            outcomes.append(_refused(order, problem))
        except PotokError as error:
            outcomes.append(_refused(order, error.detail))
        else:
            assert isinstance(placed, Placement)
            outcomes.append(
                OrderOutcome(
                    order.first_row,
                    order.channel,
                    order.external_id,
                    Outcome.TAKEN if placed.created else Outcome.EXISTING,
                    placed.order.id,
                    placed.order.status.value,
                )
            )
        if progress is not None and count % 100 == 0:
            progress(count)
    if progress is not None:
        progress(len(plan.new))
    done.outcomes = sorted(outcomes, key=lambda o: o.row)
    return done


def _refused(order: FileOrder, problem: str) -> OrderOutcome:
    return OrderOutcome(
        order.first_row, order.channel, order.external_id, Outcome.REFUSED, problem=problem
    )


def import_orders(
    uow: UnitOfWork,
    source: IO[bytes],
    fmt: FileFormat,
    actor: Actor,
    *,
    dry_run: bool = False,
    clock: Clock = utc_now,
) -> OrderImport:
    """Read, check and take a file of orders (see the module's description)."""
    from potok.services.file_imports import open_table

    rows = read_orders(open_table(source, fmt, COLUMNS))
    return take_orders(uow, plan_orders(uow, rows), actor, dry_run=dry_run, clock=clock)


# ---------------------------------------------------------------------- the report

REPORT_HEADER = ("row", "channel", "external_id", "outcome", "order_id", "status", "problem")


def report_rows(outcomes: Iterable[OrderOutcome]) -> Iterator[tuple[object, ...]]:
    for o in outcomes:
        yield o.row, o.channel, o.external_id, o.outcome.value, o.order_id, o.status, o.problem


def write_outcomes(out: IO[bytes], fmt: FileFormat, done: OrderImport) -> int:
    """What became of each order, a row each, in the file's own format."""
    return write_table(
        out,
        fmt,
        REPORT_HEADER,
        report_rows(done.outcomes),  # type: ignore[arg-type]
        title="Orders imported" if not done.dry_run else "Orders to import",
    )
