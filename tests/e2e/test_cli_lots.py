"""``potok stock import`` with lots and serial numbers, and ``potok stock expiring``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.kernel import Tracking
from potok.services import catalogue
from tests.e2e.test_cli import place, potok_cli, table_rows, write_csv
from tests.factories import MOSCOW, PRODUCTS, build_world
from tests.invariants import assert_stock_invariants


def _track(potok: Potok, sku: str, tracking: Tracking) -> None:
    product = next(p for p in PRODUCTS if p.sku == sku)
    catalogue.replace_product(potok.uow(), sku, replace(product, tracking=tracking))


def _lots(potok: Potok) -> dict[tuple[str, str | None], tuple[int, str | None]]:
    with potok.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT w.code, l.number, s.on_hand, l.expires_on FROM stock s "
                "JOIN warehouses w ON w.id = s.warehouse_id "
                "JOIN products p ON p.id = s.product_id "
                "LEFT JOIN lots l ON l.id = s.lot_id WHERE p.sku = 'KET'"
            )
        ).all()
    return {
        (code, lot): (on_hand, str(expires) if expires else None)
        for code, lot, on_hand, expires in rows
    }


def _serials(potok: Potok) -> dict[str, str]:
    with potok.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT serial, status FROM serials")).all()
    return {str(serial): str(status) for serial, status in rows}


def test_stock_import_creates_lots_and_sets_each_lots_level(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    _track(potok, "KET", Tracking.LOT)
    file = write_csv(
        tmp_path,
        "warehouse,sku,on_hand,lot,produced_on,expires_on\n"
        "MSK,KET,10,L1,2026-01-01,2027-01-01\n"
        "MSK,KET,4,L2,,2027-06-01\n"
        "SPB,KET,3,L1,2026-01-01,2027-01-01\n"
        "SPB,MUG,5,,,\n",
    )

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 0, result.output
    assert _lots(potok) == {
        ("MSK", "L1"): (10, "2027-01-01"),
        ("MSK", "L2"): (4, "2027-06-01"),
        ("SPB", "L1"): (3, "2027-01-01"),
    }
    assert_stock_invariants(potok)
    reconcile = potok_cli(database_url, "stock", "reconcile")
    assert reconcile.exit_code == 0, reconcile.output


def test_stock_import_refuses_a_lot_tracked_row_without_its_lot(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    _track(potok, "KET", Tracking.LOT)
    file = write_csv(tmp_path, "warehouse,sku,on_hand,lot\nMSK,KET,10,\nSPB,MUG,5,X\n")

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 3, result.output
    assert "lot" in result.output
    assert _lots(potok) == {}


def test_stock_import_of_serials_puts_those_units_on_hand(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    _track(potok, "KET", Tracking.SERIAL)
    first = write_csv(tmp_path, "warehouse,sku,on_hand,serials\nMSK,KET,3,A1;A2;A3\n")
    assert potok_cli(database_url, "stock", "import", str(first)).exit_code == 0

    second = write_csv(tmp_path, "warehouse,sku,on_hand,serials\nMSK,KET,2,A1;B9\n", "b.csv")
    result = potok_cli(database_url, "stock", "import", str(second))

    assert result.exit_code == 0, result.output
    assert _serials(potok) == {
        "A1": "in_stock",
        "A2": "written_off",
        "A3": "written_off",
        "B9": "in_stock",
    }
    assert_stock_invariants(potok)


def test_stock_expiring_lists_lots_that_expire_soon(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    _track(potok, "KET", Tracking.LOT)
    today = datetime.now(UTC).date()
    file = write_csv(
        tmp_path,
        "warehouse,sku,on_hand,lot,expires_on\n"
        f"MSK,KET,10,SOON,{today + timedelta(days=3)}\n"
        f"MSK,KET,4,LATER,{today + timedelta(days=90)}\n",
    )
    assert potok_cli(database_url, "stock", "import", str(file)).exit_code == 0

    result = potok_cli(database_url, "stock", "expiring", "--within-days", "30")

    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert [(r[0], r[1], r[2], r[4], r[5]) for r in rows] == [("MSK", "KET", "SOON", "3", "10")]


def test_orders_show_names_the_lot_of_each_reservation(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    _track(potok, "KET", Tracking.LOT)
    file = write_csv(tmp_path, "warehouse,sku,on_hand,lot,expires_on\nMSK,KET,5,L7,2099-01-01\n")
    assert potok_cli(database_url, "stock", "import", str(file)).exit_code == 0
    order_id = place(potok, [("KET", 2)], to=MOSCOW)

    result = potok_cli(database_url, "orders", "show", str(order_id))

    assert result.exit_code == 0, result.output
    assert ["1", "MSK", "KET", "2", "open", "L7", ""] in table_rows(result.stdout)
