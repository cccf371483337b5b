"""Intake's statements stay prepared on PostgreSQL, and a busy key costs one statement per
batch however many requests want it at once.

psycopg prepares a statement run a few times on a connection and drops every statement it
prepared there when the connection rolls back; a read-only unit of work (an API key's
look-up, any read) used to end with ROLLBACK, so intake's two statements were parsed and
planned afresh for a while after each. And when a key's batch of rate-limit tokens (or its
cached look-up) ran out, every request in flight went to the database for its own.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from potok.api.security import KeyCache, SharedRateLimiter
from potok.bootstrap import Potok, bootstrap
from potok.db import rate_limits
from potok.db.repositories.intake import PG_ID_SEQUENCES
from potok.domain.access import Permission
from potok.services import access, intake
from potok.services.unit_of_work import reading
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_shared_rate_limits import the_key
from tests.racing import RACE_LIMIT, start_line

RACERS = 16


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_read_only_unit_of_work_keeps_the_prepared_statements(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 100})
    settings = potok.settings.model_copy(deep=True)
    settings.db.pool_size, settings.db.max_overflow = 1, 0  # every unit of work: one connection
    alone = bootstrap(settings)

    def prepared() -> set[str]:
        uow = alone.uow()
        with uow.read():
            rows = uow.connection.exec_driver_sql("SELECT name FROM pg_prepared_statements")
            return {str(name) for (name,) in rows}

    try:
        for n in range(6):  # psycopg prepares a statement on its fifth run
            placed = intake.place_order(
                alone.uow(), order_command([("KET", 1)], external_id=f"p-{n}"), TESTER
            )
            assert isinstance(placed, intake.Placement)
        before = prepared()
        assert len(before) >= 2  # intake's read and its commit
        reading(alone.uow(), lambda uow: uow.orders.get(placed.order.id))
        assert prepared() >= before
    finally:
        alone.close()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_snapshot_names_the_identity_sequences_of_its_tables(potok: Potok) -> None:
    with potok.engine.connect() as connection:
        for table, sequence in PG_ID_SEQUENCES.items():
            found = connection.execute(
                sa.select(sa.func.pg_get_serial_sequence(table, "id"))
            ).scalar_one()
            assert found == f"public.{sequence}"


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_requests_racing_for_a_keys_next_batch_cost_one_statement(
    potok: Potok, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import key_for

    key_for(potok, Permission.ORDERS_WRITE, name="shop", rate_limit=6000)  # 100 a second
    key = the_key(potok, "shop")
    limiter = SharedRateLimiter(potok.engine)
    takes: Counter[str] = Counter()
    original = rate_limits.take

    def counted(*args: Any, **kwargs: Any) -> tuple[int, float]:
        takes["statements"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(rate_limits, "take", counted)
    start = start_line(RACERS)

    def spend(_: int) -> float:
        start.wait()
        return limiter.take(key, now=0.0)

    with ThreadPoolExecutor(RACERS) as pool:
        waits = list(pool.map(spend, range(RACERS)))

    assert waits == [0.0] * RACERS
    assert takes["statements"] == 1  # one batch of 100 for all 16


@RACE_LIMIT
@pytest.mark.parametrize("backend", ["postgresql"])
def test_requests_racing_with_a_key_not_remembered_look_it_up_once(potok: Potok) -> None:
    from tests.conftest import key_for

    secret = key_for(potok, Permission.ORDERS_WRITE, name="shop")
    cache = KeyCache(60)
    looked_up: Counter[str] = Counter()
    start = start_line(RACERS)

    def look_up() -> Any:
        looked_up["times"] += 1
        return access.key_principal(potok.uow(), secret)

    def resolve(_: int) -> str:
        start.wait()
        found = cache.fetch(secret, look_up)
        assert found is not None
        return found[1].name

    with ThreadPoolExecutor(RACERS) as pool:
        names = list(pool.map(resolve, range(RACERS)))

    assert names == ["shop"] * RACERS
    assert looked_up["times"] == 1
