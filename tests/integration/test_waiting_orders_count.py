"""The dashboard's count of the orders waiting for an operator (new, on hold, backordered):
right on both databases, and on PostgreSQL served by the partial index of those statuses
even under a generic plan - which can use that index only when the statuses are written
into the statement, not sent as parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg.sql import Literal

from potok.bootstrap import Potok
from potok.domain.orders import HoldType
from potok.domain.orders.commands import PlaceHold
from potok.services import intake
from potok.services import orders as order_service
from potok.services.dashboard import dashboard
from potok.services.read_models import OrderFilter
from tests.factories import TESTER, build_world, order_command


def _place(potok: Potok, channel: str, sku: str) -> int:
    placed = intake.place_order(potok.uow(), order_command([(sku, 1)], channel=channel), TESTER)
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    return placed.order.id


def _waiting_world(potok: Potok) -> None:
    """Of five orders, three wait for an operator, one in each status."""
    build_world(potok, {("MSK", "KET"): 2})
    _place(potok, "web", "KET")  # reserved
    _place(potok, "phone", "KET")  # new: the call centre confirms by hand
    held = _place(potok, "web", "KET")  # reserved, then held
    order_service.place_hold(potok.uow(), PlaceHold(held, HoldType.MANUAL, "call back"), TESTER)
    _place(potok, "web", "MUG")  # backordered: no mugs anywhere
    _place(potok, "web", "KET")  # backordered too: the kettles are gone


def test_the_dashboard_counts_the_orders_waiting_for_an_operator(potok: Potok) -> None:
    _waiting_world(potok)
    today = datetime.now(UTC) - timedelta(days=1)

    every = dashboard(potok.uow(), OrderFilter(), since=today)
    phone = dashboard(potok.uow(), OrderFilter(channels=("phone",)), since=today)

    assert every.waiting == {"new": 1, "on_hold": 1, "backordered": 2}
    assert phone.waiting == {"new": 1, "on_hold": 0, "backordered": 0}
    assert sum(c.count for c in every.today) == 5


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _generic_plan(raw: psycopg.Connection[Any], sql: str, parameters: dict[str, Any]) -> str:
    """The plan PostgreSQL keeps for ``sql`` as a prepared statement: made once without the
    values (``force_generic_plan``, as Potok's sessions plan), sequential scans refused so
    that any index the statement can use shows."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = _PLACEHOLDER.sub(number, sql)
    values = ", ".join(Literal(parameters[n]).as_string(raw) for n in names)
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE waiting_count AS {prepared}")
        try:
            cursor.execute(f"EXPLAIN EXECUTE waiting_count{f'({values})' if values else ''}")
            return "\n".join(str(row[0]) for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE waiting_count")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_waiting_count_reads_the_partial_index_under_a_generic_plan(potok: Potok) -> None:
    _waiting_world(potok)
    sent: list[tuple[str, dict[str, Any]]] = []

    def seen(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "count(" in statement and "GROUP BY" in statement:
            sent.append((statement, parameters))

    sa.event.listen(potok.engine, "before_cursor_execute", seen)
    try:
        dashboard(potok.uow(), OrderFilter(), since=datetime.now(UTC))
    finally:
        sa.event.remove(potok.engine, "before_cursor_execute", seen)
    waiting = [(sql, p) for sql, p in sent if "'on_hold'" in sql or "status IN" in sql]
    assert len(waiting) == 1, sent

    with potok.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        plan = _generic_plan(raw, *waiting[0])
        connection.rollback()

    assert "ix_orders_waiting" in plan, plan
