"""What Potok asks of a cloud cash-register provider, whoever it is: register a receipt
under Potok's own id (a repeat names the same receipt, never prints a second one), and
tell where a registered receipt stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from potok.domain.errors import Unavailable
from potok.domain.fiscal import FiscalAttributes, Receipt


class FiscalUnavailable(Unavailable):
    """The provider could not be reached, or answered that it cannot take the receipt now;
    the receipt stays queued and is sent again later, in order."""

    code = "fiscal-provider-unavailable"
    title = "The cash-register provider is unavailable"
    template = "{provider} is unavailable: {reason}."


@dataclass(frozen=True, slots=True)
class Refusal:
    """The provider refused the receipt for good: its code and words."""

    code: int | None
    text: str

    def __str__(self) -> str:
        return self.text if self.code is None else f"{self.code}: {self.text}"


class FiscalRefused(Exception):
    """The provider will not register this receipt as it is."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


class Progress(StrEnum):
    WAIT = "wait"
    DONE = "done"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where a registered receipt stands at the provider."""

    uuid: str
    progress: Progress
    external_id: str | None = None
    attributes: FiscalAttributes | None = None  # when done
    refusal: Refusal | None = None  # when failed


@dataclass(frozen=True, slots=True)
class Customer:
    """Where the provider sends the customer's copy (one of them at least)."""

    email: str | None
    phone: str | None  # +7…


class CashRegister(Protocol):
    """One provider account: the group of registers that prints a legal entity's receipts."""

    name: str

    def register(self, receipt: Receipt, customer: Customer, at: datetime) -> Outcome:
        """Send the receipt under its external id; a repeat of one sent before answers
        that receipt's uuid. Raises FiscalUnavailable or FiscalRefused."""
        ...

    def report(self, uuid: str) -> Outcome:
        """Where the receipt stands (wait, done with its attributes, fail with why)."""
        ...
