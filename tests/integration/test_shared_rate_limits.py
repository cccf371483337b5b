"""Per-key rate limits on PostgreSQL are one bucket in the database, however many API
processes take from it: two limiters (two processes) together let no more through than the
key's minute allows, and a busy key costs a statement per batch, not per request. And an
API process that cannot hear of revoked keys trusts none it remembers."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from potok.api.security import SharedRateLimiter
from potok.bootstrap import Potok, bootstrap
from potok.db import key_changes
from potok.db.tables import api_key_buckets, api_keys
from potok.domain.access import ApiKey, Permission
from potok.services import access
from tests.conftest import key_for, start_server
from tests.integration.test_dispatcher_workers import wait_until


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


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_revocation_missed_while_not_listening_does_not_keep_the_key_alive(
    potok: Potok, database_url: str
) -> None:
    """The connection an API process listens on is cut; a key is revoked meanwhile with no
    notification reaching that process. The key it remembered must not be trusted."""
    server_potok = bootstrap(potok.settings.model_copy(deep=True))
    server_potok.settings.security.key_cache_seconds = 60  # would trust it for a minute
    server = start_server(server_potok)
    try:
        wait_until(lambda: listening_backends(potok), 30, "the key listener")
        secret = key_for(potok, Permission.ORDERS_READ, name="shop")
        auth = {"Authorization": f"Bearer {secret}"}
        with server.client(headers=auth) as client:
            assert client.get("/api/v1/orders").status_code == 200  # remembered now

            # every listener of this database cut (other test servers' too: they connect
            # again), the key revoked behind every process's back: no NOTIFY
            cut = listening_backends(potok)
            with potok.engine.begin() as connection:
                for pid in cut:
                    connection.execute(sa.select(sa.func.pg_terminate_backend(pid)))
                connection.execute(
                    sa.update(api_keys)
                    .where(api_keys.c.name == "shop")
                    .values(revoked_at=sa.func.now(), revoked_by="tests")
                )

            def listening_again() -> bool:
                now = listening_backends(potok)
                return len(now) >= len(cut) and not now & cut

            wait_until(listening_again, 30, "every listener to connect again")

            assert client.get("/api/v1/orders").status_code == 401
    finally:
        server.stop()
        server_potok.close()


def listening_backends(potok: Potok) -> set[int]:
    """The pids of the API key listeners' connections to this database."""
    with potok.engine.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = :name "
                "AND datname = current_database()"
            ),
            {"name": key_changes.APPLICATION},
        ).scalars()
        return {int(pid) for pid in found}
