"""Orders files checked whole, then taken: new orders through intake, changed lines of
orders Potok has through the order-edit use case, one transaction per order.

What the file may say and how it is read is in :mod:`potok.services.order_files`. Here:

- **checking** (read-only, before anything changes): every new order's request is checked
  as intake checks it (channel, products, pickup point, address, phone, money); every
  order Potok has is found (by ``order_id``, or by channel and external id) and its rows
  are matched to its lines - by ``line_no``, else by SKU - to know what would change. Any
  problem and the file is refused whole (:class:`FileRejected`), nothing changed.
- **taking**: each new order is taken by ``place_order`` (as ``POST /orders`` takes it); an
  order Potok has whose lines or own cells (delivery, customer, payment: see
  :mod:`potok.services.order_file_changes`) the file changes is edited by ``edit_order`` under the
  version the file was made at (an export's ``version`` column) or read at checking, so a
  change made meanwhile is never overwritten. An order intake or the edit refuses on its own
  merits (no stock for a channel that takes no backorders; picking started) is reported
  ``refused``; the others go ahead. The same file twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import IO

from potok.domain.catalogue import Product
from potok.domain.channels import Channel
from potok.domain.errors import FieldError, InvalidInput, PotokError
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.network import Warehouse
from potok.domain.orders import DeliveryMethod
from potok.services.file_imports import FileRejected, Progress, RowProblem, Rows, open_table
from potok.services.order_edits import EditOrder, LineChange
from potok.services.order_file_changes import HeadChanges, KnownHead, head_changes
from potok.services.order_files import (
    COLUMNS,
    READ_CHUNK,
    FileOrder,
    OrderRow,
    group,
    read_orders,
)
from potok.services.unit_of_work import UnitOfWork
from potok.spreadsheets import FileFormat, write_table
from potok.spreadsheets.writing import Value

KIND = "orders"


class Outcome(StrEnum):
    TAKEN = "taken"  # a new order, taken now
    CHANGED = "changed"  # an order Potok has, its lines changed as the file says
    EXISTING = "existing"  # Potok has it as the file says: nothing changed
    REFUSED = "refused"  # intake or the edit refused it (the problem says why)
    WOULD_TAKE = "would_take"  # a dry run: it would be taken
    WOULD_CHANGE = "would_change"  # a dry run: its lines would change


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


@dataclass(frozen=True, slots=True)
class KnownLine:
    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal


@dataclass(frozen=True, slots=True)
class Known:
    """An order Potok has, as far as matching a file's rows needs it."""

    order_id: int
    channel: str
    external_id: str | None
    status: str
    version: int
    lines: tuple[KnownLine, ...]
    head: KnownHead | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    """An order Potok has that the file changes: its lines' changes (each with its row) and
    its own cells' (delivery, customer, payment)."""

    order: FileOrder
    known: Known
    changes: tuple[LineChange, ...]
    rows: tuple[int, ...]
    version: int
    head: HeadChanges = field(default_factory=HeadChanges)


@dataclass(slots=True)
class Plan:
    """A checked file: the orders to take, to edit, and those that stay as they are."""

    rows: int
    new: list[FileOrder]
    edits: list[Edit]
    unchanged: list[OrderOutcome]


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
LINE_FIELDS = ("sku", "quantity", "unit_price", "vat_rate", "line_no")


