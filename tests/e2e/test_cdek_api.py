"""СДЭК over HTTP (its simulator and Potok's real server): a packed order quoted, handed over
(booked), its СДЭК label downloaded, and moved to delivered at a pickup point by СДЭК's own
webhook calls to the URL with the secret; a call without the secret changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from potok.connectors.carriers import CarrierRegistry, SandboxCarrier
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import get_order, no_drift, place
from tests.factories import build_world_api
from tests.integration.test_cdek_connector import SECRET, carrier_for
from tests.problems import problem
from tests.simulators.cdek import CdekSimulator


@pytest.fixture
def with_cdek(live: LiveServer, cdek: CdekSimulator) -> Iterator[LiveServer]:
    """The live server's carriers with СДЭК (the simulator) beside the sandbox."""
    before = live.potok.carriers
    live.potok.carriers = CarrierRegistry([SandboxCarrier(secret="sandbox"), carrier_for(cdek)])
    yield live
    live.potok.carriers = before


def test_a_packed_order_ships_through_cdek_to_a_pickup_point(
    api: httpx.Client, anonymous: httpx.Client, with_cdek: LiveServer, cdek: CdekSimulator
) -> None:
    build_world_api(api, {("MSK", "KET"): 3})
    api.post(
        "/api/v1/warehouses",
        json={
            "code": "MSK123",
            "name": "СДЭК Тверская",
            "type": "pickup_point",
            "city": "Москва",
            "latitude": 55.758,
            "longitude": 37.614,
        },
    ).raise_for_status()
    order_id = place(api, [("KET", 1)], delivery={"method": "pickup", "pickup_point": "MSK123"})[
        "id"
    ]
    (shipment,) = api.post(f"/api/v1/orders/{order_id}/shipments", json={"warehouse": "MSK"}).json()
    shipment_id = shipment["id"]
    api.post(f"/api/v1/shipments/{shipment_id}/picks", json={"code": "KET"}).raise_for_status()
    api.post(
        f"/api/v1/shipments/{shipment_id}/parcels",
        json={
            "weight_g": 1300,
            "length_mm": 300,
            "width_mm": 200,
            "height_mm": 200,
            "items": [{"item_no": 1, "quantity": 1}],
        },
    ).raise_for_status()
    assert [c["code"] for c in api.get("/api/v1/carriers").json()] == ["cdek", "sandbox"]
    quotes = api.get(f"/api/v1/shipments/{shipment_id}/quotes").json()
    assert [(q["carrier"], q["tariff"]) for q in quotes if q["carrier"] == "cdek"] == [
        ("cdek", "366"),
        ("cdek", "138"),
    ]

    left = api.post(f"/api/v1/shipments/{shipment_id}/handover", json={"carrier": "cdek"})
    assert left.status_code == 200, left.text
    number = left.json()["tracking_number"]
    assert cdek.by_number(number).body["delivery_point"] == "MSK123"
    label = api.get(f"/api/v1/shipments/{shipment_id}/carrier-label")
    assert label.status_code == 200, label.text
    assert label.headers["content-type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")

    hook = f"{with_cdek.url}/api/v1/carriers/cdek/events"
    carrier = with_cdek.potok.carriers.get("cdek")
    carrier.subscribe(f"{hook}?secret={SECRET}")  # type: ignore[attr-defined]
    carrier.subscribe(f"{hook}?secret={SECRET}")  # type: ignore[attr-defined]
    assert len(cdek.webhooks) == 1  # subscribed once

    forged = cdek.advance(number, "DELIVERED", post=False)
    problem(anonymous.post(hook, json=forged, params={"secret": "guess"}), 422, "carrier-refused")
    problem(anonymous.post(hook, json=forged), 422, "carrier-refused")
    assert get_order(api, order_id)["status"] == "shipped"
    cdek.orders[cdek.by_number(number).uuid].statuses.pop()  # that status never happened

    cdek.advance(number, "RECEIVED_AT_SHIPMENT_WAREHOUSE")
    cdek.advance(number, "ACCEPTED_AT_PICK_UP_POINT")
    waiting = api.get(f"/api/v1/shipments/{shipment_id}").json()
    assert waiting["status"] == "ready_for_pickup"
    assert waiting["storage_until"] is not None
    cdek.advance(number, "DELIVERED")
    assert [code for _, code in cdek.posted] == [200, 200, 200]
    assert get_order(api, order_id)["status"] == "delivered"
    delivered = api.get(f"/api/v1/shipments/{shipment_id}").json()
    assert [s["action"] for s in delivered["steps"]][-3:] == [
        "in_transit",
        "ready_for_pickup",
        "delivered",
    ]
    no_drift(api)


def test_a_label_needs_a_booking_and_a_carrier_that_prints(
    api: httpx.Client, with_cdek: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    order_id = place(api, [("KET", 1)])["id"]
    (shipment,) = api.post(f"/api/v1/orders/{order_id}/shipments", json={"warehouse": "MSK"}).json()
    problem(
        api.get(f"/api/v1/shipments/{shipment['id']}/carrier-label"), 409, "shipment-not-booked"
    )


def test_a_checkout_finds_points_near_the_customer_and_the_order_names_one(
    api: httpx.Client, with_cdek: LiveServer
) -> None:
    from potok.services import carrier_points

    build_world_api(api, {("MSK", "KET"): 2})
    carrier_points.sync_all(with_cdek.potok.uow(), with_cdek.potok.carriers)
    near = api.get(
        "/api/v1/pickup-points",
        params={"latitude": 55.7575, "longitude": 37.6135, "radius_km": 3, "carrier": "cdek"},
    )
    assert near.status_code == 200, near.text
    assert [(p["code"], p["kind"]) for p in near.json()] == [("MSK123", "PVZ"), ("MSK456", "PVZ")]
    assert near.json()[0]["distance_km"] < 0.1
    in_city = api.get("/api/v1/pickup-points", params={"city": "Тверь"}).json()
    assert [p["code"] for p in in_city] == ["TVR3"]
    problem(api.get("/api/v1/pickup-points", params={"latitude": 55.7}), 422, "invalid-input")
    problem(api.get("/api/v1/pickup-points"), 422, "invalid-input")

    order = place(api, [("KET", 1)], delivery={"method": "pickup", "pickup_point": "MSK456"})
    assert order["delivery"]["pickup_point"] == "MSK456"
    refused = api.post(
        "/api/v1/orders",
        json={
            "channel": "web",
            "delivery": {"method": "pickup", "pickup_point": "MSK000"},
            "lines": [{"sku": "KET", "quantity": 1}],
            "customer": {"name": "Анна", "phone": "+79161234567"},
        },
    )
    problem(refused, 422, "invalid-input")
