"""Customers: one record, its export and its anonymisation (152-FZ requests)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.schemas.customers import (
    AnonymisationOut,
    CustomerAddressOut,
    CustomerExportOut,
    CustomerOrderOut,
    CustomerOut,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.customers import CustomerNotFound
from potok.services import customers
from potok.services.read_models import CustomerOrder

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])

CustomerIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="Potok's customer number.")]


@router.get(
    "/{customer_id}",
    response_model=CustomerOut,
    summary="A customer with their contact data",
    responses=responses(CustomerNotFound),
    dependencies=[needs(Permission.PERSONAL_DATA), reach(Reach.UNLIMITED)],
)
def get_customer(customer_id: CustomerIdPath, uow: Uow, caller: Caller) -> CustomerOut:
    return CustomerOut.model_validate(customers.get_customer(uow, customer_id))


@router.get(
    "/{customer_id}/export",
    response_model=CustomerExportOut,
    summary="Everything Potok keeps about a customer (a subject access request)",
    description=(
        "The customer record and every order of theirs with the personal data it carries, "
        "decrypted. The audit trail records who exported it (`customer.exported`)."
    ),
    responses=responses(CustomerNotFound),
    dependencies=[needs(Permission.CUSTOMERS_MANAGE), reach(Reach.UNLIMITED)],
)
def export_customer(customer_id: CustomerIdPath, uow: Uow, caller: Caller) -> CustomerExportOut:
    export = customers.export_customer(uow, customer_id)
    return CustomerExportOut(
        exported_at=export.exported_at,
        customer=CustomerOut.model_validate(export.customer),
        orders=[_order(o) for o in export.orders],
    )


def _order(order: CustomerOrder) -> CustomerOrderOut:
    address = None
    if order.address_city is not None:
        address = CustomerAddressOut(
            country=order.address_country,
            region=order.address_region,
            city=order.address_city,
            postal_code=order.address_postal_code,
            line1=order.address_line1,
            line2=order.address_line2,
        )
    return CustomerOrderOut(
        id=order.id,
        external_id=order.external_id,
        channel=order.channel,
        status=order.status,
        currency=order.currency,
        total=order.total,
        created_at=order.created_at,
        customer_name=order.customer_name,
        customer_phone=order.customer_phone,
        customer_email=order.customer_email,
        delivery_method=order.delivery_method,
        address=address,
        comment=order.comment,
        personal_data=order.personal_data,
        missing_key=order.missing_key,
    )


@router.post(
    "/{customer_id}/anonymisation",
    response_model=AnonymisationOut,
    summary="Remove a customer's personal data for good",
    description=(
        "Names become empty; phones, e-mails, address lines and postal codes are removed from "
        "the customer record and from every order of theirs, and they can no longer be found "
        "by them. Orders, lines and totals stay for the accounts; each order's version goes "
        "up. Cannot be undone; running it again is harmless. Recorded as "
        "`customer.anonymised` (without personal data)."
    ),
    responses=responses(CustomerNotFound),
    dependencies=[needs(Permission.CUSTOMERS_MANAGE), reach(Reach.UNLIMITED)],
)
def anonymise_customer(customer_id: CustomerIdPath, uow: Uow, caller: Caller) -> AnonymisationOut:
    done = customers.anonymise_customer(uow, customer_id)
    return AnonymisationOut(
        customer_id=done.customer_id,
        anonymised_at=done.anonymised_at,
        order_ids=list(done.order_ids),
    )
