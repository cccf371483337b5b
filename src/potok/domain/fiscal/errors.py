"""The fiscal area's errors."""

from __future__ import annotations

from potok.domain.errors import Conflict, NotFound, Rejected


class ReceiptNotFound(NotFound):
    code = "receipt-not-found"
    title = "Receipt not found"
    template = "There is no fiscal receipt {receipt}."


class ReceiptNotCorrectable(Conflict):
    code = "receipt-not-correctable"
    title = "This receipt cannot be corrected"
    template = "Receipt {receipt} is {state}: {why}."


class FiscalisationOff(Rejected):
    code = "fiscalisation-off"
    title = "Fiscal receipts are not configured"
    template = "Potok prints no fiscal receipts: {why}."
