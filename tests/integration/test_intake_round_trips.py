"""What one order costs the database connection on PostgreSQL: round trips and statements.

The order path's speed on two cores is mostly waits for the server and statements it
runs (docs/architecture.md, the intake budget). These figures are read from libpq's own
protocol trace of every connection the server uses while it takes one order over HTTP:
a round trip is the client sending and then reading the server's answer (a change of
direction from frontend to backend messages), a statement is an Execute message.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import LiveServer, key_for
from tests.factories import build_world_api, order_body


@contextmanager
def protocol_trace(engine: sa.Engine) -> Iterator[list[str]]:
    """Every protocol message of the connections checked out meanwhile, in order per
    connection; the list is filled when the block ends.

    Meanwhile psycopg prepares nothing: it prepares a statement on its fifth run on a
    connection, with a round trip of its own for the Parse, once per connection and
    statement. Whether the traced order met that run depended on what earlier tests of
    the session had run on the server's pooled connections (one more round trip, or not,
    by the order of the tests); the steady state is prepared statements, one round trip
    each as unprepared ones (tests/integration/test_intake_prepared.py checks that they
    stay prepared)."""
    with tempfile.TemporaryDirectory() as folder:
        traces: list[tuple[int, Path]] = []
        thresholds: dict[int, int | None] = {}

        def checkout(dbapi_connection: Any, *_: Any) -> None:
            path = Path(folder) / f"{len(traces)}.trace"
            descriptor = os.open(path, os.O_CREAT | os.O_WRONLY)
            traces.append((descriptor, path))
            thresholds[id(dbapi_connection)] = dbapi_connection.prepare_threshold
            dbapi_connection.prepare_threshold = None
            dbapi_connection.pgconn.trace(descriptor)
            dbapi_connection.pgconn.set_trace_flags(
                psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE
            )

        def checkin(dbapi_connection: Any, *_: Any) -> None:
            dbapi_connection.pgconn.untrace()
            if id(dbapi_connection) in thresholds:
                dbapi_connection.prepare_threshold = thresholds.pop(id(dbapi_connection))

        sa.event.listen(engine, "checkout", checkout)
        sa.event.listen(engine, "checkin", checkin)
        lines: list[str] = []
        try:
            yield lines
        finally:
            sa.event.remove(engine, "checkout", checkout)
            sa.event.remove(engine, "checkin", checkin)
            for descriptor, path in traces:
                os.close(descriptor)
                lines.extend(path.read_text().splitlines())
                lines.append("-- next connection")


def round_trips(lines: list[str]) -> int:
    """Times the client waited for the server: frontend messages followed by backend ones."""
    count, previous = 0, ""
    for line in lines:
        direction = line[:1]
        if direction == "B" and previous == "F":
            count += 1
        if direction in ("F", "B"):
            previous = direction
        elif line.startswith("--"):
            previous = ""
    return count


def statements(lines: list[str]) -> int:
    return sum(1 for line in lines if line.split("\t")[2:3] == ["Execute"])


@pytest.mark.parametrize("keyed", [True, False], ids=["with-idempotency-key", "without-key"])
def test_an_order_takes_two_round_trips_and_two_statements(
    live: LiveServer, backend: str, keyed: bool
) -> None:
    """One statement reads everything intake needs (writing nothing, it runs outside any
    transaction); the second writes the order's rows, its events, audit, the new
    customer, the stock reservation and the answer kept under the key, and is the whole
    transaction: no BEGIN, no COMMIT."""
    if backend != "postgresql":
        pytest.skip("SQLite runs in process: no round trips")
    secret = key_for(live.potok)
    auth = {"Authorization": f"Bearer {secret}"}
    with live.client(headers=auth) as client:
        build_world_api(client, {("MSK", "KET"): 50, ("SPB", "MUG"): 50})
        for warm in range(3):  # caches filled, the key checked once
            headers = {"Idempotency-Key": f"warm-{warm}"} if keyed else {}
            body = order_body([("KET", 1)], external_id=f"warm-{warm}")
            assert client.post("/api/v1/orders", json=body, headers=headers).status_code == 201
        headers = {"Idempotency-Key": "measured"} if keyed else {}
        body = order_body([("KET", 1), ("MUG", 2)], external_id="measured")
        with protocol_trace(live.potok.engine) as trace:
            response = client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "reserved"
    # the order's own connection (on a loaded machine the API key's cached check may
    # expire between the warm-up and this order and be read again on another one)
    connections = "\n".join(trace).split("-- next connection")
    trace = next(c for c in connections if "INSERT INTO orders" in c).strip().splitlines()
    assert statements(trace) == 2, "\n".join(trace)
    assert round_trips(trace) == 2, "\n".join(trace)
