"""Per-key rate limits on PostgreSQL are one bucket in the database, however many API
processes take from it: two limiters (two processes) together let no more through than the
key's minute allows, and a busy key costs a statement per batch, not per request."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from potok.api.security import SharedRateLimiter
from potok.bootstrap import Potok
from potok.db.tables import api_key_buckets
from potok.domain.access import ApiKey, Permission
from potok.services import access
from tests.conftest import key_for


def the_key(potok: Potok, name: str) -> ApiKey:
    return next(k for k in access.list_api_keys(potok.uow()) if k.name == name)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_processes_together_let_through_no_more_than_the_keys_limit(potok: Potok) -> None:
    key_for(potok, Permission.ORDERS_READ, name="shop", rate_limit=60)
    key = the_key(potok, "shop")
    first, second = SharedRateLimiter(potok.engine), SharedRateLimiter(potok.engine)

    started = time.monotonic()
    waits = [(first if n % 2 else second).take(key) for n in range(200)]
    took = time.monotonic() - started

    let_through = waits.count(0.0)
    # 60 in the bucket, refilled at one a second while the loop ran
    assert 60 <= let_through <= 60 + int(took) + 1
    assert all(0 < wait <= 1.0 for wait in waits if wait)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_busy_key_takes_its_tokens_a_second_at_a_time(potok: Potok) -> None:
    key_for(potok, Permission.ORDERS_READ, name="shop", rate_limit=6000)  # 100 a second
    key = the_key(potok, "shop")
    limiter = SharedRateLimiter(potok.engine)

    assert all(limiter.take(key, now=0.0) == 0.0 for _ in range(250))

    with potok.engine.connect() as connection:
        tokens, granted = connection.execute(
            sa.select(api_key_buckets.c.tokens, api_key_buckets.c.granted)
        ).one()
    assert granted == 100  # the third batch of a hundred
    assert 5700 <= tokens < 5800  # 6000 less three batches, refilled for the test's time
