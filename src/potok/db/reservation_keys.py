"""A reservation's references on PostgreSQL: one key to its stock row that carries the
row's warehouse and product, instead of three keys checked one by one.

Every reservation intake writes named its stock row, its product and its warehouse by
three foreign keys, and each key is a query per row at the end of the statement that
also locks the row it finds (``FOR KEY SHARE``): for every order, its products' rows
and one of the ten warehouses' rows, which every concurrent order locked too, each lock
a WAL record. On PostgreSQL the three are one key, ``(warehouse_id, product_id,
stock_id)`` to the stock row's ``(warehouse_id, product_id, id)`` (unique for the stock
ledger's key, which has the same form): one check, on the stock row the reserving
statement has locked already. It holds more than the three did - a reservation names its
own stock row's warehouse and product, never another's - and the product and warehouse
still cannot be deleted under a reservation: the stock row's own keys hold them, and the
reservation's key holds the stock row.

Violations raise PostgreSQL's ``foreign_key_violation`` under the stock key's usual name,
so :mod:`potok.db.integrity` names them as before. SQLite keeps the three keys (its checks
take no locks and its writers take turns); the tables in code declare those for both
databases, and the schema-drift check knows that PostgreSQL has :data:`REPLACED` instead.
"""

from __future__ import annotations

import sqlalchemy as sa

STOCK_KEY = "fk_reservations_stock_id_stock"
REPLACED = frozenset(
    {
        STOCK_KEY,
        "fk_reservations_product_id_products",
        "fk_reservations_warehouse_id_warehouses",
    }
)
"""The tables' foreign keys that PostgreSQL has in another form (or not at all)."""

_INSTALL = [
    "ALTER TABLE reservations DROP CONSTRAINT fk_reservations_product_id_products",
    "ALTER TABLE reservations DROP CONSTRAINT fk_reservations_warehouse_id_warehouses",
    f"ALTER TABLE reservations DROP CONSTRAINT {STOCK_KEY}",
    f"ALTER TABLE reservations ADD CONSTRAINT {STOCK_KEY} FOREIGN KEY "
    "(warehouse_id, product_id, stock_id) REFERENCES stock (warehouse_id, product_id, id)",
]
_UNINSTALL = [
    f"ALTER TABLE reservations DROP CONSTRAINT {STOCK_KEY}",
    f"ALTER TABLE reservations ADD CONSTRAINT {STOCK_KEY} FOREIGN KEY (stock_id) "
    "REFERENCES stock (id)",
    "ALTER TABLE reservations ADD CONSTRAINT fk_reservations_product_id_products "
    "FOREIGN KEY (product_id) REFERENCES products (id)",
    "ALTER TABLE reservations ADD CONSTRAINT fk_reservations_warehouse_id_warehouses "
    "FOREIGN KEY (warehouse_id) REFERENCES warehouses (id)",
]


def install(connection: sa.Connection) -> None:
    """PostgreSQL: the reservation's three keys become the one."""
    if connection.dialect.name == "postgresql":
        for statement in _INSTALL:
            connection.execute(sa.text(statement))


def uninstall(connection: sa.Connection) -> None:
    """PostgreSQL: the three keys again."""
    if connection.dialect.name == "postgresql":
        for statement in _UNINSTALL:
            connection.execute(sa.text(statement))
