"""Fiscal receipts (54-ФЗ): sale, settlement, refund and correction receipts of orders,
printed through a cloud cash-register provider."""

from potok.domain.fiscal.errors import FiscalisationOff, ReceiptNotCorrectable, ReceiptNotFound
from potok.domain.fiscal.model import (
    AgentInfo,
    Company,
    FiscalAttributes,
    Receipt,
    ReceiptLine,
    vat_of,
)
from potok.domain.fiscal.policy import EntityProfile, FiscalMode, FiscalRules
from potok.domain.fiscal.states import (
    OPEN,
    Operation,
    PaymentMethodTag,
    PaymentObject,
    PaymentType,
    ReceiptKind,
    ReceiptState,
    Taxation,
    Vat,
)

__all__ = [
    "OPEN",
    "AgentInfo",
    "Company",
    "EntityProfile",
    "FiscalAttributes",
    "FiscalMode",
    "FiscalRules",
    "FiscalisationOff",
    "Operation",
    "PaymentMethodTag",
    "PaymentObject",
    "PaymentType",
    "Receipt",
    "ReceiptKind",
    "ReceiptLine",
    "ReceiptNotCorrectable",
    "ReceiptNotFound",
    "ReceiptState",
    "Taxation",
    "Vat",
    "vat_of",
]
