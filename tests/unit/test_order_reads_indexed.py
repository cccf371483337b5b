"""What the order card reads is found by index: every table that points at an order (lines,
reservations, history, shipments, documents, returns, receipts, payments, ...) has an
index that starts with the pointing columns, so reading one order's rows costs the same
with a thousand orders or a million (benchmarks/queries.py measures the card at a million).
"""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.tables import metadata

# tables whose rows are read per order by the order card and the lists built on it
PER_ORDER = ("orders", "shipments", "returns")
NOT_READ_BY = {  # pointers nothing looks rows up by, and so no index
    "fiscal_receipts(shipment_id)": "a receipt is read by its order; the parcel is only noted",
    "returns(exchange_order_id)": "a return is read by its order or number; the replacement"
    " order is only noted",
}


def leading_columns(table: sa.Table) -> list[tuple[str, ...]]:
    """The column lists that an index of the table (its own, its primary key's or a unique
    constraint's) starts with."""
    found = [tuple(c.name for c in table.primary_key.columns)]
    for index in table.indexes:
        found.append(tuple(c.name for c in index.columns))
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            found.append(tuple(c.name for c in constraint.columns))
    return found


def test_every_table_pointing_at_an_order_is_indexed_by_its_pointer() -> None:
    unindexed: list[str] = []
    for table in metadata.sorted_tables:
        for key in table.foreign_key_constraints:
            if key.referred_table.name not in PER_ORDER:
                continue
            columns = tuple(c.name for c in key.columns)
            if not any(
                set(lead[: len(columns)]) == set(columns) for lead in leading_columns(table)
            ):
                unindexed.append(f"{table.name}({', '.join(columns)})")

    assert sorted(unindexed) == sorted(NOT_READ_BY)
