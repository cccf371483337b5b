"""Yandex Market's first-mile shipments over Potok's API, on a real HTTP server over SQLite
and PostgreSQL, against the simulated Partner API (every request it receives checked against
Market's document): shipments listed for a day, one read with what Market allows, confirmed
(refused before the cutoff, with Market's words), its act and waybill printed, orders moved
to the next shipment with a note on each Potok order; other marketplaces and campaigns the
connection does not map are refused with what to fix."""

from __future__ import annotations

import httpx

from tests.factories import build_world_api
from tests.problems import problem
from tests.simulators.wildberries import WildberriesSimulator
from tests.simulators.yandex_market import ACT, WAYBILL, YandexMarketSimulator, days_from_now

CAMPAIGN = 21_000_001
BASE = "/api/v1/marketplaces/ym-main/first-mile-shipments"


def connect(api: httpx.Client, market: YandexMarketSimulator) -> None:
    build_world_api(api, {("MSK", "KET"): 20})
    made = api.post(
        "/api/v1/marketplaces",
        json={
            "code": "ym-main",
            "marketplace": "yandex_market",
            "channel": "mp",
            "token": market.api_key,
            "client_id": market.business_id,
            "base_url": market.url,
            "warehouses": {str(CAMPAIGN): "MSK"},
        },
    )
    assert made.status_code == 201, made.text


def kettle() -> list[dict[str, object]]:
    return [{"offerId": "KET", "count": 1, "price": 2490}]


def test_a_days_shipments_are_listed_confirmed_and_their_act_printed(
    api: httpx.Client, yandex_market: YandexMarketSimulator
) -> None:
    connect(api, yandex_market)
    orders = [yandex_market.add_order(items=kettle()) for _ in range(2)]
    tomorrow = days_from_now(1)
    ready = yandex_market.add_shipment(orders, day=tomorrow)
    early = yandex_market.add_shipment([], day=tomorrow, status="OUTBOUND_CREATED")
    yandex_market.add_shipment([], day=days_from_now(5))  # another day: not listed

    listed = api.get(BASE, params={"since": tomorrow.isoformat()})

    assert listed.status_code == 200, listed.text
    assert [(s["id"], s["status"], s["orders"]) for s in listed.json()] == [
        (ready, "OUTBOUND_READY_FOR_CONFIRMATION", [str(o) for o in orders]),
        (early, "OUTBOUND_CREATED", []),
    ]
    assert listed.json()[0]["actions"] is None  # searchShipments does not say
    assert listed.json()[0]["plan_from"] == f"{tomorrow.isoformat()}T09:00:00Z"
    one = api.get(f"{BASE}/{CAMPAIGN}/{ready}").json()
    assert one["actions"] == ["CONFIRM"]
    problem(api.get(f"{BASE}/{CAMPAIGN}/{ready}/act"), 422, "marketplace-refused")

    refused = api.post(f"{BASE}/{CAMPAIGN}/{early}/confirmation", json={})
    body = problem(refused, 422, "marketplace-refused")
    assert "Cutoff time for shipments has not been reached yet" in body["detail"]
    confirmed = api.post(
        f"{BASE}/{CAMPAIGN}/{ready}/confirmation",
        json={"external_id": "MSK-2026-12-08", "signatory": "warehouse.lead"},
    )
    again = api.post(f"{BASE}/{CAMPAIGN}/{ready}/confirmation", json={})

    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["status"], confirmed.json()["actions"]) == (
        "OUTBOUND_CONFIRMED",
        ["DOWNLOAD_ACT"],
    )
    assert confirmed.json()["external_id"] == "MSK-2026-12-08"
    assert again.status_code == 200  # confirming twice changes nothing
    act = api.get(f"{BASE}/{CAMPAIGN}/{ready}/act")
    assert act.status_code == 200
    assert act.headers["content-type"] == "application/pdf"
    assert act.content == ACT
    problem(api.get(f"{BASE}/{CAMPAIGN}/{ready}/waybill"), 422, "marketplace-refused")
    sent = [c.body for c in yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/first-mile/shipments")]
    assert sent == [
        {
            "dateFrom": tomorrow.isoformat(),
            "dateTo": tomorrow.isoformat(),
            "cancelledOrders": False,
        }
    ]
    confirms = yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/first-mile/shipments/{ready}/confirm")
    assert confirms[0].body == {
        "externalShipmentId": "MSK-2026-12-08",
        "signatory": "warehouse.lead",
    }
    assert yandex_market.invalid == []


def test_a_shipment_market_collects_has_a_waybill(
    api: httpx.Client, yandex_market: YandexMarketSimulator
) -> None:
    connect(api, yandex_market)
    collected = yandex_market.add_shipment([], kind="WITHDRAW")
    assert api.post(f"{BASE}/{CAMPAIGN}/{collected}/confirmation", json={}).status_code == 200

    waybill = api.get(f"{BASE}/{CAMPAIGN}/{collected}/waybill")

    assert waybill.status_code == 200, waybill.text
    assert waybill.headers["content-type"] == "application/vnd.ms-excel"
    assert waybill.content == WAYBILL
    assert yandex_market.invalid == []


def test_orders_moved_to_the_next_shipment_are_noted_on_potok_orders(
    api: httpx.Client, yandex_market: YandexMarketSimulator
) -> None:
    connect(api, yandex_market)
    late, on_time = (yandex_market.add_order(items=kettle()) for _ in range(2))
    polled = api.post("/api/v1/marketplaces/ym-main/polls").json()
    assert len(polled["imported"]) == 2
    shipment = yandex_market.add_shipment([late, on_time])

    moved = api.post(f"{BASE}/{CAMPAIGN}/{shipment}/order-transfers", json={"orders": [str(late)]})

    assert moved.status_code == 200, moved.text
    [potok_order] = moved.json()["potok_orders"]
    assert moved.json()["orders"] == [str(late)]
    assert yandex_market.transfers == [(shipment, [late])]
    assert yandex_market.shipments[shipment]["orderIds"] == [on_time]
    history = api.get(f"/api/v1/orders/{potok_order}").json()["history"]
    notes = [h for h in history if h["action"] == "note_added"]
    assert [(n["reason"], n["details"]) for n in notes] == [
        (
            f"moved to the next Yandex Market shipment (from shipment {shipment})",
            {"marketplace_shipment": shipment},
        )
    ]
    refused = api.post(
        f"{BASE}/{CAMPAIGN}/{shipment}/order-transfers", json={"orders": ["51999999"]}
    )
    problem(refused, 422, "marketplace-refused")
    assert yandex_market.invalid == []


def test_other_marketplaces_and_unmapped_campaigns_are_refused_with_what_to_fix(
    api: httpx.Client, yandex_market: YandexMarketSimulator, wildberries: WildberriesSimulator
) -> None:
    connect(api, yandex_market)
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

    problem(
        api.get("/api/v1/marketplaces/wb-main/first-mile-shipments"),
        422,
        "first-mile-not-offered",
    )
    body = problem(api.get(f"{BASE}/21000002/900101"), 422, "campaign-not-connected")
    assert "mapped: 21000001" in body["detail"]
    backwards = api.get(BASE, params={"since": "2026-12-01", "until": "2026-11-30"})
    problem(backwards, 422, "invalid-input")
    problem(
        api.get("/api/v1/marketplaces/nope/first-mile-shipments"),
        404,
        "marketplace-connection-not-found",
    )
    assert yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/first-mile/shipments") == []
