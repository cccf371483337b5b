"""Customers, found by phone or e-mail so that repeat buyers keep one record.

Their data is sealed (encrypted); they are found by the keyed hashes of the phone and
the e-mail, never by the data itself.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from potok.db.personal import customer_values
from potok.db.tables import customers
from potok.domain.customers import Customer
from potok.domain.kernel import CustomerId
from potok.security.data import DataProtector

_FIND = (
    sa.select(customers.c.id)
    .where(
        sa.or_(
            customers.c.phone_hash == sa.bindparam("phone_hash"),
            customers.c.email_hash == sa.bindparam("email_hash"),
        )
    )
    # the phone's owner first: a shared family e-mail must not merge two people
    .order_by(
        sa.case((customers.c.phone_hash == sa.bindparam("phone_hash"), 0), else_=1),
        customers.c.id,
    )
    .limit(1)
)
_ADD = sa.insert(customers).returning(customers.c.id)


class CustomerRepository:
    def __init__(self, connection: sa.Connection, protector: DataProtector) -> None:
        self.connection = connection
        self.protector = protector

    def find_or_add(
        self, name: str, phone: str | None, email: str | None, at: datetime
    ) -> CustomerId | None:
        """The customer with this phone (else e-mail); a new record when there is none."""
        if phone is None and email is None:
            return None
        values = customer_values(self.protector, name, phone, email)
        found = self.connection.execute(
            _FIND, {"phone_hash": values["phone_hash"], "email_hash": values["email_hash"]}
        ).scalar()
        if found is not None:
            return CustomerId(found)
        new_id = self.connection.execute(
            _ADD, {**values, "created_at": at, "updated_at": at}
        ).scalar_one()
        return CustomerId(new_id)

    def get(self, customer_id: int, *, lock: bool = False) -> Customer | None:
        """The customer with their data opened."""
        query = sa.select(customers).where(customers.c.id == customer_id)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        open_ = self.protector.decrypt
        return Customer(
            id=CustomerId(row.id),
            name=open_(row.name) or "",
            phone=open_(row.phone),
            email=open_(row.email),
            created_at=row.created_at,
            anonymised_at=row.anonymised_at,
        )

    def anonymise(self, customer_id: int, at: datetime) -> None:
        """Remove the customer's data and hashes for good; the record stays, marked."""
        self.connection.execute(
            sa.update(customers)
            .where(customers.c.id == customer_id)
            .values(
                name="",
                phone=None,
                email=None,
                phone_hash=None,
                email_hash=None,
                anonymised_at=at,
                updated_at=at,
            )
        )
