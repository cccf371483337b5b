"""Customers: who ordered, found again by phone or e-mail."""

from potok.domain.customers.model import Customer, normalise_email, normalise_phone

__all__ = ["Customer", "normalise_email", "normalise_phone"]
