"""Connections dropped under Potok (a restarted or failed-over PostgreSQL, a killed
session) are answered as ``Unavailable`` (503, retry), never as an unexpected error, and
the pool recovers: the next order is taken."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.errors import Unavailable
from potok.services import intake
from tests.factories import TESTER, build_world, order_command


def _drop_every_connection(potok: Potok) -> None:
    """Kill every connection in this process's pool (as a restart of PostgreSQL would) and
    none of anybody else's: other tests share the database and keep pools of their own."""
    pool = potok.engine.pool
    idle = pool.checkedin()  # type: ignore[attr-defined]
    held = [potok.engine.connect() for _ in range(idle)]  # the pooled ones, none new
    pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c in held]
    for connection in held:
        connection.rollback()
        connection.close()
    assert pids, "the pool held no connection to drop"
    admin = sa.create_engine(potok.engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"),
            {"pids": pids},
        )
        connection.commit()
    admin.dispose()


def test_an_order_on_a_dropped_connection_is_unavailable_then_taken(potok: Potok) -> None:
    if potok.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no connections to drop")
    build_world(potok, {("MSK", "KET"): 5})
    intake.place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
    _drop_every_connection(potok)

    outcomes = []
    for _ in range(40):  # the pool holds up to 40 connections, each dead once
        try:
            placed = intake.place_order(potok.uow(), order_command([("KET", 1)]), TESTER)
        except Unavailable:
            outcomes.append("unavailable")
            continue
        assert isinstance(placed, intake.Placement)
        outcomes.append("placed")
        break

    assert outcomes[-1] == "placed"
    assert set(outcomes[:-1]) <= {"unavailable"}
