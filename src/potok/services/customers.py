"""Customers' requests under 152-FZ: see what Potok keeps about one (export), and have it
removed (anonymisation). Orders stay for the accounts; their personal data goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from potok.domain.customers import (
    Customer,
    CustomerAnonymised,
    CustomerExported,
    CustomerNotFound,
)
from potok.domain.kernel import Clock, OrderId, utc_now
from potok.services.read_models import CustomerOrder
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class CustomerExport:
    """Everything Potok keeps about one customer: the record and every order's data."""

    customer: Customer
    orders: list[CustomerOrder]
    exported_at: datetime


@dataclass(frozen=True, slots=True)
class Anonymisation:
    """What anonymisation did: the customer's record and these orders lost their data."""

    customer_id: int
    order_ids: list[OrderId]
    anonymised_at: datetime


def _customer(uow: UnitOfWork, customer_id: int, *, lock: bool = False) -> Customer:
    customer = uow.customers.get(customer_id, lock=lock)
    if customer is None:
        raise CustomerNotFound(customer_id=customer_id)
    return customer


def get_customer(uow: UnitOfWork, customer_id: int) -> Customer:
    """The customer record with its data."""
    return reading(uow, lambda uow: _customer(uow, customer_id))


def export_customer(uow: UnitOfWork, customer_id: int, *, clock: Clock = utc_now) -> CustomerExport:
    """The customer and every order of theirs with the data it carries, opened; the audit
    trail notes who was handed it."""

    def work(uow: UnitOfWork) -> CustomerExport:
        at = clock()
        customer = _customer(uow, customer_id)
        orders = uow.orders.list_for_customer(customer_id)
        uow.record(CustomerExported(occurred_at=at, customer_id=customer_id, orders=len(orders)))
        return CustomerExport(customer, orders, at)

    return atomically(uow, work)


def anonymise_customer(
    uow: UnitOfWork, customer_id: int, *, clock: Clock = utc_now
) -> Anonymisation:
    """Remove the customer's data for good, from their record and from all their orders:
    names become empty, phones, e-mails, address lines and postal codes and their hashes
    go. Orders, lines and totals stay for the accounts. Running it again is harmless."""

    def work(uow: UnitOfWork) -> Anonymisation:
        at = clock()
        _customer(uow, customer_id, lock=True)
        order_ids = uow.orders.anonymise_for_customer(customer_id, at)
        uow.customers.anonymise(customer_id, at)
        uow.record(
            CustomerAnonymised(occurred_at=at, customer_id=customer_id, order_ids=list(order_ids))
        )
        return Anonymisation(customer_id, order_ids, at)

    return atomically(uow, work)
