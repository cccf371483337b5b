"""Bodies of order edits, line cancellations and shipment cancellations."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from potok.api.schemas.common import JSON_INTEGER, MoneyIn, Schema
from potok.api.schemas.orders import CustomerIn, DeliveryIn
from potok.domain.orders import Address
from potok.domain.orders.commands import DeliveryRequest
from potok.services.order_edits import ContactChange, LineChange

MAX_QUANTITY = 1_000_000_000
MAX_LINE_NO = 10_000


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class LineEditIn(Strict):
    line_no: Annotated[int, Field(ge=1, le=MAX_LINE_NO), JSON_INTEGER] | None = Field(
        default=None, description="A line of the order to change."
    )
    sku: str | None = Field(
        default=None, min_length=1, max_length=64, description="Or a new line's product."
    )
    quantity: Annotated[int, Field(ge=0, le=MAX_QUANTITY), JSON_INTEGER] = Field(
        description="The new quantity; 0 removes."
    )
    unit_price: MoneyIn | None = Field(
        default=None, description="A new line's price; the catalogue's when omitted."
    )

    def change(self) -> LineChange:
        return LineChange(self.quantity, self.line_no, self.sku, self.unit_price)


class OrderEditIn(Strict):
    lines: list[LineEditIn] = Field(default_factory=list, max_length=500)
    delivery: DeliveryIn | None = None
    customer: CustomerIn | None = Field(
        default=None,
        description="The customer's name, phone and e-mail on the order as they should read "
        "(until it is delivered); the history names which changed, never their values.",
    )
    reason: str | None = Field(default=None, max_length=500, examples=["звонок покупателя"])

    def contact(self) -> ContactChange | None:
        if self.customer is None:
            return None
        return ContactChange(self.customer.name, self.customer.phone, self.customer.email)

    def delivery_request(self) -> DeliveryRequest | None:
        if self.delivery is None:
            return None
        address = self.delivery.address
        return DeliveryRequest(
            method=self.delivery.method,
            address=Address(**address.model_dump()) if address else None,
            pickup_point=self.delivery.pickup_point,
            price=self.delivery.price,
            vat_rate=self.delivery.vat_rate,
        )


class LineCancelIn(Strict):
    line_no: Annotated[int, Field(ge=1, le=MAX_LINE_NO), JSON_INTEGER]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), JSON_INTEGER]


class LineCancellationIn(Strict):
    lines: list[LineCancelIn] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=500)


class ShipmentCancellationIn(Strict):
    reason: str = Field(min_length=1, max_length=500)
