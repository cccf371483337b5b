"""Transfers between warehouses: requested, shipped (stock in transit), received, or cancelled.

A transfer takes stock out of one warehouse when it is shipped and puts it into another
when it arrives. What arrives may differ from what left (lost or damaged on the way, a
miscount): each such line keeps its discrepancy and the reason, and the destination
books what really arrived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from potok.domain.errors import InvalidInput, NotFound, Rejected
from potok.domain.events import DomainEvent
from potok.domain.inventory.model import check_quantity
from potok.domain.kernel import LotId, ProductId, WarehouseId
from potok.domain.machine import StateMachine
from potok.domain.validation import Problems

MAX_LINES = 500


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


TRANSFER = StateMachine[TransferStatus](
    "transfer",
    {
        TransferStatus.REQUESTED: frozenset({TransferStatus.SHIPPED, TransferStatus.CANCELLED}),
        TransferStatus.SHIPPED: frozenset({TransferStatus.RECEIVED}),
        TransferStatus.RECEIVED: frozenset(),
        TransferStatus.CANCELLED: frozenset(),
    },
)


class TransferNotFound(NotFound):
    code = "transfer-not-found"
    title = "No such transfer"
    template = "There is no transfer '{number}'."


class TransferShort(Rejected):
    """The source has not enough available stock for some lines; ``lines`` names them."""

    code = "transfer-short"
    title = "Not enough available stock to ship the transfer"
    template = "{warehouse} lacks available stock for: {summary}."


class SerialNotInTransit(Rejected):
    code = "serial-not-in-transit"
    title = "A serial number is not on its way here"
    template = "Serial numbers {serials} of '{sku}' are not on their way to '{warehouse}'."


# ---------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "transfer"
    number: str
    from_warehouse: str
    to_warehouse: str

    def aggregate_id(self) -> str:
        return self.number


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferRequested(TransferEvent):
    """A transfer was asked for; nothing has moved yet. ``order_id``: the customer order
    whose units it brings to the warehouse that ships it, when sourcing asked for it."""

    expected_on: date | None
    lines: list[dict[str, Any]]
    order_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferShipped(TransferEvent):
    """Stock left the source and is in transit; ``serials`` per line for serialised units."""

    lines: list[dict[str, Any]]
    serials: dict[str, list[str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferReceived(TransferEvent):
    """Stock arrived at the destination; ``discrepancies`` lists lines that differ from what
    was shipped."""

    lines: list[dict[str, Any]]
    discrepancies: list[dict[str, Any]]
    serials: dict[str, list[str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferCancelled(TransferEvent):
    """A requested transfer will not happen."""

    reason: str


# ---------------------------------------------------------------------- the aggregate


@dataclass(slots=True)
class TransferLine:
    line_no: int
    product_id: ProductId
    sku: str
    quantity: int  # requested
    lot_id: LotId | None = None
    lot: str | None = None
    shipped_quantity: int | None = None
    received_quantity: int | None = None
    discrepancy_reason: str | None = None

    @property
    def in_transit(self) -> int:
        """Units on the way: shipped and not yet received."""
        if self.shipped_quantity is None or self.received_quantity is not None:
            return 0
        return self.shipped_quantity

    @property
    def discrepancy(self) -> int:
        """Received minus shipped; negative when units went missing on the way."""
        if self.shipped_quantity is None or self.received_quantity is None:
            return 0
        return self.received_quantity - self.shipped_quantity

    def summary(self) -> dict[str, Any]:
        return {
            "line_no": self.line_no,
            "sku": self.sku,
            "lot": self.lot,
            "quantity": self.quantity,
            "shipped_quantity": self.shipped_quantity,
            "received_quantity": self.received_quantity,
        }


@dataclass(frozen=True, slots=True)
class Receipt:
    """What arrived on one line, and why it differs from what was shipped (when it does)."""

    quantity: int
    reason: str | None = None


@dataclass(slots=True)
class Transfer:
    """Stock on its way from one warehouse to another."""

    number: str
    from_warehouse_id: WarehouseId
    from_warehouse: str
    to_warehouse_id: WarehouseId
    to_warehouse: str
    status: TransferStatus
    lines: list[TransferLine]
    created_by: str
    created_at: datetime
    updated_at: datetime
    expected_on: date | None = None
    comment: str = ""
    shipped_at: datetime | None = None
    received_at: datetime | None = None
    id: int | None = None
    order_id: int | None = None  # the customer order whose units it brings to its hub
    events: list[DomainEvent] = field(default_factory=list)

    def _base(self) -> dict[str, str]:
        return {
            "number": self.number,
            "from_warehouse": self.from_warehouse,
            "to_warehouse": self.to_warehouse,
        }

    def requested(self, at: datetime) -> None:
        """Record that the transfer was asked for (once it has its number)."""
        self.events.append(
            TransferRequested(
                occurred_at=at,
                **self._base(),
                expected_on=self.expected_on,
                lines=[line.summary() for line in self.lines],
                order_id=self.order_id,
            )
        )

    def line(self, line_no: int) -> TransferLine | None:
        return next((line for line in self.lines if line.line_no == line_no), None)

    def _known_lines(self, problems: Problems, line_nos: list[int]) -> None:
        seen: set[int] = set()
        for index, line_no in enumerate(line_nos):
            if self.line(line_no) is None:
                problems.add(
                    f"lines[{index}].line_no", f"the transfer has no line {line_no}", "unknown-line"
                )
            elif line_no in seen:
                problems.add(f"lines[{index}].line_no", f"line {line_no} is repeated", "duplicate")
            seen.add(line_no)

    def plan_shipment(self, quantities: Mapping[int, int]) -> dict[int, int]:
        """Units to ship per line: what the caller says, else the requested quantity.

        Lines may ship fewer units than requested (also none), never more."""
        TRANSFER.check(self.status, TransferStatus.SHIPPED)
        problems = Problems()
        self._known_lines(problems, list(quantities))
        for index, (line_no, quantity) in enumerate(quantities.items()):
            line = self.line(line_no)
            if line is None:
                continue
            check_quantity(problems, f"lines[{index}].quantity", quantity, allow_zero=True)
            if quantity > line.quantity:
                problems.add(
                    f"lines[{index}].quantity",
                    f"line {line_no} asks for {line.quantity}; ship at most that",
                    "more-than-requested",
                )
        plan = {line.line_no: quantities.get(line.line_no, line.quantity) for line in self.lines}
        if not problems and not any(plan.values()):
            problems.add("lines", "ship at least one unit, or cancel the transfer", "nothing")
        if problems:
            raise InvalidInput(problems.errors)
        return plan

    def ship(
        self,
        quantities: Mapping[int, int],
        at: datetime,
        serials: Mapping[int, list[str]] | None = None,
    ) -> None:
        """The planned units left the source: they are in transit now."""
        self.status = TRANSFER.check(self.status, TransferStatus.SHIPPED)
        for line in self.lines:
            line.shipped_quantity = quantities[line.line_no]
        self.shipped_at = self.updated_at = at
        self.events.append(
            TransferShipped(
                occurred_at=at,
                **self._base(),
                lines=[line.summary() for line in self.lines],
                serials={str(n): list(v) for n, v in (serials or {}).items()},
            )
        )

    def plan_receipt(self, receipts: Mapping[int, Receipt]) -> dict[int, Receipt]:
        """What arrived per line: what the caller says, else what was shipped. A line that
        differs from its shipment needs a reason."""
        TRANSFER.check(self.status, TransferStatus.RECEIVED)
        problems = Problems()
        self._known_lines(problems, list(receipts))
        for index, (line_no, receipt) in enumerate(receipts.items()):
            line = self.line(line_no)
            if line is None:
                continue
            check_quantity(problems, f"lines[{index}].quantity", receipt.quantity, allow_zero=True)
            if receipt.quantity != (line.shipped_quantity or 0):
                reason = (receipt.reason or "").strip()
                if not reason:
                    problems.add(
                        f"lines[{index}].reason",
                        f"line {line_no} was shipped with {line.shipped_quantity or 0}; say why "
                        f"{receipt.quantity} arrived",
                        "reason-required",
                    )
                elif len(reason) > 500:
                    problems.add(f"lines[{index}].reason", "at most 500 characters", "too-long")
        if problems:
            raise InvalidInput(problems.errors)
        return {
            line.line_no: receipts.get(line.line_no, Receipt(line.shipped_quantity or 0))
            for line in self.lines
        }

    def receive(
        self,
        receipts: Mapping[int, Receipt],
        at: datetime,
        serials: Mapping[int, list[str]] | None = None,
    ) -> list[TransferLine]:
        """The goods arrived; returns the lines whose quantity differs from the shipment."""
        self.status = TRANSFER.check(self.status, TransferStatus.RECEIVED)
        for line in self.lines:
            receipt = receipts[line.line_no]
            line.received_quantity = receipt.quantity
            if receipt.quantity != (line.shipped_quantity or 0):
                line.discrepancy_reason = (receipt.reason or "").strip()
        self.received_at = self.updated_at = at
        differing = [line for line in self.lines if line.discrepancy]
        self.events.append(
            TransferReceived(
                occurred_at=at,
                **self._base(),
                lines=[line.summary() for line in self.lines],
                discrepancies=[
                    {
                        "line_no": line.line_no,
                        "sku": line.sku,
                        "shipped": line.shipped_quantity,
                        "received": line.received_quantity,
                        "difference": line.discrepancy,
                        "reason": line.discrepancy_reason,
                    }
                    for line in differing
                ],
                serials={str(n): list(v) for n, v in (serials or {}).items()},
            )
        )
        return differing

    def cancel(self, at: datetime, reason: str) -> None:
        """Call off a transfer that has not left yet."""
        self.status = TRANSFER.check(self.status, TransferStatus.CANCELLED)
        self.updated_at = at
        self.events.append(TransferCancelled(occurred_at=at, **self._base(), reason=reason))


def check_request(
    *,
    from_warehouse: str,
    to_warehouse: str,
    lines: list[tuple[str, int, str | None]],
    comment: str,
) -> None:
    """The shape of a transfer request: two different warehouses, some lines, whole units."""
    problems = Problems()
    if from_warehouse == to_warehouse:
        problems.add("to_warehouse", "must differ from from_warehouse", "same-warehouse")
    if not lines:
        problems.add("lines", "send at least one line", "required")
    elif len(lines) > MAX_LINES:
        problems.add("lines", f"at most {MAX_LINES} lines", "too-many")
    for index, (sku, quantity, _lot) in enumerate(lines):
        if not sku.strip():
            problems.add(f"lines[{index}].sku", "must not be empty", "required")
        check_quantity(problems, f"lines[{index}].quantity", quantity, allow_zero=False)
    problems.text("comment", comment, max_length=500, required=False)
    if problems:
        raise InvalidInput(problems.errors)


# ---------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class TransferLineRequest:
    sku: str
    quantity: int
    lot: str | None = None  # the lot number, for products kept by lot


@dataclass(frozen=True, slots=True)
class RequestTransfer:
    """Ask for stock to move from one warehouse to another."""

    from_warehouse: str
    to_warehouse: str
    lines: list[TransferLineRequest]
    expected_on: date | None = None
    comment: str = ""