def problems_of(
    errors: Iterable[FieldError], order: FileOrder, lines: Sequence[tuple[int, object]]
) -> list[RowProblem]:
    """A use case's field errors (``lines[2].sku``, ``delivery.address.city``) as problems
    of the file's rows and columns; ``lines`` are the request's lines with their rows."""
    found = []
    for error in errors:
        head, _, rest = error.field.partition(".")
        if head.startswith("lines[") and head.endswith("]"):
            index = int(head[6:-1])
            row = lines[index][0] if index < len(lines) else order.first_row
            column = rest.split("[")[0] or None
            value = ""
            if index < len(lines) and column in LINE_FIELDS:
                shown = getattr(lines[index][1], column, None)
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
    """Check every order of a file against what Potok has, before anything changes;
    raises :class:`FileRejected` naming every bad row and column."""
    problems = list(rows.problems)
    orders = group(rows)
    plan = Plan(rows.count, [], [], [])
    with uow.read():
        channels: dict[str, Channel | None] = {
            code: uow.channels.get_by_code(code) for code in sorted({o.channel for o in orders})
        }
        found_ids: dict[tuple[str, str], int] = {}
        for code, channel in channels.items():
            wanted = [o.external_id for o in orders if o.channel == code and o.external_id]
            if channel is not None and wanted:
                for external_id, order_id in uow.orders.ids_by_external(channel.id, wanted).items():
                    found_ids[(code, external_id)] = order_id
        known = _known(
            uow, [int(o.key[1]) for o in orders if o.key[0] == "id"] + list(found_ids.values())
        )
        points: dict[str, Warehouse | None] = {}
        for start in range(0, len(orders), READ_CHUNK):
            chunk = orders[start : start + READ_CHUNK]
            products = uow.products.get_many(
                sorted({line.sku for o in chunk if o.key[0] != "id" for _, _, line in o.lines})
            )
            for order in chunk:
                if order.key[0] == "id":
                    had = known.get(int(order.key[1]))
                    problems.extend(_of_known(order, had))
                else:
                    found_id = found_ids.get((order.channel, order.external_id or ""))
                    had = known.get(found_id) if found_id is not None else None
                    if had is None:
                        found = _check(uow, order, channels.get(order.channel), products, points)
                        problems.extend(found)
                        if not found:
                            plan.new.append(order)
                        continue
                if had is not None and had.channel == order.channel:
                    problems.extend(_match(order, had, plan))
    if problems:
        raise FileRejected(problems, rows=rows.count)
    return plan


def _of_known(order: FileOrder, had: Known | None) -> list[RowProblem]:
    """What is wrong with rows that name an order by its ``order_id``."""
    if had is None:
        return [
            RowProblem(
                order.first_row,
                "order_id",
                f"there is no order {order.key[1]}; leave order_id empty for a new order",
                str(order.key[1]),
            )
        ]
    if had.channel != order.channel:
        return [
            RowProblem(
                order.first_row,
                "channel",
                f"order {had.order_id} is of channel '{had.channel}'",
                order.channel,
            )
        ]
    if order.external_id is not None and order.external_id != had.external_id:
        return [
            RowProblem(
                order.first_row,
                "external_id",
                f"order {had.order_id} has the external id '{had.external_id or ''}'",
                order.external_id,
            )
        ]
    return []


