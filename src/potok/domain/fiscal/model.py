"""The fiscal receipt (54-ФЗ): what is printed for one sale, settlement, refund or
correction of an order, where it stands with the cash-register provider, and the fiscal
attributes the provider reports once the register has printed it. Money is Decimal to the
kopeck here; kopecks and the provider's codes belong to the connector."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from potok.domain.fiscal import events as ev
from potok.domain.fiscal.states import (
    RECEIPT,
    Operation,
    PaymentMethodTag,
    PaymentObject,
    PaymentType,
    ReceiptKind,
    ReceiptState,
    Taxation,
    Vat,
)
from potok.domain.kernel import round_money

ZERO = Decimal("0.00")
MAX_REASON = 500
MAX_LINES = 100  # a register prints at most this many positions on one receipt


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """The seller sells for someone else (a commission agent on a marketplace, say): the
    agent's type and the supplier the money belongs to (tags 1222, 1224, 1226)."""

    type: str  # commission_agent, attorney, paying_agent, another, …
    supplier_inn: str
    supplier_name: str = ""
    supplier_phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One position of the receipt: goods or the delivery, at its price, VAT, payment
    method and object, with the marking code of a marked unit (one unit a line then)."""

    name: str
    price: Decimal
    quantity: int
    vat: Vat
    payment_method: PaymentMethodTag
    payment_object: PaymentObject
    sku: str | None = None
    order_line_no: int | None = None  # None: the delivery
    mark_kind: str | None = None  # the kind of marking code (gs1m, ean13, short, …)
    mark_code: str | None = None
    agent: AgentInfo | None = None
    shipment_id: int | None = None  # goods settled in full: the shipment that took them

    @property
    def amount(self) -> Decimal:
        return round_money(self.price * self.quantity)

    @property
    def vat_amount(self) -> Decimal:
        """The VAT inside the line's amount, at its rate (none at 0 % and «без НДС»)."""
        rate = VAT_PERCENT.get(self.vat)
        if not rate:
            return ZERO
        return round_money(self.amount * rate / (Decimal(100) + rate))

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "price": str(self.price),
            "quantity": self.quantity,
            "amount": str(self.amount),
            "vat": self.vat.value,
            "vat_amount": str(self.vat_amount),
            "payment_method": self.payment_method.value,
            "payment_object": self.payment_object.value,
            "sku": self.sku,
            "order_line_no": self.order_line_no,
        }
        if self.shipment_id is not None:
            data["shipment_id"] = self.shipment_id
        if self.mark_code is not None:
            data["mark_kind"] = self.mark_kind
            data["mark_code"] = self.mark_code
        if self.agent is not None:
            data["agent"] = {
                "type": self.agent.type,
                "supplier_inn": self.agent.supplier_inn,
                "supplier_name": self.agent.supplier_name,
                "supplier_phones": list(self.agent.supplier_phones),
            }
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ReceiptLine:
        agent = data.get("agent")
        return cls(
            name=data["name"],
            price=Decimal(data["price"]),
            quantity=int(data["quantity"]),
            vat=Vat(data["vat"]),
            payment_method=PaymentMethodTag(data["payment_method"]),
            payment_object=PaymentObject(data["payment_object"]),
            sku=data.get("sku"),
            order_line_no=data.get("order_line_no"),
            mark_kind=data.get("mark_kind"),
            mark_code=data.get("mark_code"),
            shipment_id=data.get("shipment_id"),
            agent=None
            if agent is None
            else AgentInfo(
                type=agent["type"],
                supplier_inn=agent["supplier_inn"],
                supplier_name=agent.get("supplier_name", ""),
                supplier_phones=tuple(agent.get("supplier_phones", ())),
            ),
        )


VAT_PERCENT = {
    Vat.VAT22: Decimal(22),
    Vat.VAT20: Decimal(20),
    Vat.VAT10: Decimal(10),
    Vat.VAT0: Decimal(0),
    Vat.NONE: None,
}


def vat_of(rate_percent: Decimal | None) -> Vat:
    """The receipt's VAT for an order line's rate; None (the seller pays no VAT): «без НДС»."""
    if rate_percent is None:
        return Vat.NONE
    for vat, percent in VAT_PERCENT.items():
        if percent is not None and percent == rate_percent:
            return vat
    raise ValueError(f"no receipt VAT for a rate of {rate_percent} %")


@dataclass(frozen=True, slots=True)
class Company:
    """The seller as the receipt names it, from the fiscal settings of its legal entity."""

    legal_entity: str  # the legal entity's code in Potok
    account: str  # the provider account (cash-register group) that prints for it
    inn: str
    taxation: Taxation
    payment_address: str  # the shop's site for a distance sale
    email: str  # the sender's e-mail the customer's copy comes from


@dataclass(frozen=True, slots=True)
class FiscalAttributes:
    """What the provider reports of a printed receipt: ФН, ФД, ФПД, time, the register."""

    fn_number: str  # the fiscal drive's number (ФН)
    fiscal_document_number: int  # ФД
    fiscal_document_attribute: int  # ФПД, the fiscal sign
    fiscal_receipt_number: int
    shift_number: int
    registered_at: datetime  # when the register printed it, UTC
    register_number: str  # the register's registration number (РН ККТ)
    total: Decimal
    ofd_receipt_url: str | None = None


