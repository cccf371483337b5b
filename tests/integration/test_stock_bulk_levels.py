"""Bulk stock levels (``PUT /stock/levels`` and stock files) on SQLite and PostgreSQL.

PostgreSQL sets an upload's levels with two statements that write the ledger and the
outbox themselves; SQLite records a ``StockChanged`` per row as every other use case does.
These tests hold both to the same rows, written out here: the same movement and event
payload for each change, one audit row for the whole upload (``stock.synced``), the same
refusal of a stale expected level, also when two uploads race for one position.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import audit_log, outbox_events, products, stock_movements, warehouses
from potok.domain.catalogue import ProductDraft
from potok.domain.inventory import MovementType
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.inventory.errors import BulkRejected
from potok.domain.orders import AllocationState
from potok.services import catalogue, inventory, orders, stock_files
from potok.services.file_imports import FileRejected
from potok.services.intake import Placement, place_order
from potok.services.ports import AuditContext
from potok.spreadsheets import FileFormat
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants
from tests.racing import RACE_LIMIT, sessions_wait_for_locks

AT = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


def levels(potok: Potok) -> dict[tuple[str, str], tuple[int, int]]:
    page = inventory.list_levels(potok.uow(), limit=1000)
    return {(r.warehouse, r.sku): (r.on_hand, r.reserved) for r in page.items}


def changes(potok: Potok) -> list[tuple[dict[str, object], str]]:
    """Every ``stock.changed`` event in outbox order: payload and aggregate id."""
    with potok.engine.connect() as connection:
        events = connection.execute(
            sa.select(outbox_events.c.payload, outbox_events.c.aggregate_id)
            .where(outbox_events.c.type == "stock.changed")
            .order_by(outbox_events.c.id)
        ).all()
    return [(e.payload, e.aggregate_id) for e in events]


def audit_trail(potok: Potok) -> list[tuple[str, str, str, dict[str, object] | None]]:
    """The audit rows of changes made at ``AT``: actor, action, entity and ``after``."""
    with potok.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                audit_log.c.actor, audit_log.c.action, audit_log.c.entity_id, audit_log.c.after
            )
            .where(audit_log.c.occurred_at == AT)
            .order_by(audit_log.c.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def synced(rows: int, changed: int, created: int, sha256: str | None = None) -> dict[str, object]:
    """The ``after`` of an upload's one audit row (the ``stock.synced`` payload)."""
    return {
        "occurred_at": "2026-12-07T10:30:00+00:00",
        "source": "file",
        "rows": rows,
        "changed": changed,
        "created": created,
        "movement": "import",
        "reference": "count.xlsx",
        "file_sha256": sha256,
    }


def ledger(potok: Potok) -> list[tuple[str, str, str, int, int, str, str | None, str]]:
    with potok.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                warehouses.c.code,
                products.c.sku,
                stock_movements.c.type,
                stock_movements.c.quantity,
                stock_movements.c.on_hand_after,
                stock_movements.c.reason,
                stock_movements.c.reference,
                stock_movements.c.actor,
            )
            .join(warehouses, warehouses.c.id == stock_movements.c.warehouse_id)
            .join(products, products.c.id == stock_movements.c.product_id)
            .where(stock_movements.c.occurred_at == AT)
            .order_by(stock_movements.c.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def payload(
    warehouse: str, sku: str, quantity: int, on_hand: int, reserved: int = 0
) -> dict[str, object]:
    return {
        "occurred_at": "2026-12-07T10:30:00+00:00",
        "warehouse": warehouse,
        "sku": sku,
        "movement": "import",
        "quantity": quantity,
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "reason": "file level",
        "reference": "count.xlsx",
        "unavailable": 0,
        "unavailable_change": 0,
        "lot": None,
        "expires_on": None,
    }


def upload(potok: Potok, rows: list[LevelRow]) -> inventory.LevelsApplied:
    command = SetLevels(rows, source="file", reference="count.xlsx", movement=MovementType.IMPORT)
    return inventory.set_levels(potok.uow(), command, TESTER, clock=lambda: AT)


def test_each_change_leaves_its_movement_and_event_and_the_upload_one_audit_row(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 2})

    applied = upload(
        potok,
        [
            LevelRow("SPB", "MUG", 2),  # as it is: nothing written
            LevelRow("MSK", "KET", 7),
            LevelRow("KZN", "TOY", 4),  # a new position
            LevelRow("KZN", "KET", 0),  # a new position at zero: created, not moved
        ],
    )

    assert (applied.rows, applied.changed, applied.created) == (4, 2, 2)
    expected = [payload("MSK", "KET", 4, 7), payload("KZN", "TOY", 4, 4)]
    assert changes(potok)[-2:] == [(expected[0], "MSK/KET"), (expected[1], "KZN/TOY")]
    assert ledger(potok) == [
        ("MSK", "KET", "import", 4, 7, "file level", "count.xlsx", "user:tester"),
        ("KZN", "TOY", "import", 4, 4, "file level", "count.xlsx", "user:tester"),
    ]
    assert levels(potok) == {
        ("MSK", "KET"): (7, 0),
        ("SPB", "MUG"): (2, 0),
        ("KZN", "TOY"): (4, 0),
        ("KZN", "KET"): (0, 0),
    }
    # the audit trail: one row for the upload, none for each of its changes
    assert audit_trail(potok) == [("system:potok", "stock.synced", "file", synced(4, 2, 2))]
    assert upload(potok, [LevelRow("MSK", "KET", 7), LevelRow("KZN", "TOY", 4)]).changed == 0
    assert len(ledger(potok)) == 2
    assert audit_trail(potok)[-1] == ("system:potok", "stock.synced", "file", synced(2, 0, 0))
    assert_stock_invariants(potok)


