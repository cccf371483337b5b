"""What reading carriers' cash-on-delivery registries needs from storage, as a protocol;
``potok.db`` implements it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RemittedParcel:
    """One parcel of a carrier's payment registry, as Potok keeps it."""

    carrier: str
    registry_number: str
    tracking_number: str
    shipment_id: int
    order_id: int
    expected: Decimal  # what Potok asked the carrier to collect for the parcel
    collected: Decimal  # what the carrier took from the buyer
    commission: Decimal  # the carrier's fee for remitting it
    transferred: Decimal  # what came to the shop's account
    paid_on: date | None
    payment_order: str | None
    read_at: datetime

    @property
    def short_by(self) -> Decimal:
        """How much less than asked the carrier collected (0 when it collected all)."""
        return max(self.expected - self.collected, self.expected * 0)


class RemittanceStore(Protocol):
    def known(self, carrier: str, registry_number: str, tracking_number: str) -> bool:
        """Whether this registry of this carrier was read for this parcel before."""
        ...

    def add(self, parcel: RemittedParcel) -> None: ...

    def for_order(self, order_id: int) -> list[RemittedParcel]: ...
