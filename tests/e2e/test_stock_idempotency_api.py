"""Retrying a stock write with its Idempotency-Key never does the work twice.

A receipt sent again after a lost answer must not count the goods twice; the same holds for
write-offs, counts, moves, transfers (request, ship, receive), purchase orders (create,
receive) and count sheets. The repeat gets the first answer with ``Idempotent-Replayed``;
the same key with another body is refused; keys belong to their caller."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from potok.domain.access import Permission
from tests.conftest import LiveServer, key_for
from tests.factories import build_world_api
from tests.invariants import assert_stock_invariants
from tests.problems import problem


def on_hand(api: httpx.Client, warehouse: str, sku: str) -> tuple[int, int]:
    """(on hand, unavailable) of one position."""
    page = api.get("/api/v1/stock/levels", params={"warehouse": warehouse, "sku": sku}).json()
    row = page["items"][0]
    return row["on_hand"], row.get("unavailable", 0)


def twice(
    api: httpx.Client, path: str, body: dict[str, Any], key: str
) -> tuple[httpx.Response, httpx.Response]:
    headers = {"Idempotency-Key": key}
    first = api.post(path, json=body, headers=headers)
    assert first.status_code in (200, 201), first.text
    again = api.post(path, json=body, headers=headers)
    assert again.status_code == first.status_code, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    return first, again


RECEIPT = {"warehouse": "MSK", "sku": "KET", "quantity": 7, "reference": "ASN-1"}


@pytest.mark.parametrize(
    ("path", "body", "after"),
    [
        ("/api/v1/stock/receipts", RECEIPT, (12, 0)),
        (
            "/api/v1/stock/write-offs",
            {"warehouse": "MSK", "sku": "KET", "quantity": 2, "reason": "damaged"},
            (3, 0),
        ),
        (
            "/api/v1/stock/counts",
            {
                "warehouse": "MSK",
                "sku": "KET",
                "expected_on_hand": 5,
                "counted": 4,
                "reason": "shelf count",
            },
            (4, 0),
        ),
        (
            "/api/v1/stock/moves",
            {
                "warehouse": "MSK",
                "sku": "KET",
                "quantity": 2,
                "to": "unavailable",
                "reason": "quality_check",
            },
            (5, 2),
        ),
    ],
    ids=["receipt", "write-off", "count", "move"],
)
def test_a_repeated_stock_change_is_applied_once(
    api: httpx.Client,
    live: LiveServer,
    path: str,
    body: dict[str, Any],
    after: tuple[int, int],
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})

    twice(api, path, body, "retry-1")

    assert on_hand(api, "MSK", "KET") == after
    moved = api.get("/api/v1/stock/movements", params={"warehouse": "MSK", "sku": "KET"}).json()
    assert len(moved["items"]) == 2  # the seeding receipt and this change, not a third
    assert_stock_invariants(live.potok)


def test_the_same_key_with_another_receipt_is_refused_and_changes_nothing(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    twice(api, "/api/v1/stock/receipts", RECEIPT, "asn-1")

    other = api.post(
        "/api/v1/stock/receipts",
        json={**RECEIPT, "quantity": 8},
        headers={"Idempotency-Key": "asn-1"},
    )

    problem(other, 409, "idempotency-key-reused")
    assert on_hand(api, "MSK", "KET") == (12, 0)


def test_a_receipt_without_a_key_is_applied_each_time(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})

    for _ in range(2):
        assert api.post("/api/v1/stock/receipts", json=RECEIPT).status_code == 201

    assert on_hand(api, "MSK", "KET") == (19, 0)


def test_a_transfer_requested_shipped_and_received_again_moves_the_goods_once(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("SPB", "KET"): 1})
    body = {
        "from_warehouse": "MSK",
        "to_warehouse": "SPB",
        "lines": [{"sku": "KET", "quantity": 4}],
    }

    requested, _ = twice(api, "/api/v1/transfers", body, "tr-1")
    number = requested.json()["number"]
    listed = api.get("/api/v1/transfers").json()["items"]
    assert [t["number"] for t in listed] == [number]

    shipped, _ = twice(api, f"/api/v1/transfers/{number}/ship", {}, "tr-1-ship")
    assert shipped.json()["status"] == "shipped"
    assert on_hand(api, "MSK", "KET") == (6, 0)

    received, _ = twice(api, f"/api/v1/transfers/{number}/receive", {}, "tr-1-receive")
    assert received.json()["status"] == "received"
    assert on_hand(api, "SPB", "KET") == (5, 0)
    assert_stock_invariants(live.potok)


def test_a_purchase_order_created_and_received_again_counts_once(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 1})
    body = {
        "supplier": "ООО Чайники",
        "warehouse": "MSK",
        "lines": [{"sku": "KET", "quantity": 10}],
    }

    created, _ = twice(api, "/api/v1/purchase-orders", body, "po-1")
    number = created.json()["number"]
    assert len(api.get("/api/v1/purchase-orders").json()["items"]) == 1

    delivery = {"lines": [{"line_no": 1, "quantity": 4}]}
    received, _ = twice(api, f"/api/v1/purchase-orders/{number}/receive", delivery, "po-1-d1")

    assert received.json()["outstanding"] == 6
    assert on_hand(api, "MSK", "KET") == (5, 0)
    assert_stock_invariants(live.potok)


def test_a_count_sheet_made_again_is_the_same_sheet(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("MSK", "MUG"): 2})

    first, _ = twice(api, "/api/v1/warehouses/MSK/counts", {"skus": ["KET"]}, "sheet-1")

    assert first.headers["location"] == f"/api/v1/stock/counts/{first.json()['number']}"
    assert len(api.get("/api/v1/stock/counts").json()["items"]) == 1


def test_keys_belong_to_their_caller(api: httpx.Client, live: LiveServer) -> None:
    """Another API key using the same Idempotency-Key makes its own receipt."""
    build_world_api(api, {("MSK", "KET"): 5})
    secret = key_for(live.potok, Permission.STOCK_READ, Permission.STOCK_WRITE, name="erp-sync")
    other = live.client(headers={"Authorization": f"Bearer {secret}"})

    twice(api, "/api/v1/stock/receipts", RECEIPT, "shared-key")
    with other:
        twice(other, "/api/v1/stock/receipts", RECEIPT, "shared-key")

    assert on_hand(api, "MSK", "KET") == (19, 0)
