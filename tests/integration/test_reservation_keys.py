"""A reservation's references hold as its three foreign keys held them, now that
PostgreSQL checks them as one key to the stock row (``db/reservation_keys.py``): a
reservation names its own stock row's warehouse and product, and nothing a reservation
holds can be deleted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import (
    order_lines,
    products,
    reservations,
    stock,
    warehouses,
)
from potok.domain.errors import MissingReference, StillReferenced
from potok.services import intake
from tests.factories import TESTER, build_world, order_command


def _reserved(potok: Potok) -> sa.Row[tuple[object, ...]]:
    """An order reserving one kettle in Moscow; its reservation's row."""
    build_world(potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5, ("SPB", "KET"): 5})
    placed = intake.place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
    assert isinstance(placed, intake.Placement)
    with potok.engine.connect() as connection:
        return connection.execute(sa.select(reservations)).one()


def _ids(potok: Potok, warehouse: str, sku: str) -> tuple[int, int, int]:
    """The stock row of ``sku`` in ``warehouse``: its id, warehouse and product."""
    with potok.engine.connect() as connection:
        row = connection.execute(
            sa.select(stock.c.id, stock.c.warehouse_id, stock.c.product_id)
            .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
            .join(products, products.c.id == stock.c.product_id)
            .where(warehouses.c.code == warehouse, products.c.sku == sku)
        ).one()
        return int(row.id), int(row.warehouse_id), int(row.product_id)


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("other", [("MSK", "MUG"), ("SPB", "KET")], ids=["product", "warehouse"])
def test_a_reservation_names_its_stock_rows_warehouse_and_product(
    potok: Potok, other: tuple[str, str]
) -> None:
    """PostgreSQL: a reservation of the Moscow kettles that names the mug (or St
    Petersburg) is refused, though the mug and St Petersburg exist (SQLite checks each
    reference on its own)."""
    held = _reserved(potok)
    stock_id, _, _ = _ids(potok, "MSK", "KET")
    _, warehouse_id, product_id = _ids(potok, *other)

    with pytest.raises(MissingReference) as raised, potok.uow() as uow:
        uow.connection.execute(
            sa.insert(reservations).values(
                order_id=held.order_id,
                line_no=held.line_no,
                stock_id=stock_id,
                warehouse_id=warehouse_id,
                product_id=product_id,
                quantity=1,
                status="open",
                created_at=datetime.now(UTC),
            )
        )

    assert raised.value.context["constraint"] == "fk_reservations_stock_id_stock"
    assert raised.value.context["refers_to"] == "stock"


def _without_lines(potok: Potok, deletion: sa.Delete) -> None:
    with potok.uow() as uow:
        uow.connection.execute(sa.delete(order_lines))
        uow.connection.execute(deletion)


def test_what_a_reservation_holds_cannot_be_deleted(potok: Potok) -> None:
    """With the order's lines gone, its reservation alone still holds its stock row, and
    through it the kettle and the Moscow warehouse."""
    held = _reserved(potok)
    _, warehouse_id, product_id = _ids(potok, "MSK", "KET")
    deletions = [
        sa.delete(stock).where(stock.c.id == held.stock_id),
        sa.delete(products).where(products.c.id == product_id),
        sa.delete(warehouses).where(warehouses.c.id == warehouse_id),
    ]
    for deletion in deletions:
        with pytest.raises(StillReferenced):
            _without_lines(potok, deletion)

    with potok.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(reservations)).scalar() == 1
        )
