"""Errors of the customers area."""

from __future__ import annotations

from potok.domain.errors import NotFound


class CustomerNotFound(NotFound):
    code = "customer-not-found"
    title = "Customer not found"
    template = "There is no customer {customer_id}."
