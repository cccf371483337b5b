"""Avito's delivery choices over Potok's API, on a real HTTP server over SQLite and
PostgreSQL, against the simulated Avito (every request it receives checked against Avito's
order-management document): the courier's intervals read and one chosen, a
click-and-collect order's details told, each leaving a note on the Potok order; orders the
connection never imported and other marketplaces' connections refused with what to fix."""

from __future__ import annotations

import httpx

from tests.factories import build_world_api
from tests.problems import problem
from tests.simulators.avito import AvitoSimulator
from tests.simulators.wildberries import WildberriesSimulator

LISTING = 4_100_000_001
BASE = "/api/v1/marketplaces/av-main/orders"


def imported(api: httpx.Client, avito: AvitoSimulator, service: str) -> tuple[str, int]:
    build_world_api(api, {("MSK", "KET"): 20})
    made = api.post(
        "/api/v1/marketplaces",
        json={
            "code": "av-main",
            "marketplace": "avito",
            "channel": "mp",
            "token": avito.secret,
            "client_id": avito.client_id,
            "base_url": avito.url,
            "warehouses": {"avito": "MSK"},
        },
    )
    assert made.status_code == 201, made.text
    mapped = api.patch(
        "/api/v1/marketplaces/av-main/items", json={"items": [{"sku": "KET", "item": str(LISTING)}]}
    )
    assert mapped.status_code == 200, mapped.text
    number = avito.add_order(items=[{"avitoId": LISTING, "price": 1990}], service=service)
    polled = api.post("/api/v1/marketplaces/av-main/polls").json()
    [order_id] = polled["imported"]
    return number, order_id


def notes(api: httpx.Client, order_id: int) -> list[str]:
    history = api.get(f"/api/v1/orders/{order_id}").json()["history"]
    return [h["reason"] for h in history if h["action"] == "note_added"]


def test_the_courier_is_booked_at_an_interval_avito_offers(
    api: httpx.Client, avito: AvitoSimulator
) -> None:
    number, order_id = imported(api, avito, "courier")

    offered = api.get(f"{BASE}/{number}/courier-intervals")

    assert offered.status_code == 200, offered.text
    first, second = avito.offered_intervals()
    assert [(i["start"], i["end"]) for i in offered.json()["intervals"]] == [first, second]
    assert offered.json()["address"] == "Москва, Складская 1"
    chosen = {
        "start": second[0],
        "end": second[1],
        "address": "Москва, Складская 1",
        "name": "Иван Петров",
        "phone": "+79991234567",
    }
    booked = api.put(f"{BASE}/{number}/courier-interval", json=chosen)
    assert booked.status_code == 204, booked.text
    assert avito.courier_visits[number] == {
        "orderId": number,
        "address": "Москва, Складская 1",
        "startDate": second[0],
        "endDate": second[1],
        "intervalType": "fixed",
        "name": "Иван Петров",
        "phone": "+79991234567",
    }
    assert notes(api, order_id) == [
        f"Avito's courier to come {second[0].replace('Z', '+00:00')} - "
        f"{second[1].replace('Z', '+00:00')} (fixed)"
    ]
    elsewhen = api.put(
        f"{BASE}/{number}/courier-interval",
        json={**chosen, "start": "2026-01-01T10:00:00Z", "end": "2026-01-01T12:00:00Z"},
    )
    problem(elsewhen, 422, "marketplace-refused")
    assert avito.invalid == []


def test_a_click_and_collect_order_is_told_ready_where_and_for_how_long(
    api: httpx.Client, avito: AvitoSimulator
) -> None:
    number, order_id = imported(api, avito, "cnc")

    told = api.put(
        f"{BASE}/{number}/pickup-details",
        json={"booking_days": 3, "address": "Москва, Тверская 1", "details": "вход со двора"},
    )

    assert told.status_code == 204, told.text
    assert avito.pickup_details[number] == {
        "id": number,
        "marketplaceId": number,
        "bookingPeriod": 3,
        "address": "Москва, Тверская 1",
        "details": "вход со двора",
    }
    assert notes(api, order_id) == [
        "Avito told: ready for collection at Москва, Тверская 1, kept 3 days"
    ]
    problem(
        api.put(f"{BASE}/{number}/pickup-details", json={"booking_days": 0}), 422, "invalid-input"
    )
    assert avito.invalid == []


def test_orders_not_imported_and_other_marketplaces_are_refused_with_what_to_fix(
    api: httpx.Client, avito: AvitoSimulator, wildberries: WildberriesSimulator
) -> None:
    imported(api, avito, "courier")
    made = api.post(
        "/api/v1/marketplaces",
        json={
            "code": "wb-main",
            "marketplace": "wildberries",
            "channel": "mp",
            "token": wildberries.token,
            "base_url": wildberries.url,
            "warehouses": {"658434": "MSK"},
        },
    )
    assert made.status_code == 201, made.text

    unknown = problem(
        api.get(f"{BASE}/79999999999999999/courier-intervals"),
        404,
        "marketplace-order-not-imported",
    )
    other = problem(
        api.get("/api/v1/marketplaces/wb-main/orders/1/courier-intervals"), 422, "avito-only"
    )

    assert "imported no order '79999999999999999'" in unknown["detail"]
    assert "courier intervals are Avito's" in other["detail"]
    assert avito.calls("/order-management/1/order/getCourierDeliveryRange") == []
