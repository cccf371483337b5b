"""The references an order's rows make hold as the foreign keys held them, after PostgreSQL
checks some of them differently (``db/reference_guard.py``): a reservation names its
stock row's warehouse and product, and nothing a reservation holds can be deleted."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import (
    channels,
    order_lines,
    orders,
    products,
    reservations,
    stock,
    warehouses,
)
from potok.domain.errors import MissingReference, StillReferenced
from potok.services import intake
from tests.factories import TESTER, build_world, order_command
from tests.racing import RACE_LIMIT, RACE_TIMEOUT


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


# ---------------------------------------------------------------------- checked per statement


def _line(order_id: int, product_id: int) -> sa.Insert:
    return sa.insert(order_lines).values(
        order_id=order_id,
        line_no=9,
        product_id=product_id,
        sku="BKS",
        name="ABC book",
        quantity=1,
        unit_price="450.00",
        vat_rate="10",
        total="450.00",
    )


def _book(potok: Potok) -> int:
    """The ABC book: on no order, no stock."""
    with potok.engine.connect() as connection:
        return int(
            connection.execute(sa.select(products.c.id).where(products.c.sku == "BKS")).scalar_one()
        )


def test_a_line_for_a_product_that_is_not_there_is_refused(potok: Potok, backend: str) -> None:
    held = _reserved(potok)

    with pytest.raises(MissingReference) as raised, potok.uow() as uow:
        uow.connection.execute(_line(held.order_id, 987654))

    if backend == "postgresql":  # SQLite does not name the constraint
        assert raised.value.context["constraint"] == "fk_order_lines_product_id_products"
        assert raised.value.context["refers_to"] == "products"


def test_an_order_for_a_channel_that_is_not_there_is_refused(potok: Potok, backend: str) -> None:
    _reserved(potok)

    with pytest.raises(MissingReference) as raised, potok.uow() as uow:
        uow.connection.execute(sa.update(orders).values(channel_id=987654))

    if backend == "postgresql":
        assert raised.value.context["constraint"] == "fk_orders_channel_id_channels"


def test_a_channel_or_product_on_orders_is_not_deleted(potok: Potok) -> None:
    _reserved(potok)
    for parent, key in (
        (channels, sa.select(orders.c.channel_id).scalar_subquery()),
        (products, sa.select(order_lines.c.product_id).scalar_subquery()),
    ):
        with pytest.raises(StillReferenced) as raised, potok.uow() as uow:
            uow.connection.execute(sa.delete(parent).where(parent.c.id == key))
        assert raised.value.context["table"] == parent.name


def _blocked_or_done(potok: Potok, pid: list[int], racer: Future[None]) -> None:
    """Until the racer (its backend ``pid``, once known) waits for a lock, or has finished
    without waiting."""
    deadline = time.monotonic() + RACE_TIMEOUT
    with potok.engine.connect() as connection:
        while not racer.done():
            if (
                pid
                and connection.execute(
                    sa.text(
                        "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"
                    ),
                    {"pid": pid[0]},
                ).scalar()
            ):
                return
            connection.rollback()
            assert time.monotonic() < deadline, "the racer neither waited nor finished"
            time.sleep(0.01)


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_product_deleted_while_an_order_line_names_it_waits_and_is_refused(
    potok: Potok,
) -> None:
    """A line for the book is written and not committed yet; the book's deletion waits for it
    (it would not see the line otherwise), then sees it and is refused."""
    held = _reserved(potok)
    book = _book(potok)
    with potok.engine.connect() as writer, ThreadPoolExecutor(1) as pool:
        writer.execute(_line(held.order_id, book))
        deleter_pid: list[int] = []

        def delete() -> None:
            with potok.uow() as uow:
                deleter_pid.append(
                    uow.connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
                )
                uow.connection.execute(sa.delete(products).where(products.c.id == book))
                uow.commit()

        deleting = pool.submit(delete)
        _blocked_or_done(potok, deleter_pid, deleting)
        writer.commit()
        with pytest.raises(StillReferenced):
            deleting.result(timeout=RACE_TIMEOUT)

    assert _book(potok) == book


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_line_written_while_its_product_is_deleted_waits_and_is_refused(
    potok: Potok,
) -> None:
    """The book is deleted and not committed yet; a line for it waits for the deletion (its
    check would see the book otherwise), then sees the book gone and is refused."""
    held = _reserved(potok)
    book = _book(potok)
    with potok.engine.connect() as deleter, ThreadPoolExecutor(1) as pool:
        deleter.execute(sa.delete(products).where(products.c.id == book))
        writer_pid: list[int] = []

        def write() -> None:
            with potok.uow() as uow:
                writer_pid.append(
                    uow.connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
                )
                uow.connection.execute(_line(held.order_id, book))
                uow.commit()

        writing = pool.submit(write)
        _blocked_or_done(potok, writer_pid, writing)
        deleter.commit()
        with pytest.raises(MissingReference):
            writing.result(timeout=RACE_TIMEOUT)

    with potok.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(order_lines)).scalar() == 1
