"""Operators' actions on orders over HTTP: confirm, cancel, holds, payment, If-Match, history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.factories import build_world_api, order_body
from tests.invariants import assert_stock_invariants
from tests.problems import problem, problem_of_type

OPERATOR: dict[str, str] = {}  # the api fixture acts as the key "tests"
WHO = "api_key:tests"


def place(api: httpx.Client, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    response = api.post("/api/v1/orders", json=order_body(lines, **extra))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def get_order(api: httpx.Client, order_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    order: dict[str, Any] = response.json()
    return order


def act(
    api: httpx.Client,
    order_id: int,
    action: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return api.post(
        f"/api/v1/orders/{order_id}/{action}", json=body, headers={**OPERATOR, **(headers or {})}
    )


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{order["version"]}"'
    return order


def reserved_level(api: httpx.Client, warehouse: str, sku: str) -> int:
    items = api.get("/api/v1/stock/levels", params={"warehouse": warehouse, "sku": sku}).json()
    return int(items["items"][0]["reserved"])


def last(order: dict[str, Any]) -> tuple[str, str, str | None, str]:
    entry = order["history"][-1]
    return entry["action"], entry["actor"], entry["from_status"], entry["to_status"]


# ---------------------------------------------------------------------- confirmation


def test_an_operator_confirms_a_phone_order_and_it_becomes_reserved(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")
    assert (order["status"], order["state"]) == ("new", "new")

    confirmed = ok(act(api, order["id"], "confirmation", {"reason": "called back"}))

    assert (confirmed["status"], confirmed["state"]) == ("reserved", "confirmed")
    assert confirmed["confirmed_at"] is not None
    assert confirmed["version"] == order["version"] + 1
    assert last(confirmed) == ("confirmed", WHO, "new", "reserved")
    assert confirmed["history"][-1]["reason"] == "called back"
    assert confirmed["history"][-1]["details"] == {"automatically": False}
    assert get_order(api, order["id"]) == confirmed


def test_confirming_twice_is_an_illegal_transition(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")
    ok(act(api, order["id"], "confirmation"))

    again = act(api, order["id"], "confirmation")

    body = problem(again, 409, "illegal-transition")
    assert (body["machine"], body["current"], body["target"]) == ("order", "confirmed", "confirmed")
    assert len(get_order(api, order["id"])["history"]) == len(order["history"]) + 1


def test_an_order_its_channel_confirmed_cannot_be_confirmed_again(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)])
    assert order["state"] == "confirmed"

    problem(act(api, order["id"], "confirmation"), 409, "illegal-transition")


# ---------------------------------------------------------------------- cancellation


def test_cancelling_releases_the_reserved_stock(api: httpx.Client, live: LiveServer) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    order = place(api, [("KET", 2)])
    assert reserved_level(api, "MSK", "KET") == 2

    cancelled = ok(act(api, order["id"], "cancellation", {"reason": "changed their mind"}))

    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "changed their mind"
    assert [r["status"] for r in cancelled["reservations"]] == ["released"]
    assert last(cancelled) == ("cancelled", WHO, "reserved", "cancelled")
    assert reserved_level(api, "MSK", "KET") == 0
    assert_stock_invariants(live.potok)


def test_cancelling_gives_the_released_stock_to_a_backordered_order(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 1})
    first = place(api, [("KET", 1)])
    waiting = place(api, [("KET", 1)])
    assert (first["status"], waiting["status"]) == ("reserved", "backordered")

    ok(act(api, first["id"], "cancellation", {"reason": "fraud"}))

    served = get_order(api, waiting["id"])
    assert served["status"] == "reserved"
    assert [(r["warehouse"], r["status"]) for r in served["reservations"]] == [("MSK", "open")]
    assert last(served) == ("reserved", "system:backorders", "backordered", "reserved")
    assert reserved_level(api, "MSK", "KET") == 1
    assert_stock_invariants(live.potok)


def test_cancelling_a_cancelled_order_is_refused(api: httpx.Client, live: LiveServer) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    order = place(api, [("KET", 1)])
    ok(act(api, order["id"], "cancellation", {"reason": "duplicate"}))

    again = act(api, order["id"], "cancellation", {"reason": "duplicate"})

    problem(again, 409, "illegal-transition")
    assert reserved_level(api, "MSK", "KET") == 0
    assert_stock_invariants(live.potok)


def test_a_cancellation_needs_a_reason(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    order = place(api, [("KET", 1)])

    missing = act(api, order["id"], "cancellation")
    empty = act(api, order["id"], "cancellation", {"reason": ""})

    problem(missing, 422, "invalid-input")
    assert [e["field"] for e in problem(empty, 422, "invalid-input")["errors"]] == ["reason"]
    assert get_order(api, order["id"])["status"] == "reserved"


# ---------------------------------------------------------------------- holds


def test_a_hold_is_created_at_its_own_location_and_puts_the_order_on_hold(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")

    response = act(api, order["id"], "holds", {"type": "fraud", "reason": "odd address"})

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/orders/{order['id']}/holds/1"
    hold = response.json()
    assert (hold["hold_no"], hold["type"], hold["state"], hold["placed_by"]) == (
        1,
        "fraud",
        "active",
        WHO,
    )
    held = get_order(api, order["id"])
    assert response.headers["etag"] == f'"{held["version"]}"'
    assert held["status"] == "on_hold"
    assert last(held) == ("hold_placed", WHO, "new", "on_hold")


def test_an_order_on_hold_cannot_be_confirmed(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")
    act(api, order["id"], "holds", {"type": "address", "reason": "no flat number"})

    response = act(api, order["id"], "confirmation")

    problem(response, 409, "order-on-hold")
    assert get_order(api, order["id"])["state"] == "new"


def test_the_same_kind_of_hold_cannot_be_placed_twice(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")
    act(api, order["id"], "holds", {"type": "manual", "reason": "first"})

    twice = act(api, order["id"], "holds", {"type": "manual", "reason": "second"})
    other = act(api, order["id"], "holds", {"type": "payment", "reason": "card check"})

    assert problem(twice, 409, "hold-already-active")["hold_no"] == 1
    assert other.status_code == 201, other.text
    assert other.json()["hold_no"] == 2
    assert [h["type"] for h in get_order(api, order["id"])["holds"]] == ["manual", "payment"]


def test_releasing_the_last_hold_returns_the_order_to_its_previous_status(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)])
    assert order["status"] == "reserved"
    act(api, order["id"], "holds", {"type": "manual", "reason": "customer asked to wait"})
    act(api, order["id"], "holds", {"type": "fraud", "reason": "odd card"})

    first = ok(act(api, order["id"], "holds/1/release", {"reason": "customer is ready"}))
    second = ok(act(api, order["id"], "holds/2/release"))

    assert first["status"] == "on_hold"
    assert second["status"] == "reserved"
    assert last(second) == ("hold_released", WHO, "on_hold", "reserved")
    assert [(h["state"], h["ended_by"]) for h in second["holds"]] == [
        ("released", WHO),
        ("released", WHO),
    ]
    assert second["holds"][0]["end_reason"] == "customer is ready"


def test_a_released_hold_cannot_be_released_again_and_an_unknown_one_is_not_found(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")
    act(api, order["id"], "holds", {"type": "manual", "reason": "wait"})
    ok(act(api, order["id"], "holds/1/release"))

    problem(act(api, order["id"], "holds/1/release"), 409, "illegal-transition")
    problem(act(api, order["id"], "holds/9/release"), 404, "hold-not-found")


def test_a_hold_with_a_naive_expiry_is_refused(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)])

    response = act(
        api,
        order["id"],
        "holds",
        {"type": "manual", "reason": "wait", "expires_at": "2030-01-01T10:00:00"},
    )

    assert [e["field"] for e in problem(response, 422, "invalid-input")["errors"]] == ["expires_at"]
    assert get_order(api, order["id"])["holds"] == []


def test_a_cancelled_order_cannot_be_put_on_hold(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)])
    ok(act(api, order["id"], "cancellation", {"reason": "duplicate"}))

    response = act(api, order["id"], "holds", {"type": "manual", "reason": "too late"})

    problem_of_type(response, 409, "order-closed")  # see the xfail below for `status`
    assert response.json()["code"] == "order-closed"
    assert get_order(api, order["id"])["holds"] == []


def test_the_order_closed_problem_keeps_its_http_status(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)])
    ok(act(api, order["id"], "cancellation", {"reason": "duplicate"}))

    problem(act(api, order["id"], "holds", {"type": "manual", "reason": "x"}), 409, "order-closed")


# ---------------------------------------------------------------------- If-Match


def test_a_stale_if_match_is_refused_and_changes_nothing(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")
    etag = api.get(f"/api/v1/orders/{order['id']}").headers["etag"]
    act(api, order["id"], "holds", {"type": "manual", "reason": "check"}, {"If-Match": etag})
    ok(act(api, order["id"], "holds/1/release"))

    stale = act(api, order["id"], "confirmation", headers={"If-Match": etag})

    body = problem(stale, 412, "stale-version")
    current = get_order(api, order["id"])
    assert (body["expected"], body["actual"]) == (order["version"], current["version"])
    assert current["state"] == "new"


def test_the_current_etag_lets_the_action_through(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")
    etag = api.get(f"/api/v1/orders/{order['id']}").headers["etag"]

    confirmed = ok(act(api, order["id"], "confirmation", headers={"If-Match": etag}))

    assert confirmed["status"] == "reserved"
    assert f'"{confirmed["version"]}"' != etag


def test_an_if_match_that_is_not_an_etag_is_refused(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")

    response = act(api, order["id"], "confirmation", headers={"If-Match": "yesterday"})

    errors = problem(response, 422, "invalid-input")["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("If-Match", "bad-if-match")]
    assert get_order(api, order["id"])["state"] == "new"


# ---------------------------------------------------------------------- payment


def test_an_app_order_waits_unconfirmed_while_its_payment_is_pending(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})

    order = place(api, [("KET", 1)], channel="app")
    failed = ok(act(api, order["id"], "payment", {"status": "failed"}))

    assert (order["status"], order["payment_status"]) == ("new", "pending")
    due = datetime.fromisoformat(order["payment_due_at"])
    assert (due - datetime.fromisoformat(order["created_at"])).total_seconds() == 30 * 60
    assert [datetime.fromisoformat(r["expires_at"]) for r in order["reservations"]] == [due]
    assert (failed["status"], failed["payment_status"]) == ("new", "failed")


def test_an_app_order_is_confirmed_as_soon_as_it_is_paid(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="app")

    paid = ok(act(api, order["id"], "payment", {"status": "paid", "reason": "acquirer callback"}))

    assert (paid["status"], paid["state"], paid["payment_status"]) == (
        "reserved",
        "confirmed",
        "paid",
    )
    assert paid["payment_due_at"] is None
    assert [r["expires_at"] for r in paid["reservations"]] == [None]
    assert [
        (h["action"], h["actor"], h["from_status"], h["to_status"]) for h in paid["history"][-2:]
    ] == [
        ("payment_changed", WHO, "new", "new"),
        ("confirmed", WHO, "new", "reserved"),
    ]
    assert paid["history"][-2]["details"] == {"from_payment": "pending", "to_payment": "paid"}
    assert paid["history"][-1]["details"] == {"automatically": True}
    assert_stock_invariants(live.potok)


@pytest.mark.parametrize(("first", "then"), [(None, "refunded"), ("paid", "pending")])
def test_an_illegal_payment_transition_is_refused(
    api: httpx.Client, first: str | None, then: str
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="app")
    if first:
        ok(act(api, order["id"], "payment", {"status": first}))
    before = get_order(api, order["id"])

    response = act(api, order["id"], "payment", {"status": then})

    body = problem(response, 409, "illegal-transition")
    assert (body["machine"], body["target"]) == ("payment", then)
    assert get_order(api, order["id"]) == before


# ---------------------------------------------------------------------- history and 404


def test_every_action_appends_to_the_history_with_who_and_the_status_change(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")

    act(api, order["id"], "holds", {"type": "manual", "reason": "call the customer"})
    ok(act(api, order["id"], "holds/1/release"))
    ok(act(api, order["id"], "confirmation"))
    ok(act(api, order["id"], "payment", {"status": "paid"}))
    done = ok(act(api, order["id"], "cancellation", {"reason": "customer refused"}))

    assert [
        (h["action"], h["actor"], h["from_status"], h["to_status"]) for h in done["history"]
    ] == [
        ("created", WHO, None, "new"),
        ("reserved", WHO, "new", "new"),
        ("hold_placed", WHO, "new", "on_hold"),
        ("hold_released", WHO, "on_hold", "new"),
        ("confirmed", WHO, "new", "reserved"),
        ("payment_changed", WHO, "reserved", "reserved"),
        ("cancelled", WHO, "reserved", "cancelled"),
    ]
    assert done["history"][-1]["reason"] == "customer refused"
    occurred = [h["occurred_at"] for h in done["history"]]
    assert occurred == sorted(occurred)
    assert_stock_invariants(live.potok)


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("confirmation", None),
        ("cancellation", {"reason": "x"}),
        ("holds", {"type": "manual", "reason": "x"}),
        ("holds/1/release", None),
        ("payment", {"status": "paid"}),
    ],
)
def test_actions_on_an_unknown_order_are_not_found(
    api: httpx.Client, action: str, body: dict[str, Any] | None
) -> None:
    build_world_api(api)

    body_of_problem = problem(act(api, 999, action, body), 404, "order-not-found")

    assert body_of_problem["order_id"] == 999
    problem(api.get("/api/v1/orders/999"), 404, "order-not-found")
