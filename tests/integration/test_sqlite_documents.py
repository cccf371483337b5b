"""SQLite's commit writes each table's rows as one JSON document (db/lite.py): what it
stores must be what an ordinary insert through SQLAlchemy stores, value and type, and a
reservation beyond the stock must fail whole."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from potok.db import lite
from potok.db.engine import create_engine
from potok.db.pg import StagedReservation
from potok.db.tables import (
    channels,
    order_history,
    orders,
    outbox_events,
    products,
    stock,
    warehouses,
)
from potok.domain.errors import TransientConflict
from potok.domain.kernel import StockId
from potok.settings import DatabaseSettings

AT = datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=UTC)

SECTIONS: list[tuple[sa.Table, list[dict[str, Any]]]] = [
    (
        channels,
        [
            {
                "code": "web",
                "name": "Сайт «Поток»",
                "type": "web",
                "currency": "RUB",
                "confirmation": "auto",
                "backorders": "backorder",
                "safety_buffer": 0,
                "payment_deadline_minutes": None,
                "active": True,
                "created_at": AT,
                "updated_at": AT,
            }
        ],
    ),
    (
        orders,
        [
            {
                "id": 7,
                "channel_id": 1,
                "external_id": "A-7",
                "state": "confirmed",
                "allocation": "reserved",
                "payment_status": "paid",
                "status": "confirmed",
                "currency": "RUB",
                "subtotal": Decimal("1234.56"),
                "delivery_price": Decimal("0.10"),
                "delivery_vat_rate": Decimal("22"),
                "vat_total": Decimal("222.63"),
                "total": Decimal("1234.66"),
                "customer_name": "",
                "delivery_method": "courier",
                "address_city": "Москва",
                "address_line1": 'ул. "Тверская", 1\\2',
                "destination_latitude": 55.75,
                "destination_longitude": 37,
                "priority": 0,
                "comment": "",
                "version": 1,
                "created_at": AT,
                "updated_at": AT,
            }
        ],
    ),
    (
        order_history,
        [
            {
                "order_id": 7,
                "occurred_at": AT,
                "actor": "api_key:bench",
                "action": action,
                "reason": None,
                "from_status": None,
                "to_status": "confirmed",
                "details": {"channel": "web", "lines": [1, 2.5, None], "ключ": "значение"},
            }
            for action in ("created", "confirmed", "reserved")
        ],
    ),
    (
        outbox_events,
        [
            {
                "event_id": "00000000-0000-0000-0000-000000000001",
                "type": "order.created",
                "aggregate_type": "order",
                "aggregate_id": "7",
                "payload": {"order_id": 7, "total": "1234.66"},
                "occurred_at": AT,
            }
        ],
    ),
]


def _copy(template: Path, tmp_path: Path, name: str) -> sa.Engine:
    path = tmp_path / name
    path.write_bytes(template.read_bytes())
    return create_engine(DatabaseSettings(url=f"sqlite:///{path}"))


def _stored(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table, _ in SECTIONS:
            columns = ", ".join(f'typeof("{c.name}"), "{c.name}"' for c in table.c)
            found[table.name] = [
                tuple(row)
                for row in connection.exec_driver_sql(
                    f'SELECT {columns} FROM "{table.name}" ORDER BY rowid'
                )
            ]
    return found


def test_a_document_stores_what_an_ordinary_insert_stores(
    sqlite_template: Path, tmp_path: Path
) -> None:
    ordinary, documented = (
        _copy(sqlite_template, tmp_path, "ordinary.db"),
        _copy(sqlite_template, tmp_path, "document.db"),
    )
    with ordinary.begin() as connection:
        for table, rows in SECTIONS:
            connection.execute(sa.insert(table), rows)
    with documented.begin() as connection:
        lite.write_document(connection, SECTIONS)

    expected, got = _stored(ordinary), _stored(documented)
    assert got == expected
    assert len(got["order_history"]) == 3
    ordinary.dispose()
    documented.dispose()


def _stocked(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.insert(channels), SECTIONS[0][1])
        connection.execute(
            sa.insert(warehouses),
            [
                {
                    "code": "MSK-1",
                    "name": "Склад",
                    "type": "warehouse",
                    "city": "Москва",
                    "address": "",
                    "latitude": 55.75,
                    "longitude": 37.61,
                    "priority": 0,
                    "active": True,
                    "created_at": AT,
                    "updated_at": AT,
                }
            ],
        )
        connection.execute(
            sa.insert(products),
            [
                {
                    "sku": f"SKU-{n}",
                    "name": f"Товар {n}",
                    "price": "100.00",
                    "vat_rate": "22",
                    "weight_g": 500,
                    "active": True,
                    "created_at": AT,
                    "updated_at": AT,
                }
                for n in (1, 2)
            ],
        )
        connection.execute(
            sa.insert(stock),
            [
                {"warehouse_id": 1, "product_id": p, "on_hand": 3, "reserved": 0, "updated_at": AT}
                for p in (1, 2)
            ],
        )


def _reserved(engine: sa.Engine) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        return [
            (row.id, row.reserved)
            for row in connection.execute(
                sa.select(stock.c.id, stock.c.reserved).order_by(stock.c.id)
            )
        ]


def test_stock_staged_for_reservation_is_added_or_refused_whole(
    sqlite_template: Path, tmp_path: Path
) -> None:
    engine = _copy(sqlite_template, tmp_path, "stock.db")
    _stocked(engine)
    reserving = StagedReservation()
    reserving.add({StockId(1): 2, StockId(2): 3}, AT)
    with engine.begin() as connection:
        lite.write_document(connection, [], reserving)
    assert _reserved(engine) == [(1, 2), (2, 3)]

    more = StagedReservation()
    more.add({StockId(1): 1, StockId(2): 1}, AT)  # the second position has none left
    with pytest.raises(TransientConflict), engine.begin() as connection:
        lite.write_document(connection, [], more)
    assert _reserved(engine) == [(1, 2), (2, 3)]
    engine.dispose()
