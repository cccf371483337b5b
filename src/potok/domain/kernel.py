"""Value types shared by every area: money, actors, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NewType

from potok.domain.errors import Rejected
from potok.domain.quick_init import quick_init

OrderId = NewType("OrderId", int)
ProductId = NewType("ProductId", int)
WarehouseId = NewType("WarehouseId", int)
ChannelId = NewType("ChannelId", int)
StockId = NewType("StockId", int)
LotId = NewType("LotId", int)
CustomerId = NewType("CustomerId", int)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The same moment in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def round_money(amount: Decimal) -> Decimal:
    """Round to whole kopecks (cents), half away from zero, as receipts and invoices do."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class CurrencyMismatch(Rejected):
    """Two amounts in different currencies were combined."""

    code = "currency-mismatch"
    title = "Currencies do not match"
    template = "Cannot combine {left} with {right}."


@quick_init
@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency; never a float."""

    amount: Decimal
    currency: str

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0.00"), currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def rounded(self) -> Money:
        return Money(round_money(self.amount), self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(left=self.currency, right=other.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def vat_included(gross: Decimal, rate_percent: Decimal) -> Decimal:
    """The VAT inside a VAT-inclusive amount (Russian prices include VAT), rounded to kopecks."""
    if rate_percent == 0:
        return Decimal("0.00")
    return round_money(gross * rate_percent / (HUNDRED + rate_percent))


class ActorKind(StrEnum):
    """Who makes a change: a person, an integration, a command line or Potok itself."""

    USER = "user"
    API_KEY = "api_key"
    API = "api"
    CLI = "cli"
    SYSTEM = "system"


@quick_init
@dataclass(frozen=True, slots=True)
class Actor:
    """The one who made a change, as history and audit show it."""

    kind: ActorKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"

    @classmethod
    def system(cls, job: str = "potok") -> Actor:
        return cls(ActorKind.SYSTEM, job)

    @classmethod
    def parse(cls, text: str) -> Actor:
        kind, _, name = text.partition(":")
        return cls(ActorKind(kind), name)


class Tracking(StrEnum):
    """How units of a product are told apart in stock."""

    NONE = "none"  # all units alike
    LOT = "lot"  # by lot (batch), with production and expiry dates
    SERIAL = "serial"  # each unit by its serial number


class RemovalStrategy(StrEnum):
    """Which stock of a product leaves first."""

    FEFO = "fefo"  # first expired, first out
    FIFO = "fifo"  # first received, first out
