"""A fiscal receipt's life as a table of allowed steps, and the words it is made of."""

from __future__ import annotations

from enum import StrEnum

from potok.domain.machine import StateMachine


class ReceiptKind(StrEnum):
    """Why the receipt is printed."""

    SALE = "sale"  # the money came before the goods: full prepayment at payment
    SETTLEMENT = "settlement"  # the goods reach the customer: full payment (cash on delivery)
    #   or the prepayment offset against the goods handed over
    REFUND = "refund"  # money paid back for returned goods
    CORRECTION = "correction"  # a receipt that was never registered, or registered wrong


class ReceiptState(StrEnum):
    """Where the receipt stands with the cash-register provider."""

    QUEUED = "queued"  # stored; the worker sends it in order
    SENT = "sent"  # the provider took it and named it (uuid)
    WAIT = "wait"  # the provider's cash register has not printed it yet
    DONE = "done"  # registered: the fiscal attributes are known
    FAILED = "failed"  # refused for good: an operator corrects it (the provider's reason kept)
    SKIPPED = "skipped"  # not Potok's to print (the marketplace issues it, fiscalisation off)


class Operation(StrEnum):
    """The provider's operation (ФФД 1.2 «признак расчёта»)."""

    SELL = "sell"
    SELL_REFUND = "sell_refund"
    SELL_CORRECTION = "sell_correction"
    SELL_REFUND_CORRECTION = "sell_refund_correction"
    BUY_CORRECTION = "buy_correction"
    BUY_REFUND_CORRECTION = "buy_refund_correction"

    @property
    def corrects(self) -> bool:
        return self.value.endswith("_correction")


class PaymentMethodTag(StrEnum):
    """«Признак способа расчёта» (tag 1214) of a receipt line."""

    FULL_PREPAYMENT = "full_prepayment"
    PREPAYMENT = "prepayment"
    ADVANCE = "advance"
    FULL_PAYMENT = "full_payment"
    PARTIAL_PAYMENT = "partial_payment"
    CREDIT = "credit"
    CREDIT_PAYMENT = "credit_payment"


class PaymentObject(StrEnum):
    """«Признак предмета расчёта» (tag 1212), the common ones; codes at the provider's edge."""

    COMMODITY = "commodity"  # 1: goods without marking
    SERVICE = "service"  # 4: delivery
    MARKED_COMMODITY = "marked_commodity"  # 33: goods with a marking code


PAYMENT_OBJECT_CODES = {
    PaymentObject.COMMODITY: 1,
    PaymentObject.SERVICE: 4,
    PaymentObject.MARKED_COMMODITY: 33,
}


class PaymentType(StrEnum):
    """How the receipt's money was paid (tag 1031/1081/1215 …)."""

    CASH = "cash"  # 0
    ELECTRONIC = "electronic"  # 1: card, SBP, a gateway
    PREPAID = "prepaid"  # 2: the prepayment offset against the goods


PAYMENT_TYPE_CODES = {PaymentType.CASH: 0, PaymentType.ELECTRONIC: 1, PaymentType.PREPAID: 2}


class Vat(StrEnum):
    """A receipt line's VAT: 22/10/0 %, «без НДС», and the older 20 % kept for corrections."""

    VAT22 = "vat22"
    VAT20 = "vat20"
    VAT10 = "vat10"
    VAT0 = "vat0"
    NONE = "none"  # «без НДС»: the seller pays no VAT


class Taxation(StrEnum):
    """«Система налогообложения» of the seller (the provider's ``sno``)."""

    OSN = "osn"
    USN_INCOME = "usn_income"
    USN_INCOME_OUTCOME = "usn_income_outcome"
    ESN = "esn"
    PATENT = "patent"


RECEIPT = StateMachine[ReceiptState](
    "fiscal_receipt",
    {
        ReceiptState.QUEUED: frozenset({ReceiptState.SENT, ReceiptState.FAILED}),
        ReceiptState.SENT: frozenset({ReceiptState.WAIT, ReceiptState.DONE, ReceiptState.FAILED}),
        ReceiptState.WAIT: frozenset({ReceiptState.WAIT, ReceiptState.DONE, ReceiptState.FAILED}),
        ReceiptState.DONE: frozenset(),
        ReceiptState.FAILED: frozenset({ReceiptState.QUEUED}),  # sent again, fixed
        ReceiptState.SKIPPED: frozenset(),
    },
)

OPEN = frozenset({ReceiptState.QUEUED, ReceiptState.SENT, ReceiptState.WAIT})
"""States of a receipt the worker still works on."""
COUNTED = frozenset({ReceiptState.QUEUED, ReceiptState.SENT, ReceiptState.WAIT, ReceiptState.DONE})
"""States of a receipt that count as printed (or about to be) when amounts are compared."""