def test_a_level_under_what_is_reserved_takes_it_back_beside_rows_set_in_bulk(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 1, ("SPB", "KET"): 2, ("MSK", "MUG"): 1})
    placed = place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
    assert isinstance(placed, Placement)
    assert {r.warehouse_code for r in placed.order.open_reservations} == {"MSK"}

    applied = upload(
        potok,
        [
            LevelRow("MSK", "MUG", 6),
            LevelRow("MSK", "KET", 0),  # under the order's reservation
            LevelRow("KZN", "TOY", 3),
        ],
    )

    assert (applied.changed, applied.created) == (3, 1)
    assert applied.orders_resourced == [placed.order.id]
    order = orders.get_order(potok.uow(), placed.order.id or 0).order
    assert order.allocation is AllocationState.RESERVED
    assert {r.warehouse_code for r in order.open_reservations} == {"SPB"}
    assert levels(potok) == {
        ("MSK", "KET"): (0, 0),
        ("SPB", "KET"): (2, 1),
        ("MSK", "MUG"): (6, 0),
        ("KZN", "TOY"): (3, 0),
    }
    assert sorted(m[:5] for m in ledger(potok)) == [
        ("KZN", "TOY", "import", 3, 3),
        ("MSK", "KET", "import", -1, 0),
        ("MSK", "MUG", "import", 5, 6),
    ]
    told = {aggregate: body for body, aggregate in changes(potok)[-3:]}
    assert told["MSK/KET"] == payload("MSK", "KET", -1, 0)
    assert told["MSK/MUG"] == payload("MSK", "MUG", 5, 6)
    # the row set one by one is audited by the upload's row too, not on its own
    actions = [action for _, action, _, _ in audit_trail(potok)]
    assert actions.count("stock.synced") == 1
    assert "stock.changed" not in actions
    assert_stock_invariants(potok)


def test_a_stale_expected_level_refuses_the_upload_and_names_each_stale_row(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 1})

    with pytest.raises(BulkRejected) as caught:
        upload(
            potok,
            [
                LevelRow("MSK", "KET", 9, expected_on_hand=3),  # right
                LevelRow("SPB", "MUG", 4, expected_on_hand=2),  # Potok has 1
                LevelRow("KZN", "TOY", 1, expected_on_hand=5),  # Potok has none
            ],
        )

    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("rows[1].expected_on_hand", "count-mismatch"),
        ("rows[2].expected_on_hand", "count-mismatch"),
    ]
    assert "Potok has 1 on hand, not 2" in caught.value.errors[0].message
    assert levels(potok) == {("MSK", "KET"): (3, 0), ("SPB", "MUG"): (1, 0)}
    assert ledger(potok) == []


@RACE_LIMIT
def test_two_files_expecting_the_same_level_race_and_only_one_sets_it(
    potok: Potok, backend: str
) -> None:
    """Two counts of one shelf, both taken when it held 3, arrive at once: the first sets
    its level, the second finds 3 gone and changes nothing (compare-and-set). On
    PostgreSQL a third session holds the position's row until both uploads wait for it,
    so that they overlap for certain."""
    build_world(potok, {("MSK", "KET"): 3})
    outcomes: list[str] = []
    lock = threading.Lock()

    def send(level: int) -> None:
        text = f"warehouse,sku,on_hand,expected_on_hand\nMSK,KET,{level},3\n"
        try:
            stock_files.import_levels(
                potok.uow(), io.BytesIO(text.encode()), FileFormat.CSV, TESTER, reference="c"
            )
        except FileRejected as error:
            with lock:
                outcomes.append(f"refused {[(p.row, p.column) for p in error.problems]}")
            return
        with lock:
            outcomes.append(f"set {level}")

    with potok.engine.connect() as holder:
        if backend == "postgresql":
            holder.execute(
                sa.text(
                    "SELECT s.id FROM stock s JOIN warehouses w ON w.id = s.warehouse_id"
                    " WHERE w.code = 'MSK' FOR UPDATE OF s"
                )
            )
        with ThreadPoolExecutor(2) as pool:
            racing = [pool.submit(send, level) for level in (5, 8)]
            try:
                if backend == "postgresql":
                    assert sessions_wait_for_locks(potok.engine, 2), "the uploads never waited"
            finally:
                holder.rollback()
            for racer in racing:
                racer.result(timeout=120)

    assert sorted(o.split()[0] for o in outcomes) == ["refused", "set"]
    assert "refused [(2, 'expected_on_hand')]" in outcomes
    won = next(int(o.split()[1]) for o in outcomes if o.startswith("set"))
    assert levels(potok) == {("MSK", "KET"): (won, 0)}
    with potok.engine.connect() as connection:
        imports = connection.execute(
            sa.select(stock_movements.c.on_hand_after).where(stock_movements.c.type == "import")
        ).all()
    assert [r.on_hand_after for r in imports] == [won]
    assert_stock_invariants(potok)


