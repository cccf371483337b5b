"""Customers, found by phone or e-mail so that repeat buyers keep one record."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from potok.db.tables import customers
from potok.domain.kernel import CustomerId

_FIND = (
    sa.select(customers.c.id)
    .where(
        sa.or_(
            customers.c.phone == sa.bindparam("phone"),
            customers.c.email == sa.bindparam("email"),
        )
    )
    # the phone's owner first: a shared family e-mail must not merge two people
    .order_by(sa.case((customers.c.phone == sa.bindparam("phone"), 0), else_=1), customers.c.id)
    .limit(1)
)
_ADD = sa.insert(customers).returning(customers.c.id)


class CustomerRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def find_or_add(
        self, name: str, phone: str | None, email: str | None, at: datetime
    ) -> CustomerId | None:
        """The customer with this phone (else e-mail); a new record when there is none."""
        if phone is None and email is None:
            return None
        found = self.connection.execute(_FIND, {"phone": phone, "email": email}).scalar()
        if found is not None:
            return CustomerId(found)
        new_id = self.connection.execute(
            _ADD,
            {"name": name, "phone": phone, "email": email, "created_at": at, "updated_at": at},
        ).scalar_one()
        return CustomerId(new_id)