def _match(order: FileOrder, had: Known, plan: Plan) -> list[RowProblem]:
    """The file's rows of an order Potok has, matched to its lines: a row with a
    ``line_no`` is that line, one without is the order's (next) line of its SKU, or a
    new line. Only quantities change, and lines are added; prices and SKUs of lines the
    order has stay (a row saying otherwise is a problem)."""
    problems: list[RowProblem] = []
    by_no = {line.line_no: line for line in had.lines}
    free = list(had.lines)
    matched: list[tuple[int, KnownLine | None, int, Decimal | None, str]] = []
    numbered = [x for x in order.lines if x[1] is not None]
    for row, line_no, line in numbered + [x for x in order.lines if x[1] is None]:
        target: KnownLine | None
        if line_no is not None:
            target = by_no.get(line_no)
            if target is None and line.quantity == 0:
                continue  # a line taken off before: nothing to do
            if target is None:
                problems.append(
                    RowProblem(
                        row,
                        "line_no",
                        f"order {had.order_id} has no line {line_no}; leave line_no empty "
                        "to add a line",
                        str(line_no),
                    )
                )
                continue
            if target.sku != line.sku:
                problems.append(
                    RowProblem(
                        row,
                        "sku",
                        f"line {line_no} of order {had.order_id} is {target.sku}; set its "
                        "quantity to 0 and add a row for another SKU",
                        line.sku,
                    )
                )
                continue
        else:
            target = next((x for x in free if x.sku == line.sku), None)
        if target is not None:
            free.remove(target)
            for name, given, kept in (
                ("unit_price", line.unit_price, target.unit_price),
                ("vat_rate", line.vat_rate, target.vat_rate),
            ):
                if given is not None and given != kept:
                    problems.append(
                        RowProblem(
                            row,
                            name,
                            f"line {target.line_no} of order {had.order_id} keeps its "
                            f"{name} {kept}; leave the cell as it is",
                            str(given),
                        )
                    )
        elif line.vat_rate is not None:
            problems.append(
                RowProblem(
                    row,
                    "vat_rate",
                    "a line added to an order takes its product's VAT rate; leave it empty",
                    str(line.vat_rate),
                )
            )
        elif line.quantity == 0:
            continue  # no such line to take off (taken off before): nothing to do
        matched.append((row, target, line.quantity, line.unit_price, line.sku))
    changes: list[LineChange] = []
    rows: list[int] = []
    for row, target, quantity, unit_price, sku in matched:
        if target is None:
            changes.append(LineChange(quantity, sku=sku, unit_price=unit_price))
            rows.append(row)
        elif target.quantity != quantity:
            changes.append(LineChange(quantity, line_no=target.line_no))
            rows.append(row)
    unchanged = OrderOutcome(
        order.first_row,
        order.channel,
        had.external_id,
        Outcome.EXISTING,
        had.order_id,
        had.status,
    )
    head = head_changes(order, had.order_id, had.head) if had.head else HeadChanges()
    problems.extend(head.problems)
    if problems:
        return problems
    if not changes and not head.any:
        plan.unchanged.append(unchanged)
        return []
    if order.version is not None and order.version != had.version:
        return [
            RowProblem(
                order.first_row,
                "version",
                f"order {had.order_id} has changed since the file was made (version "
                f"{order.version}, now {had.version}); export it again and redo the change",
                str(order.version),
            )
        ]
    plan.edits.append(Edit(order, had, tuple(changes), tuple(rows), had.version, head))
    return []


def _known(uow: UnitOfWork, order_ids: Sequence[int]) -> dict[int, Known]:
    """The orders with these ids, a chunk at a time (no whole order is kept)."""
    found: dict[int, Known] = {}
    wanted = sorted(set(order_ids))
    for start in range(0, len(wanted), READ_CHUNK):
        for order in uow.orders.get_many(wanted[start : start + READ_CHUNK]):
            assert order.id is not None
            found[order.id] = Known(
                order.id,
                order.channel_code,
                order.external_id,
                order.status.value,
                order.version,
                tuple(
                    KnownLine(ln.line_no, ln.sku, ln.quantity, ln.unit_price, ln.vat_rate)
                    for ln in order.lines
                ),
                KnownHead(
                    order.status,
                    order.currency,
                    order.delivery,
                    order.contact,
                    order.payment_status,
                    order.priority,
                    order.promised_at,
                    order.comment,
                ),
            )
    return found


def _check(
    uow: UnitOfWork,
    order: FileOrder,
    channel: Channel | None,
    products: dict[str, Product],
    points: dict[str, Warehouse | None],
) -> list[RowProblem]:
    """What intake would refuse in a new order's request (read-only)."""
    from potok.services.intake import directory_point, validate_request

    command = order.command()
    code = command.delivery.pickup_point
    point = None
    if command.delivery.method is DeliveryMethod.PICKUP and code:
        if code not in points:
            points[code] = uow.warehouses.get_by_code(code) or directory_point(uow, code)
        point = points[code]
    if channel is not None and not channel.active:
        message = f"channel '{channel.code}' is deactivated and takes no orders"
        return [RowProblem(order.first_row, "channel", message, channel.code)]
    wanted = {line.sku: products[line.sku] for line in command.lines if line.sku in products}
    try:
        validate_request(command, channel, wanted, point)
    except InvalidInput as error:
        lines = [(row, line) for row, _, line in order.sorted_lines()]
        return problems_of(error.errors, order, lines)
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
    """Take each new order of a checked file through intake and edit each changed one,
    one transaction each (nothing in a dry run); an order taken meanwhile (by a racing
    import of the same file) is existing."""
    done = OrderImport(plan.rows, dry_run)
    outcomes: list[OrderOutcome] = list(plan.unchanged)
    count = 0
    for order in plan.new:
        outcomes.append(_take(uow, order, actor, dry_run=dry_run, clock=clock))
        count += 1
        if progress is not None and count % 100 == 0:
            progress(count)
    for edit in plan.edits:
        outcomes.append(_edit(uow, edit, actor, dry_run=dry_run, clock=clock))
        count += 1
        if progress is not None and count % 100 == 0:
            progress(count)
    if progress is not None:
        progress(count)
    done.outcomes = sorted(outcomes, key=lambda o: o.row)
    return done


