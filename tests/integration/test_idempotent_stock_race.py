"""The same stock write sent at once under one Idempotency-Key counts the goods once.

Racing real HTTP connections to a real server, as a client does whose first try timed out
while the server was still working on it: every racer sends the same receipt (or the same
purchase-order delivery, or the same transfer receipt) with the same key. Each request
does the work in its own transaction; only the key's unique row, written in the same
transaction, lets one of them commit. The losers roll back their stock change, are
retried by the server and answer with the winner's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, key_for
from tests.e2e.test_stock_idempotency_api import on_hand
from tests.factories import build_world_api
from tests.invariants import assert_stock_invariants
from tests.racing import RACE_LIMIT, race

RACERS = 8


def racing(
    live: LiveServer, auth: dict[str, str], path: str, body: dict[str, Any], key: str
) -> list[httpx.Response]:
    """``RACERS`` identical keyed requests at once, each on its own connection."""

    def send() -> httpx.Response:
        with httpx.Client(base_url=live.url, timeout=60, headers=auth) as client:
            return client.post(path, json=body, headers={"Idempotency-Key": key})

    calls: list[Callable[[], httpx.Response]] = [send] * RACERS
    return race(calls)


def one_answer(answers: list[httpx.Response]) -> None:
    """Every racer got the same answer; exactly one of them was not a replay."""
    assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert sum(1 for a in answers if "idempotent-replayed" not in a.headers) == 1


@RACE_LIMIT
@pytest.mark.slow
def test_one_receipt_sent_at_once_counts_the_goods_once(live: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {key_for(live.potok)}"}
    with live.client(headers=auth) as client:
        build_world_api(client, {("MSK", "KET"): 5})
    receipt = {"warehouse": "MSK", "sku": "KET", "quantity": 7, "reference": "ASN-77"}

    one_answer(racing(live, auth, "/api/v1/stock/receipts", receipt, "asn-77"))

    with live.client(headers=auth) as client:
        assert on_hand(client, "MSK", "KET") == (12, 0)
        moved = client.get(
            "/api/v1/stock/movements", params={"warehouse": "MSK", "sku": "KET"}
        ).json()
        assert len(moved["items"]) == 2  # the seeding receipt and this one
    assert_stock_invariants(live.potok)


@RACE_LIMIT
@pytest.mark.slow
def test_one_delivery_of_a_purchase_order_sent_at_once_counts_once(live: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {key_for(live.potok)}"}
    with live.client(headers=auth) as client:
        build_world_api(client, {("MSK", "KET"): 1})
        created = client.post(
            "/api/v1/purchase-orders",
            json={
                "supplier": "ООО Чайники",
                "warehouse": "MSK",
                "lines": [{"sku": "KET", "quantity": 10}],
            },
        )
        assert created.status_code == 201, created.text
    number = created.json()["number"]
    delivery = {"lines": [{"line_no": 1, "quantity": 4}]}

    one_answer(racing(live, auth, f"/api/v1/purchase-orders/{number}/receive", delivery, "d-1"))

    with live.client(headers=auth) as client:
        assert on_hand(client, "MSK", "KET") == (5, 0)
        order = client.get(f"/api/v1/purchase-orders/{number}").json()
        assert order["outstanding"] == 6
    assert_stock_invariants(live.potok)


@RACE_LIMIT
@pytest.mark.slow
def test_one_transfer_receipt_sent_at_once_moves_the_goods_once(live: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {key_for(live.potok)}"}
    with live.client(headers=auth) as client:
        build_world_api(client, {("MSK", "KET"): 10, ("SPB", "KET"): 1})
        requested = client.post(
            "/api/v1/transfers",
            json={
                "from_warehouse": "MSK",
                "to_warehouse": "SPB",
                "lines": [{"sku": "KET", "quantity": 4}],
            },
        )
        assert requested.status_code == 201, requested.text
        number = requested.json()["number"]
        assert client.post(f"/api/v1/transfers/{number}/ship", json={}).status_code == 200

    one_answer(racing(live, auth, f"/api/v1/transfers/{number}/receive", {}, "tr-in"))

    with live.client(headers=auth) as client:
        assert on_hand(client, "SPB", "KET") == (5, 0)
        assert on_hand(client, "MSK", "KET") == (6, 0)
    assert_stock_invariants(live.potok)
