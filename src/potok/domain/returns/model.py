"""The return aggregate (RMA): lines and units of a shipped order coming back, received at
any warehouse, inspected unit by unit, and the refund they are owed - every step kept (when,
who, from which status) and every change said as an event for the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.events import DomainEvent
from potok.domain.kernel import LotId, OrderId, ProductId, WarehouseId
from potok.domain.returns import events as ev
from potok.domain.returns.errors import ExchangeNotPossible, InspectionIncomplete, RefundNotDue
from potok.domain.returns.refunds import ZERO, PricedUnits, lines_amount, lines_vat
from potok.domain.returns.states import (
    REFUND,
    RETURN,
    Outcome,
    RefundStatus,
    ReturnSource,
    ReturnStatus,
)

MAX_LINES = 500
EXCHANGEABLE = frozenset({ReturnStatus.APPROVED, ReturnStatus.RECEIVED, ReturnStatus.INSPECTED})
"""A replacement may be sent once the return is approved, before the units arrive."""
MAX_NOTE = 500


@dataclass(slots=True)
class ReturnLine:
    """Units of one order line (of one lot) coming back, and what became of them."""

    line_no: int
    order_line_no: int
    product_id: ProductId
    sku: str
    quantity: int  # asked back
    unit_price: Decimal
    vat_rate: Decimal
    reason: str
    lot_id: LotId | None = None
    lot: str | None = None
    units: tuple[str, ...] = ()  # serial numbers or marking codes named for it
    note: str = ""
    received: int | None = None  # None until the return is received
    restocked: int = 0
    kept_unavailable: int = 0
    written_off: int = 0

    @property
    def counted(self) -> int:
        """The units the refund is for: what arrived once received, else what is expected."""
        return self.quantity if self.received is None else self.received

    @property
    def decided(self) -> int:
        return self.restocked + self.kept_unavailable + self.written_off

    @property
    def priced(self) -> PricedUnits:
        return PricedUnits(self.counted, self.unit_price, self.vat_rate)

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "line_no": self.line_no,
            "order_line_no": self.order_line_no,
            "sku": self.sku,
            "quantity": self.quantity,
            "reason": self.reason,
        }
        if self.lot is not None:
            data["lot"] = self.lot
        if self.units:
            data["units"] = list(self.units)
        return data


@dataclass(frozen=True, slots=True)
class ReturnStep:
    """One step of the return: when, who, what, and the status before and after."""

    occurred_at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ReturnChanges:
    """What changed since the return was loaded, for the repository to write."""

    steps: list[ReturnStep] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Decision:
    """Inspection's verdict on some units of one line."""

    line_no: int
    outcome: Outcome
    quantity: int
    note: str = ""


