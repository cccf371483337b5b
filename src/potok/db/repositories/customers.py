"""Customers, found by phone or e-mail so that repeat buyers keep one record."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from potok.db.tables import customers
from potok.domain.kernel import CustomerId


class CustomerRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def find_or_add(
        self, name: str, phone: str | None, email: str | None, at: datetime
    ) -> CustomerId | None:
        """The customer with this phone (else e-mail); a new record when there is none."""
        if phone is None and email is None:
            return None
        conditions = []
        if phone is not None:
            conditions.append(customers.c.phone == phone)
        if email is not None:
            conditions.append(customers.c.email == email)
        row = self.connection.execute(
            sa.select(customers.c.id, customers.c.phone)
            .where(sa.or_(*conditions))
            .order_by(customers.c.phone.is_(None))  # a phone match first
            .limit(1)
        ).first()
        if row is not None:
            return CustomerId(row.id)
        new_id = self.connection.execute(
            sa.insert(customers)
            .values(name=name, phone=phone, email=email, created_at=at, updated_at=at)
            .returning(customers.c.id)
        ).scalar_one()
        return CustomerId(new_id)
