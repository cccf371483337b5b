"""Purchase orders: stock a supplier is to deliver to a warehouse, received in one or more
deliveries. What is ordered and not yet received is incoming stock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from potok.domain.errors import Conflict, InvalidInput, NotFound
from potok.domain.events import DomainEvent
from potok.domain.inventory.model import check_quantity
from potok.domain.inventory.transfers import MAX_LINES
from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.machine import StateMachine
from potok.domain.validation import Problems


class PurchaseOrderStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


PURCHASE_ORDER = StateMachine[PurchaseOrderStatus](
    "purchase order",
    {
        PurchaseOrderStatus.OPEN: frozenset(
            {
                PurchaseOrderStatus.PARTIALLY_RECEIVED,
                PurchaseOrderStatus.RECEIVED,
                PurchaseOrderStatus.CANCELLED,
            }
        ),
        PurchaseOrderStatus.PARTIALLY_RECEIVED: frozenset(
            {
                PurchaseOrderStatus.PARTIALLY_RECEIVED,
                PurchaseOrderStatus.RECEIVED,
                PurchaseOrderStatus.CANCELLED,  # the rest will not come
            }
        ),
        PurchaseOrderStatus.RECEIVED: frozenset(),
        PurchaseOrderStatus.CANCELLED: frozenset(),
    },
)


class PurchaseOrderNotFound(NotFound):
    code = "purchase-order-not-found"
    title = "No such purchase order"
    template = "There is no purchase order '{number}'."


class PurchaseOrderNumberTaken(Conflict):
    code = "purchase-order-number-taken"
    title = "This purchase order number is taken"
    template = "There is already a purchase order '{number}'."


# ---------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseOrderEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "purchase_order"
    number: str
    supplier: str
    warehouse: str

    @classmethod
    def event_type(cls) -> str:
        """``PurchaseOrderReceived`` becomes ``purchase_order.received``."""
        words = re.findall(r"[A-Z][a-z0-9]*", cls.__name__)[2:]
        return "purchase_order." + "_".join(w.lower() for w in words)

    def aggregate_id(self) -> str:
        return self.number


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseOrderCreated(PurchaseOrderEvent):
    expected_on: date | None
    lines: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseOrderReceived(PurchaseOrderEvent):
    """A delivery arrived; ``status`` says whether anything is still outstanding."""

    status: str
    received: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchaseOrderCancelled(PurchaseOrderEvent):
    reason: str


# ---------------------------------------------------------------------- the aggregate


@dataclass(slots=True)
class PurchaseOrderLine:
    line_no: int
    product_id: ProductId
    sku: str
    quantity: int
    received_quantity: int = 0

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.received_quantity)

    def summary(self) -> dict[str, Any]:
        return {
            "line_no": self.line_no,
            "sku": self.sku,
            "quantity": self.quantity,
            "received_quantity": self.received_quantity,
        }


@dataclass(slots=True)
class PurchaseOrder:
    """Stock ordered from a supplier for one warehouse."""

    number: str
    supplier: str
    warehouse_id: WarehouseId
    warehouse: str
    status: PurchaseOrderStatus
    lines: list[PurchaseOrderLine]
    created_by: str
    created_at: datetime
    updated_at: datetime
    expected_on: date | None = None
    id: int | None = None
    events: list[DomainEvent] = field(default_factory=list)

    def _base(self) -> dict[str, str]:
        return {"number": self.number, "supplier": self.supplier, "warehouse": self.warehouse}

    def created(self, at: datetime) -> None:
        self.events.append(
            PurchaseOrderCreated(
                occurred_at=at,
                **self._base(),
                expected_on=self.expected_on,
                lines=[line.summary() for line in self.lines],
            )
        )

    def line(self, line_no: int) -> PurchaseOrderLine | None:
        return next((line for line in self.lines if line.line_no == line_no), None)

    def check_receipt(self, quantities: Mapping[int, int], *, allow_over: bool) -> None:
        """Refuse unknown lines, empty deliveries, and more than ordered unless allowed."""
        PURCHASE_ORDER.check(self.status, PurchaseOrderStatus.RECEIVED)
        problems = Problems()
        if not quantities:
            problems.add("lines", "send at least one line", "required")
        for index, (line_no, quantity) in enumerate(quantities.items()):
            line = self.line(line_no)
            if line is None:
                problems.add(
                    f"lines[{index}].line_no",
                    f"the purchase order has no line {line_no}",
                    "unknown-line",
                )
                continue
            check_quantity(problems, f"lines[{index}].quantity", quantity, allow_zero=False)
            if quantity > line.outstanding and not allow_over:
                problems.add(
                    f"lines[{index}].quantity",
                    f"line {line_no} ({line.sku}) has {line.outstanding} outstanding; "
                    "send allow_over_receipt to take more",
                    "over-receipt",
                )
        if problems:
            raise InvalidInput(problems.errors)

    def receive(self, quantities: Mapping[int, int], at: datetime) -> None:
        """A delivery arrived: the lines grow; the order is received once nothing is left."""
        for line_no, quantity in quantities.items():
            line = self.line(line_no)
            assert line is not None
            line.received_quantity += quantity
        done = all(line.outstanding == 0 for line in self.lines)
        self.status = PURCHASE_ORDER.check(
            self.status,
            PurchaseOrderStatus.RECEIVED if done else PurchaseOrderStatus.PARTIALLY_RECEIVED,
        )
        self.updated_at = at
        self.events.append(
            PurchaseOrderReceived(
                occurred_at=at,
                **self._base(),
                status=self.status.value,
                received=[
                    {"line_no": n, "sku": self.line(n).sku, "quantity": q}  # type: ignore[union-attr]
                    for n, q in quantities.items()
                ],
            )
        )

    def cancel(self, at: datetime, reason: str) -> None:
        """Nothing more will come; what is outstanding stops being incoming."""
        self.status = PURCHASE_ORDER.check(self.status, PurchaseOrderStatus.CANCELLED)
        self.updated_at = at
        self.events.append(PurchaseOrderCancelled(occurred_at=at, **self._base(), reason=reason))


def check_order(*, number: str | None, supplier: str, lines: list[tuple[str, int]]) -> None:
    problems = Problems()
    if number is not None:
        problems.code("number", number)
    problems.text("supplier", supplier, max_length=255)
    if not lines:
        problems.add("lines", "send at least one line", "required")
    elif len(lines) > MAX_LINES:
        problems.add("lines", f"at most {MAX_LINES} lines", "too-many")
    for index, (sku, quantity) in enumerate(lines):
        if not sku.strip():
            problems.add(f"lines[{index}].sku", "must not be empty", "required")
        check_quantity(problems, f"lines[{index}].quantity", quantity, allow_zero=False)
    if problems:
        raise InvalidInput(problems.errors)


# ---------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class PurchaseLineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CreatePurchaseOrder:
    """Stock ordered from a supplier; ``number`` is the buyer's own, else Potok numbers it."""

    supplier: str
    warehouse: str
    lines: list[PurchaseLineRequest]
    number: str | None = None
    expected_on: date | None = None