@dataclass(slots=True, eq=False)
class Receipt:
    """One fiscal receipt of one order, from queued to done (or failed, or skipped)."""

    id: int | None
    order_id: int
    kind: ReceiptKind
    operation: Operation
    basis: str  # what it is printed for, unique: "payment:order:12", "refund:return:RT-1"
    state: ReceiptState
    channel: str
    currency: str
    payment_type: PaymentType
    lines: tuple[ReceiptLine, ...]
    created_at: datetime
    updated_at: datetime
    company: Company | None  # None for a skipped receipt, whose seller prints nothing
    reason: str | None = None  # why skipped, or the provider's reason for failing
    error_code: int | None = None  # the provider's error code of a failure
    provider_uuid: str | None = None
    resends: int = 0  # times an operator sent it again after a refusal
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    attributes: FiscalAttributes | None = None
    corrects_id: int | None = None  # a correction: the receipt it corrects
    correction_type: str | None = None  # self or instruction (by the tax office's order)
    correction_basis_on: str | None = None  # the date of that order, dd.mm.yyyy
    correction_basis_number: str | None = None
    shipment_id: int | None = None
    return_number: str | None = None
    events: list[ev.FiscalReceiptEvent] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def vat_total(self) -> Decimal:
        return sum((line.vat_amount for line in self.lines), ZERO)

    @property
    def external_id(self) -> str:
        """The id the provider dedupes on: the same receipt is registered once, however
        often it is sent."""
        if self.id is None:
            raise RuntimeError("the receipt must be stored before it is sent")
        if self.resends:
            return f"potok-receipt-{self.id}-{self.resends}"
        return f"potok-receipt-{self.id}"

    def _moved(self, target: ReceiptState, at: datetime) -> ReceiptState:
        before = self.state
        self.state = RECEIPT.check(before, target)
        self.updated_at = at
        return before

    def sent(self, uuid: str, at: datetime) -> None:
        """The provider took the receipt and named it."""
        self._moved(ReceiptState.SENT, at)
        self.provider_uuid = uuid
        self.sent_at = at
        self.reason = None
        self.error_code = None
        self.attempts = 0  # from here on the attempts count looks at its result

    def waiting(self, at: datetime) -> None:
        """The provider's register has not printed it yet."""
        self._moved(ReceiptState.WAIT, at)

    def registered(self, attributes: FiscalAttributes, at: datetime) -> None:
        """Printed and registered: the fiscal attributes are kept with the receipt."""
        before = self._moved(ReceiptState.DONE, at)
        self.attributes = attributes
        self.next_attempt_at = None
        self.events.append(
            ev.FiscalReceiptRegistered(
                occurred_at=at,
                **self._base(before),
                fn_number=attributes.fn_number,
                fiscal_document_number=attributes.fiscal_document_number,
                fiscal_document_attribute=attributes.fiscal_document_attribute,
                registered_at=attributes.registered_at,
                register_number=attributes.register_number,
            )
        )

    def failed(self, reason: str, code: int | None, at: datetime) -> None:
        """Refused for good; the provider's reason is kept and operators are told."""
        before = self._moved(ReceiptState.FAILED, at)
        self.reason = _short(reason)
        self.error_code = code
        self.next_attempt_at = None
        self.events.append(
            ev.FiscalReceiptFailed(
                occurred_at=at, **self._base(before), reason=self.reason, error_code=code
            )
        )

    def resend(self, at: datetime) -> None:
        """An operator fixed what the provider refused (the settings, say): the receipt is
        queued again, under a new external id, as the provider asks."""
        self._moved(ReceiptState.QUEUED, at)
        self.resends += 1
        self.attempts = 0
        self.provider_uuid = None
        self.next_attempt_at = None
        self.events.append(ev.FiscalReceiptQueued(occurred_at=at, **self._base(None)))

    def failed_at_once(self, at: datetime) -> None:
        """A receipt that cannot be sent as it is (no fiscal settings for its seller, a
        refund above what was fiscalised): stored failed, and operators are told why."""
        self.events.append(
            ev.FiscalReceiptFailed(
                occurred_at=at,
                **self._base(None),
                reason=self.reason or "",
                error_code=self.error_code,
            )
        )

    def announce(self, at: datetime) -> None:
        """Say the receipt was queued (or skipped, with why)."""
        if self.state is ReceiptState.SKIPPED:
            self.events.append(
                ev.FiscalReceiptSkipped(
                    occurred_at=at, **self._base(None), reason=self.reason or ""
                )
            )
        else:
            self.events.append(ev.FiscalReceiptQueued(occurred_at=at, **self._base(None)))

    def _base(self, before: ReceiptState | None) -> dict[str, Any]:
        return {
            "receipt_id": self.id,
            "order_id": self.order_id,
            "kind": self.kind.value,
            "operation": self.operation.value,
            "from_state": None if before is None else before.value,
            "to_state": self.state.value,
            "total": self.total,
            "currency": self.currency,
        }

    def take_events(self) -> list[ev.FiscalReceiptEvent]:
        taken, self.events = self.events, []
        return taken

    def with_lines(self, lines: tuple[ReceiptLine, ...]) -> Receipt:
        return replace(self, lines=lines)


def _short(text: str) -> str:
    text = text.strip() or "no reason given"
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
