"""Customers: who ordered, found again by phone or e-mail."""

from potok.domain.customers.errors import CustomerNotFound
from potok.domain.customers.events import CustomerAnonymised, CustomerExported
from potok.domain.customers.model import (
    Customer,
    normalise_email,
    normalise_name,
    normalise_phone,
)

__all__ = [
    "Customer",
    "CustomerAnonymised",
    "CustomerExported",
    "CustomerNotFound",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
]
