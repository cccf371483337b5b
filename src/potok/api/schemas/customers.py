"""Bodies of the customer routes: the record, its export and the anonymisation receipt."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from potok.api.schemas.common import MissingKey, MoneyOut, Out, PersonalDataState


class CustomerOut(Out):
    id: int
    name: str = Field(description="Empty once the customer is anonymised.")
    phone: str | None
    email: str | None
    created_at: datetime
    anonymised_at: datetime | None


class CustomerAddressOut(Out):
    country: str | None
    region: str | None
    city: str | None
    postal_code: str | None
    line1: str | None
    line2: str | None


class CustomerOrderOut(Out):
    id: int
    external_id: str | None
    channel: str
    status: str
    currency: str
    total: MoneyOut
    created_at: datetime
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    delivery_method: str
    address: CustomerAddressOut | None = Field(description="Null for pickup orders.")
    comment: str
    personal_data: PersonalDataState = "available"
    missing_key: MissingKey = None


class CustomerExportOut(Out):
    exported_at: datetime
    customer: CustomerOut
    orders: list[CustomerOrderOut] = Field(description="Every order of the customer, oldest first.")


class AnonymisationOut(Out):
    customer_id: int
    anonymised_at: datetime
    order_ids: list[int] = Field(description="The orders whose personal data was removed.")