def _take(
    uow: UnitOfWork, order: FileOrder, actor: Actor, *, dry_run: bool, clock: Clock
) -> OrderOutcome:
    from potok.services.intake import Placement, place_order

    if dry_run:
        return _outcome(order, Outcome.WOULD_TAKE)
    try:
        placed = place_order(uow, order.command(), actor, clock=clock)
    except InvalidInput as error:
        lines = [(row, line) for row, _, line in order.sorted_lines()]
        problem = "; ".join(str(p) for p in problems_of(error.errors, order, lines))
        return _outcome(order, Outcome.REFUSED, problem=problem)
    except PotokError as error:
        return _outcome(order, Outcome.REFUSED, problem=error.detail)
    assert isinstance(placed, Placement)
    return _outcome(
        order,
        Outcome.TAKEN if placed.created else Outcome.EXISTING,
        placed.order.id,
        placed.order.status.value,
    )


def _edit(
    uow: UnitOfWork, edit: Edit, actor: Actor, *, dry_run: bool, clock: Clock
) -> OrderOutcome:
    from potok.services.order_edits import edit_order

    known = edit.known
    if dry_run:
        return _outcome(edit.order, Outcome.WOULD_CHANGE, known.order_id, known.status)
    command = EditOrder(
        known.order_id,
        edit.version,
        edit.changes,
        delivery=edit.head.delivery,
        reason="changed by file",
        contact=edit.head.contact,
        payment_status=edit.head.payment_status,
    )
    try:
        view = edit_order(uow, command, actor, clock=clock)
    except InvalidInput as error:
        lines = list(zip(edit.rows, edit.changes, strict=True))
        problem = "; ".join(str(p) for p in problems_of(error.errors, edit.order, lines))
        return _outcome(edit.order, Outcome.REFUSED, known.order_id, known.status, problem)
    except PotokError as error:
        return _outcome(edit.order, Outcome.REFUSED, known.order_id, known.status, error.detail)
    return _outcome(edit.order, Outcome.CHANGED, known.order_id, view.order.status.value)


def _outcome(
    order: FileOrder,
    outcome: Outcome,
    order_id: int | None = None,
    status: str | None = None,
    problem: str = "",
) -> OrderOutcome:
    return OrderOutcome(
        order.first_row, order.channel, order.external_id, outcome, order_id, status, problem
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
    """Read, check and apply a file of orders (see the module's description)."""
    rows = read_orders(open_table(source, fmt, COLUMNS))
    return take_orders(uow, plan_orders(uow, rows), actor, dry_run=dry_run, clock=clock)


# ---------------------------------------------------------------------- the report

REPORT_HEADER = ("row", "channel", "external_id", "outcome", "order_id", "status", "problem")


def report_rows(outcomes: Iterable[OrderOutcome]) -> Iterator[tuple[Value, ...]]:
    for o in outcomes:
        yield o.row, o.channel, o.external_id, o.outcome.value, o.order_id, o.status, o.problem


def write_outcomes(out: IO[bytes], fmt: FileFormat, done: OrderImport) -> int:
    """What became of each order, a row each, in the file's own format."""
    title = "Orders to import" if done.dry_run else "Orders imported"
    return write_table(out, fmt, REPORT_HEADER, report_rows(done.outcomes), title=title)
