"""Returns over HTTP: asked back with an Idempotency-Key, approved, received at another
warehouse (a second receipt refused), inspected, refunded, closed; bad input as problems."""

from __future__ import annotations

from datetime import timedelta

import httpx

from potok.connectors.carriers import TrackingStatus
from tests.conftest import LiveServer
from tests.factories import build_world
from tests.integration.test_returns import T0, Clock, _handed_over, _stock, _track
from tests.invariants import assert_stock_invariants
from tests.problems import problem

RETURNS = "/api/v1/returns"


def test_a_return_from_request_to_refund(live: LiveServer, api: httpx.Client) -> None:
    build_world(live.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 5})
    clock = Clock(T0)
    order_id, _, number = _handed_over(live.potok, [("KET", 2), ("MUG", 1)], clock)
    _track(live.potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")

    assert "wrong_size" in api.get("/api/v1/return-reasons").json()["reasons"]
    body = {"lines": [{"line_no": 1, "quantity": 1, "reason": "wrong_size", "note": "small"}]}
    key = {"Idempotency-Key": "rma-1"}
    created = api.post(f"/api/v1/orders/{order_id}/returns", json=body, headers=key)
    assert created.status_code == 201, created.text
    ret = created.json()
    assert (ret["number"], ret["status"], ret["refund_amount"]) == (
        "RT-000001",
        "requested",
        "2490.00",
    )
    again = api.post(f"/api/v1/orders/{order_id}/returns", json=body, headers=key)
    assert (again.status_code, again.json()["number"]) == (201, "RT-000001")
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.post(
        f"/api/v1/orders/{order_id}/returns",
        json={"lines": [{"line_no": 1, "quantity": 2, "reason": "wrong_size"}]},
        headers=key,
    )
    problem(other, 409, "idempotency-key-reused")

    too_many = api.post(
        f"/api/v1/orders/{order_id}/returns",
        json={"lines": [{"line_no": 1, "quantity": 2, "reason": "defective"}]},
    )
    found = problem(too_many, 422, "return-exceeds-shipped")
    assert (found["line_no"], found["returnable"]) == (1, 1)
    problem(
        api.post(
            f"/api/v1/orders/{order_id}/returns",
            json={"lines": [{"line_no": 2, "quantity": 1, "reason": "bored"}]},
        ),
        422,
        "unknown-return-reason",
    )

    url = f"{RETURNS}/{ret['number']}"
    assert api.post(f"{url}/approval", json={}).json()["status"] == "approved"
    receipt = {"number": ret["number"]}
    received = api.post("/api/v1/warehouses/SPB/return-receipts", json=receipt)
    assert received.status_code == 200, received.text
    assert (received.json()["warehouse"], received.json()["refund_status"]) == ("SPB", "pending")
    twice = api.post("/api/v1/warehouses/KZN/return-receipts", json=receipt)
    problem(twice, 409, "illegal-transition")
    assert _stock(live.potok, "SPB", "KET") == (1, 1)
    order = api.get(f"/api/v1/orders/{order_id}").json()
    assert order["status"] == "partially_returned"

    short = api.post(
        f"{url}/inspection",
        json={"decisions": [{"line_no": 1, "outcome": "restock", "quantity": 2}]},
    )
    problem(short, 422, "inspection-incomplete")
    inspected = api.post(
        f"{url}/inspection",
        json={"decisions": [{"line_no": 1, "outcome": "restock", "quantity": 1}]},
    )
    assert inspected.json()["lines"][0]["restocked"] == 1
    assert _stock(live.potok, "SPB", "KET") == (1, 0)
    refund = api.post(f"{url}/refund", json={"status": "paid"})
    assert refund.json()["refund_status"] == "paid", refund.text
    order = api.get(f"/api/v1/orders/{order_id}").json()
    assert order["payment_status"] == "partially_refunded"
    closed = api.post(f"{url}/closure", json={"note": "done"})
    assert closed.json()["status"] == "closed"
    assert [s["action"] for s in closed.json()["steps"]][-1] == "closed"

    listed = api.get(RETURNS, params={"order_id": order_id}).json()["items"]
    assert [r["number"] for r in listed] == ["RT-000001"]
    assert api.get(f"/api/v1/orders/{order_id}/returns").json()[0]["status"] == "closed"
    problem(api.get(f"{RETURNS}/RT-999999"), 404, "return-not-found")
    assert_stock_invariants(live.potok)


def test_returns_are_listed_by_the_warehouse_they_came_to_and_by_reason(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world(live.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 5})
    clock = Clock(T0)
    first, _, _ = _handed_over(live.potok, [("KET", 1)], clock)
    second, _, _ = _handed_over(live.potok, [("MUG", 1)], clock)
    for order_id, reason in ((first, "defective"), (second, "wrong_size")):
        body = {"lines": [{"line_no": 1, "quantity": 1, "reason": reason}], "approve": True}
        assert api.post(f"/api/v1/orders/{order_id}/returns", json=body).status_code == 201
    received = api.post("/api/v1/warehouses/SPB/return-receipts", json={"number": "RT-000001"})
    assert received.status_code == 200, received.text

    def numbers(**params: str) -> list[str]:
        return [r["number"] for r in api.get(RETURNS, params=params).json()["items"]]

    assert numbers() == ["RT-000002", "RT-000001"]
    assert numbers(warehouse="SPB") == ["RT-000001"]
    assert numbers(warehouse="MSK") == []
    assert numbers(reason="wrong_size") == ["RT-000002"]
    assert numbers(reason="defective", warehouse="SPB", status="received") == ["RT-000001"]
    assert numbers(reason="defective", status="approved") == []