def test_an_upload_of_many_products_gives_a_waiting_order_its_stock(potok: Potok) -> None:
    # over 100 products grew: PostgreSQL looks the waiting orders up by one array
    build_world(potok)
    waiting = place_order(potok.uow(), order_command([("KET", 2)]), TESTER)
    assert isinstance(waiting, Placement)
    assert waiting.order.allocation is AllocationState.BACKORDERED
    for n in range(101):
        catalogue.create_product(
            potok.uow(),
            ProductDraft(f"BULK-{n:03d}", f"Item {n}", Decimal("10.00"), Decimal("22"), None, 100),
        )
    rows = [LevelRow("SPB", f"BULK-{n:03d}", 1) for n in range(101)] + [LevelRow("MSK", "KET", 2)]

    applied = upload(potok, rows)

    assert (applied.changed, applied.created) == (102, 102)
    assert applied.backorders_reserved == [waiting.order.id]
    assert levels(potok)[("MSK", "KET")] == (2, 2)
    assert_stock_invariants(potok)


def test_a_file_upload_is_audited_once_with_the_file_digest(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    text = b"warehouse,sku,on_hand\nMSK,KET,5\nKZN,MUG,2\n"

    operator = AuditContext(actor="user:anna", via="cli")
    summary, _ = stock_files.import_levels(
        potok.uow(operator), io.BytesIO(text), FileFormat.CSV, TESTER, reference="count.csv"
    )

    assert (summary.changed, summary.created) == (2, 1)
    with potok.engine.connect() as connection:
        trail = connection.execute(
            sa.select(audit_log.c.actor, audit_log.c.entity_id, audit_log.c.after)
            .where(audit_log.c.action.in_(["stock.synced", "stock.changed"]))
            .order_by(audit_log.c.id)
        ).all()
    # the receipt of build_world is audited on its own; the upload has one row
    assert [(r.actor, r.entity_id) for r in trail] == [
        ("system:potok", "MSK/KET"),
        ("user:anna", "file"),
    ]
    after = dict(trail[-1].after)
    assert after.pop("occurred_at")
    assert after == {
        "source": "file",
        "rows": 2,
        "changed": 2,
        "created": 1,
        "movement": "import",
        "reference": "count.csv",
        "file_sha256": "d14f6830d78bf8a1fca405a885130701ab5187e5d841fad9a93e61d865fc3f24",
    }
    # the pointer holds: the upload's ledger entries are its type and reference
    with potok.engine.connect() as connection:
        moved = connection.execute(
            sa.select(sa.func.count()).where(
                stock_movements.c.type == "import", stock_movements.c.reference == "count.csv"
            )
        ).scalar_one()
    assert moved == 2


def test_the_ledger_takes_a_movement_only_for_a_position_as_it_is(potok: Potok) -> None:
    """One key guards a movement's position, warehouse and product at once: a movement
    that names a position with another warehouse or product, or no position at all, is
    refused by the database itself."""
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 1})
    with potok.engine.connect() as connection:
        ids = dict(connection.execute(sa.select(warehouses.c.code, warehouses.c.id)).all())
        skus = dict(connection.execute(sa.select(products.c.sku, products.c.id)).all())
        position = connection.execute(
            sa.text("SELECT id FROM stock WHERE warehouse_id = :w AND product_id = :p"),
            {"w": ids["MSK"], "p": skus["KET"]},
        ).scalar_one()

    def movement(stock_id: int, warehouse: str, sku: str) -> dict[str, object]:
        return {
            "stock_id": stock_id,
            "warehouse_id": ids[warehouse],
            "product_id": skus[sku],
            "type": "import",
            "quantity": 1,
            "on_hand_after": 4,
            "actor": "user:tester",
            "occurred_at": AT,
        }

    for wrong in (
        movement(position, "SPB", "KET"),  # another warehouse than the position's
        movement(position, "MSK", "MUG"),  # another product
        movement(position + 1000, "MSK", "KET"),  # no such position
    ):
        with potok.engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
            connection.execute(sa.insert(stock_movements), [wrong])
    with potok.engine.begin() as connection:
        connection.execute(sa.insert(stock_movements), [movement(position, "MSK", "KET")])
    assert ledger(potok)[-1][:5] == ("MSK", "KET", "import", 1, 4)