@dataclass(slots=True, eq=False)
class Return:
    """Units of one order on their way back, from the request to the refund."""

    id: int | None
    number: str
    order_id: OrderId
    channel: str
    currency: str
    source: ReturnSource
    status: ReturnStatus
    lines: list[ReturnLine]
    created_at: datetime
    updated_at: datetime
    created_by: str
    shipment_id: int | None = None  # the parcel that came back, for unclaimed ones
    warehouse_id: WarehouseId | None = None  # where it was received
    warehouse: str | None = None
    refund_shipping: Decimal = ZERO
    refund_status: RefundStatus = RefundStatus.NONE
    refund_paid_at: datetime | None = None
    received_at: datetime | None = None
    inspected_at: datetime | None = None
    closed_at: datetime | None = None
    comment: str = ""
    exchange_order_id: int | None = None  # the replacement order, for an exchange
    exchange_value: Decimal = ZERO  # what the replacement is worth, taken off the refund
    exchange_vat: Decimal = ZERO  # the VAT inside that worth, taken off the refund's VAT
    version: int = 1
    steps: list[ReturnStep] = field(default_factory=list)
    changes: ReturnChanges = field(default_factory=ReturnChanges)

    # ----------------------------------------------------------------- reading

    @property
    def lines_amount(self) -> Decimal:
        return lines_amount(line.priced for line in self.lines)

    @property
    def refund_amount(self) -> Decimal:
        """What the customer is owed: the lines (received, or expected before), and the
        delivery fee when the policy gave it back."""
        if self.status is ReturnStatus.DECLINED:
            return ZERO
        return max(ZERO, self.lines_amount + self.refund_shipping - self.exchange_value)

    @property
    def refund_vat(self) -> Decimal:
        """The VAT inside the lines' refund, line by line at each line's rate, less the VAT of
        a replacement sent instead; nothing when nothing is refunded."""
        if self.refund_amount == ZERO:
            return ZERO
        return max(ZERO, lines_vat(line.priced for line in self.lines) - self.exchange_vat)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    def line(self, line_no: int) -> ReturnLine:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise InvalidInput(
            [FieldError("line_no", f"return {self.number} has no line {line_no}", "unknown-line")]
        )

    # ----------------------------------------------------------------- recording

    def _step(
        self,
        at: datetime,
        actor: str,
        action: str,
        target: ReturnStatus | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> ReturnStatus:
        before = self.status
        if target is not None:
            self.status = RETURN.check(before, target)
        self.changes.steps.append(
            ReturnStep(at, actor, action, before.value, self.status.value, reason, details or {})
        )
        self.updated_at = at
        return before

    def _base(self, before: ReturnStatus | None) -> dict[str, Any]:
        return {
            "number": self.number,
            "order_id": self.order_id,
            "from_status": before.value if before is not None else None,
            "to_status": self.status.value,
        }

    def requested(self, at: datetime, actor: str, reason: str | None = None) -> None:
        """Say that the return was asked for (once it has its number)."""
        lines = [line.summary() for line in self.lines]
        self.changes.steps.append(
            ReturnStep(at, actor, "requested", None, self.status.value, reason, {"lines": lines})
        )
        self.changes.events.append(
            ev.ReturnRequested(
                occurred_at=at,
                **self._base(None),
                source=self.source.value,
                lines=lines,
                refund_amount=str(self.refund_amount),
                currency=self.currency,
            )
        )

    def approve(self, at: datetime, actor: str, note: str | None = None) -> None:
        """The customer may send the units back."""
        before = self._step(at, actor, "approved", ReturnStatus.APPROVED, note)
        self.changes.events.append(ev.ReturnApproved(occurred_at=at, **self._base(before)))

    def decline(self, at: datetime, actor: str, reason: str) -> None:
        """Nothing will be taken back; the units may be asked back again another time."""
        before = self._step(at, actor, "declined", ReturnStatus.DECLINED, reason)
        self.changes.events.append(
            ev.ReturnDeclined(occurred_at=at, **self._base(before), reason=reason)
        )

    def receive(
        self,
        warehouse_id: WarehouseId,
        warehouse: str,
        received: Mapping[int, int],
        at: datetime,
        actor: str,
        *,
        shipping: Decimal,
    ) -> None:
        """The units arrived at a warehouse (any one): ``received`` per line number (at most
        what was asked back); ``shipping`` is the delivery fee owed back with them."""
        RETURN.check(self.status, ReturnStatus.RECEIVED)
        errors = []
        for line_no, quantity in received.items():
            line = self.line(line_no)
            if not 0 <= quantity <= line.quantity:
                errors.append(
                    FieldError(
                        f"line_{line_no}.quantity",
                        f"{line.quantity} unit(s) of '{line.sku}' were asked back on line "
                        f"{line_no}, not {quantity}",
                        "out-of-range",
                    )
                )
        if errors:
            raise InvalidInput(errors)
        self.warehouse_id = warehouse_id
        self.warehouse = warehouse
        self.received_at = at
        for line in self.lines:
            line.received = received.get(line.line_no, line.quantity)
        if not any(line.received for line in self.lines):
            raise InvalidInput(
                [FieldError("lines", "nothing arrived: decline the return instead", "empty")]
            )
        self.refund_shipping = shipping
        lines = [{**line.summary(), "received": line.received} for line in self.lines]
        before = self._step(
            at, actor, "received", ReturnStatus.RECEIVED, details={"warehouse": warehouse}
        )
        self.changes.events.append(
            ev.ReturnReceived(
                occurred_at=at,
                **self._base(before),
                warehouse=warehouse,
                lines=lines,
                refund_amount=str(self.refund_amount),
                currency=self.currency,
            )
        )
        self._owe(at, actor)

    def inspect(self, decisions: list[Decision], at: datetime, actor: str) -> None:
        """Every received unit gets one verdict: restocked, kept unavailable, written off."""
        if self.status is not ReturnStatus.RECEIVED:
            RETURN.check(self.status, ReturnStatus.INSPECTED)
        decided: dict[int, dict[Outcome, int]] = {}
        for decision in decisions:
            line = self.line(decision.line_no)
            per = decided.setdefault(line.line_no, {})
            per[decision.outcome] = per.get(decision.outcome, 0) + decision.quantity
        for line in self.lines:
            per = decided.get(line.line_no, {})
            total = sum(per.values())
            if total != (line.received or 0):
                raise InspectionIncomplete(
                    number=self.number,
                    line_no=line.line_no,
                    sku=line.sku,
                    received=line.received or 0,
                    decided=total,
                )
        for line in self.lines:
            per = decided.get(line.line_no, {})
            line.restocked = per.get(Outcome.RESTOCK, 0)
            line.kept_unavailable = per.get(Outcome.UNAVAILABLE, 0)
            line.written_off = per.get(Outcome.WRITE_OFF, 0)
        self.inspected_at = at
        lines = [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "lot": line.lot,
                "restocked": line.restocked,
                "unavailable": line.kept_unavailable,
                "written_off": line.written_off,
            }
            for line in self.lines
        ]
        notes = [d.note for d in decisions if d.note]
        before = self._step(
            at,
            actor,
            "inspected",
            ReturnStatus.INSPECTED,
            "; ".join(notes)[:MAX_NOTE] or None,
            {"lines": lines},
        )
        self.changes.events.append(
            ev.ReturnInspected(occurred_at=at, **self._base(before), lines=lines)
        )

    def _why_not_exchangeable(self) -> str | None:
        if self.status not in EXCHANGEABLE:
            return "it is " + self.status.value
        if self.refund_status is RefundStatus.PAID:
            return "its refund was paid already"
        if self.exchange_order_id is not None:
            return f"order {self.exchange_order_id} replaces it already"
        return None

    @property
    def exchangeable(self) -> bool:
        """Whether a replacement may be sent now (see :meth:`ensure_exchangeable`)."""
        return self._why_not_exchangeable() is None

    def ensure_exchangeable(self) -> None:
        """A replacement may be sent for an approved, received or inspected return whose
        refund was not paid and that has none yet."""
        why = self._why_not_exchangeable()
        if why is not None:
            raise ExchangeNotPossible(number=self.number, status=self.status.value, why=why)

    def exchange(
        self, order_id: int, value: Decimal, vat: Decimal, at: datetime, actor: str
    ) -> None:
        """A replacement order takes the units' place (possibly before they arrive); what it
        is worth (``vat`` of it VAT) is no longer refunded."""
        self.ensure_exchangeable()
        self.exchange_order_id = order_id
        self.exchange_value = value
        self.exchange_vat = vat
        self._step(
            at,
            actor,
            "exchanged",
            reason=f"replaced by order {order_id}",
            details={"order_id": order_id, "value": str(value), "vat": str(vat)},
        )
        self.changes.events.append(
            ev.ReturnExchanged(
                occurred_at=at,
                **self._base(self.status),
                exchange_order_id=order_id,
                exchange_value=str(value),
                refund_amount=str(self.refund_amount),
                currency=self.currency,
            )
        )

    def close(self, at: datetime, actor: str, note: str | None = None) -> None:
        before = self._step(at, actor, "closed", ReturnStatus.CLOSED, note)
        self.closed_at = at
        self.changes.events.append(ev.ReturnClosed(occurred_at=at, **self._base(before)))

    # ----------------------------------------------------------------- refund

    def _owe(self, at: datetime, actor: str) -> None:
        """Once the units are back, their refund is owed (pending)."""
        self._refund(RefundStatus.PENDING, at, actor, None)

    def settle_refund(
        self, status: RefundStatus, at: datetime, actor: str, note: str | None
    ) -> None:
        """The channel or an operator says the refund was paid, or failed, or - a failed
        one - is owed again."""
        if self.refund_status is RefundStatus.NONE:
            raise RefundNotDue(
                number=self.number,
                status=self.status.value,
                why="a refund is owed once the units are received",
            )
        self._refund(status, at, actor, note)

    def _refund(self, status: RefundStatus, at: datetime, actor: str, note: str | None) -> None:
        before = self.refund_status
        self.refund_status = REFUND.check(before, status)
        if status is RefundStatus.PAID:
            self.refund_paid_at = at
        self._step(
            at,
            actor,
            f"refund_{status.value}",
            reason=note,
            details={"from_refund": before.value, "amount": str(self.refund_amount)},
        )
        self.changes.events.append(
            ev.ReturnRefundChanged(
                occurred_at=at,
                **self._base(self.status),
                refund_status=status.value,
                refund_amount=str(self.refund_amount),
                currency=self.currency,
            )
        )

    def take_changes(self) -> ReturnChanges:
        changes, self.changes = self.changes, ReturnChanges()
        return changes
