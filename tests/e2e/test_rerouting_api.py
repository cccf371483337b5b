"""Automatic re-routing over HTTP: a location deactivated, a picker's shortage, a reservation
kept past its location's hours, stock corrected below what is reserved - each moves the
orders to another warehouse when the network has the stock, else backorders them and
raises one alert an operator acknowledges. History says why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from potok.db.tables import outbox_events
from potok.domain.access import Role
from potok.domain.kernel import utc_now
from potok.worker.jobs import run_due_jobs
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import get_order, movements, open_reservations, place
from tests.factories import build_world_api
from tests.invariants import assert_stock_invariants
from tests.problems import field_codes, problem

ALERTS = "/api/v1/alerts"


def history_reasons(order: dict[str, Any], action: str) -> list[str]:
    return [h["reason"] for h in order["history"] if h["action"] == action]


def open_alerts(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get(ALERTS)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def events_of(live: LiveServer, event_type: str) -> list[dict[str, Any]]:
    with live.potok.engine.connect() as connection:
        rows = connection.execute(
            sa.select(outbox_events.c.payload)
            .where(outbox_events.c.type == event_type)
            .order_by(outbox_events.c.id)
        )
        return [dict(r.payload) for r in rows]


# ---------------------------------------------------------------------- deactivation


def test_deactivating_a_warehouse_moves_its_orders_to_another_one(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5})
    order = place(api, [("KET", 2)])
    assert open_reservations(order) == [("MSK", "KET", 2)]

    response = api.patch("/api/v1/warehouses/MSK", json={"active": False})

    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    after = get_order(api, order["id"])
    assert after["status"] == "reserved"
    assert open_reservations(after) == [("SPB", "KET", 2)]
    assert history_reasons(after, "reservation_released") == ["warehouse MSK deactivated"]
    assert open_alerts(api) == []
    assert_stock_invariants(live.potok)


def test_deactivating_the_only_warehouse_with_stock_backorders_and_alerts_once(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 2)])

    api.patch("/api/v1/warehouses/MSK", json={"active": False}).raise_for_status()

    after = get_order(api, order["id"])
    assert after["status"] == "backordered"
    assert open_reservations(after) == []
    assert history_reasons(after, "reservation_released") == ["warehouse MSK deactivated"]
    (alert,) = open_alerts(api)
    assert (alert["kind"], alert["order_id"]) == ("order_backordered_after_rerouting", order["id"])
    assert "warehouse MSK deactivated" in alert["message"]
    assert "KET (needs 2, has 0)" in alert["message"]
    assert [e["alert_id"] for e in events_of(live, "alert.raised")] == [alert["id"]]
    assert_stock_invariants(live.potok)

    acknowledged = api.post(f"{ALERTS}/{alert['id']}/acknowledgement")

    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["acknowledged_by"] == "api_key:tests"
    assert open_alerts(api) == []
    done = api.get(ALERTS, params={"state": "acknowledged"}).json()["items"]
    assert [a["id"] for a in done] == [alert["id"]]
    assert len(api.get(ALERTS, params={"state": "all"}).json()["items"]) == 1
    problem(api.post(f"{ALERTS}/{alert['id']}/acknowledgement"), 409, "alert-already-acknowledged")
    problem(api.post(f"{ALERTS}/999999/acknowledgement"), 404, "alert-not-found")


def test_alerts_are_listed_newest_first_a_page_at_a_time(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    first = place(api, [("KET", 1)])
    second = place(api, [("KET", 1)])
    api.patch("/api/v1/warehouses/MSK", json={"active": False}).raise_for_status()

    page = api.get(ALERTS, params={"limit": 1}).json()
    rest = api.get(ALERTS, params={"limit": 1, "cursor": page["next_cursor"]}).json()

    assert [a["order_id"] for a in page["items"] + rest["items"]] == [second["id"], first["id"]]
    assert rest["next_cursor"] is None
    assert (
        api.get(ALERTS, params={"order_id": first["id"]}).json()["items"][0]["order_id"]
        == (first["id"])
    )
    bad = api.get(ALERTS, params={"state": "closed"})
    assert bad.status_code == 422
    problem(api.get(ALERTS, params={"cursor": "nonsense"}), 422, "invalid-input")


# ---------------------------------------------------------------------- picking shortage


def shortage(api: httpx.Client, order_id: int, **body: Any) -> httpx.Response:
    return api.post(f"/api/v1/orders/{order_id}/shortages", json=body)


def test_a_picking_shortage_writes_stock_down_and_moves_the_order_elsewhere(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5})
    order = place(api, [("KET", 2)])

    response = shortage(api, order["id"], warehouse="MSK", sku="KET", missing=2, note="A-03")

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["on_hand"], body["reserved"], body["available"]) == (3, 0, 3)
    assert body["order_status"] == "reserved"
    assert [(r["warehouse"], r["quantity"]) for r in body["reservations"]] == [("SPB", 2)]
    assert (body["backordered"], body["alerts"]) == ([], [])
    (movement,) = movements(api, warehouse="MSK", sku="KET", type="write_off")
    assert (movement["quantity"], movement["reason"]) == (-2, "picking shortage")
    assert movement["reference"] == f"order {order['id']}"
    after = get_order(api, order["id"])
    assert open_reservations(after) == [("SPB", "KET", 2)]
    assert history_reasons(after, "reservation_released") == [
        "picking shortage: 2 of KET not found at MSK"
    ]
    (event,) = events_of(live, "order.shortage_reported")
    assert (event["warehouse"], event["missing"], event["note"]) == ("MSK", 2, "A-03")
    assert_stock_invariants(live.potok)


def test_a_shortage_keeps_the_order_where_it_is_when_only_that_place_has_units_left(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 2)])

    body = shortage(api, order["id"], warehouse="MSK", sku="KET", missing=1).json()

    assert (body["on_hand"], body["reserved"], body["order_status"]) == (4, 2, "reserved")
    assert open_reservations(get_order(api, order["id"])) == [("MSK", "KET", 2)]
    assert open_alerts(api) == []
    assert_stock_invariants(live.potok)


def test_a_shortage_nothing_can_cover_backorders_the_order_with_an_alert(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    order = place(api, [("KET", 2)])

    body = shortage(api, order["id"], warehouse="MSK", sku="KET", missing=1).json()

    assert body["order_status"] == "backordered"
    assert body["backordered"] == [order["id"]]
    (alert,) = open_alerts(api)
    assert alert["id"] == body["alerts"][0]
    assert "picking shortage: 1 of KET not found at MSK" in alert["message"]
    assert (body["on_hand"], body["reserved"]) == (1, 0)
    assert_stock_invariants(live.potok)


def test_a_shortage_the_order_does_not_explain_is_refused_naming_the_field(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "MUG"): 5})
    order = place(api, [("KET", 2)])
    oid = order["id"]

    cases = [
        ({"warehouse": "NOPE", "sku": "KET", "missing": 1}, {"warehouse": "unknown"}),
        ({"warehouse": "MSK", "sku": "NOPE", "missing": 1}, {"sku": "unknown"}),
        ({"warehouse": "MSK", "sku": "KET", "missing": 0}, {"missing": "greater_than_equal"}),
        ({"warehouse": "MSK", "sku": "KET", "missing": -2}, {"missing": "greater_than_equal"}),
        ({"warehouse": "MSK", "sku": "KET", "missing": 3}, {"missing": "more-than-reserved"}),
        ({"warehouse": "SPB", "sku": "KET", "missing": 1}, {"warehouse": "not-held-here"}),
        ({"warehouse": "MSK", "sku": "MUG", "missing": 1}, {"warehouse": "not-held-here"}),
    ]
    for body, expected in cases:
        assert field_codes(problem(shortage(api, oid, **body), 422, "invalid-input")) == expected
    problem(shortage(api, 999999, warehouse="MSK", sku="KET", missing=1), 404, "order-not-found")
    assert open_reservations(get_order(api, oid)) == [("MSK", "KET", 2)]
    assert movements(api, type="write_off") == []
    assert_stock_invariants(live.potok)


# ---------------------------------------------------------------------- reservation hours


def test_a_reservation_kept_past_its_locations_hours_is_sourced_elsewhere(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5, ("MSK", "MUG"): 1})
    response = api.patch("/api/v1/warehouses/MSK", json={"reservation_hours": 2})
    assert response.json()["reservation_hours"] == 2
    moved = place(api, [("KET", 2)])
    stuck = place(api, [("MUG", 1)])

    early = run_due_jobs(live.potok, clock=lambda: utc_now() + timedelta(hours=1))
    assert early.lapsed_reservations is not None
    assert early.lapsed_reservations.orders == []
    report = run_due_jobs(live.potok, clock=lambda: utc_now() + timedelta(hours=3))

    assert report.lapsed_reservations is not None
    assert sorted(report.lapsed_reservations.orders) == sorted([moved["id"], stuck["id"]])
    assert report.lapsed_reservations.backordered == [stuck["id"]]
    after = get_order(api, moved["id"])
    assert open_reservations(after) == [("SPB", "KET", 2)]
    assert history_reasons(after, "reservation_released") == [
        "reservation at MSK expired after 2 h"
    ]
    assert get_order(api, stuck["id"])["status"] == "backordered"
    (alert,) = open_alerts(api)
    assert alert["order_id"] == stuck["id"]
    assert "reservation at MSK expired after 2 h" in alert["message"]
    assert_stock_invariants(live.potok)


def test_reservation_hours_out_of_range_are_refused(api: httpx.Client) -> None:
    build_world_api(api)
    response = api.patch("/api/v1/warehouses/MSK", json={"reservation_hours": 0})
    assert response.status_code == 422
    assert api.get("/api/v1/warehouses/MSK").json()["reservation_hours"] is None


# ---------------------------------------------------------------------- stock corrections


def test_a_write_off_below_what_is_reserved_alerts_when_nothing_else_covers(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    order = place(api, [("KET", 2)])

    api.post(
        "/api/v1/stock/write-offs",
        json={"warehouse": "MSK", "sku": "KET", "quantity": 1, "reason": "damaged"},
    ).raise_for_status()

    assert get_order(api, order["id"])["status"] == "backordered"
    (alert,) = open_alerts(api)
    assert "damaged: KET at MSK fell to 1" in alert["message"]
    assert_stock_invariants(live.potok)


# ---------------------------------------------------------------------- regions


def test_a_location_keeps_its_region(api: httpx.Client) -> None:
    build_world_api(api)

    changed = api.patch("/api/v1/warehouses/MSK", json={"region": "Московская область"})

    assert changed.status_code == 200, changed.text
    assert api.get("/api/v1/warehouses/MSK").json()["region"] == "Московская область"
    too_long = api.patch("/api/v1/warehouses/MSK", json={"region": "x" * 121})
    assert too_long.status_code == 422
    nul = api.patch("/api/v1/warehouses/MSK", json={"region": "Мос\u0000ква"})
    assert nul.status_code == 422
    cleared = api.patch("/api/v1/warehouses/MSK", json={"region": None})
    assert cleared.json()["region"] is None


def test_warehouse_staff_report_shortages_at_their_own_warehouse_only(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5})
    order = place(api, [("KET", 2)])
    make_user(live.potok, "picker-spb", Role.WAREHOUSE, warehouses=("SPB",))
    make_user(live.potok, "picker-msk", Role.WAREHOUSE, warehouses=("MSK",))
    url = f"/api/v1/orders/{order['id']}/shortages"
    body = {"warehouse": "MSK", "sku": "KET", "missing": 1}

    elsewhere = sign_in(live.url, "picker-spb").request("POST", url, json=body)
    own = sign_in(live.url, "picker-msk").request("POST", url, json=body)

    problem(elsewhere, 404, "order-not-found")  # an order held only at MSK is not hers to see
    assert own.status_code == 201, own.text
    assert own.json()["reservations"] == [
        {"warehouse": "SPB", "sku": "KET", "quantity": 2, "lot": None}
    ]
    released = history_reasons(get_order(api, order["id"]), "reservation_released")
    assert released == ["picking shortage: 1 of KET not found at MSK"]
    assert_stock_invariants(live.potok)
