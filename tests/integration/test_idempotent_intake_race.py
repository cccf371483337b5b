"""The same order sent at once under one Idempotency-Key is taken once.

Racing real HTTP connections to a real server: every racer sends the same body with the
same key and no external id, so only the key (its unique row, written with the order's
own rows in the commit) keeps the order from being taken twice. Losers of the race are
retried by the server and answer with the winner's order.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import LiveServer, key_for
from tests.factories import build_world_api, order_body
from tests.invariants import assert_stock_invariants, reserved_units
from tests.racing import RACE_LIMIT, start_line

RACERS = 12


@RACE_LIMIT
@pytest.mark.slow
def test_one_key_sent_at_once_takes_one_order(live: LiveServer) -> None:
    secret = key_for(live.potok)
    auth = {"Authorization": f"Bearer {secret}"}
    with live.client(headers=auth) as client:
        build_world_api(client, {("MSK", "KET"): 50})
    body = order_body([("KET", 2)])
    start = start_line(RACERS)

    def place(_: int) -> tuple[int, int, str | None]:
        with httpx.Client(base_url=live.url, timeout=60, headers=auth) as client:
            start.wait()
            response = client.post(
                "/api/v1/orders", json=body, headers={"Idempotency-Key": "checkout-77"}
            )
        assert response.status_code == 201, response.text
        return (
            response.json()["id"],
            response.status_code,
            response.headers.get("idempotent-replayed"),
        )

    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(place, range(RACERS)))

    assert len({order_id for order_id, _, _ in answers}) == 1
    assert sum(1 for _, _, replayed in answers if replayed is None) == 1
    with live.client(headers=auth) as client:
        assert len(client.get("/api/v1/orders").json()["items"]) == 1
    assert reserved_units(live.potok, "KET") == 2
    assert_stock_invariants(live.potok)
