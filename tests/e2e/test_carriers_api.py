"""Carriers over HTTP: quotes, a booking at hand-over, the sandbox's signed webhook moving
the parcel to the customer (a forged call refused, a repeat harmless), pickup points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from potok.connectors.carriers import SandboxCarrier, TrackingEvent, TrackingStatus
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import get_order, no_drift, place
from tests.factories import build_world_api
from tests.problems import problem


def packed_shipment(api: httpx.Client, **order: object) -> tuple[int, int]:
    order_id = place(api, [("KET", 1)], **order)["id"]
    (shipment,) = api.post(f"/api/v1/orders/{order_id}/shipments", json={"warehouse": "MSK"}).json()
    api.post(f"/api/v1/shipments/{shipment['id']}/picks", json={"code": "KET"}).raise_for_status()
    response = api.post(
        f"/api/v1/shipments/{shipment['id']}/parcels",
        json={
            "weight_g": 1300,
            "length_mm": 300,
            "width_mm": 200,
            "height_mm": 200,
            "items": [{"item_no": 1, "quantity": 1}],
        },
    )
    assert response.status_code == 201, response.text
    return order_id, shipment["id"]


def test_a_parcel_is_booked_at_hand_over_and_moved_by_the_carriers_webhook(
    api: httpx.Client, anonymous: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 3})
    order_id, shipment_id = packed_shipment(api)
    assert [c["code"] for c in api.get("/api/v1/carriers").json()] == ["sandbox"]
    quotes = api.get(f"/api/v1/shipments/{shipment_id}/quotes").json()
    assert [(q["carrier"], q["days"]) for q in quotes] == [("sandbox", 2)]

    left = api.post(f"/api/v1/shipments/{shipment_id}/handover", json={"carrier": "sandbox"})
    assert left.status_code == 200, left.text
    shipment = left.json()
    assert shipment["tracking_number"].startswith("SBX")
    assert shipment["label"].endswith(".pdf")
    today = datetime.now(UTC).date()
    assert shipment["eta_on"] in {str(today + timedelta(days=2)), str(today + timedelta(days=3))}

    number = shipment["tracking_number"]
    sandbox = SandboxCarrier(secret="sandbox", seed=live.potok.settings.carriers.sandbox_seed)
    now = datetime.now(UTC)
    headers, body = sandbox.webhook(
        [
            TrackingEvent(number, TrackingStatus.IN_TRANSIT, now, "Принято в СЦ", "w-1"),
            TrackingEvent(
                number,
                TrackingStatus.DELIVERED,
                now + timedelta(seconds=1),
                "Вручено получателю",
                "w-2",
            ),
        ]
    )
    forged = anonymous.post(
        "/api/v1/carriers/sandbox/events",
        content=body,
        headers={**headers, "X-Sandbox-Signature": "sha256=" + "0" * 64},
    )
    problem(forged, 422, "carrier-refused")
    assert get_order(api, order_id)["status"] == "shipped"

    pushed = anonymous.post("/api/v1/carriers/sandbox/events", content=body, headers=headers)
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["applied"] == 2
    assert get_order(api, order_id)["status"] == "delivered"
    repeated = anonymous.post("/api/v1/carriers/sandbox/events", content=body, headers=headers)
    assert (repeated.json()["applied"], repeated.json()["repeated"]) == (0, 2)
    delivered = api.get(f"/api/v1/shipments/{shipment_id}").json()
    assert delivered["status"] == "delivered"
    assert delivered["on_time"] is None  # no promised date
    assert [s["action"] for s in delivered["steps"]][-3:] == [
        "handed_over",
        "in_transit",
        "delivered",
    ]
    no_drift(api)
    problem(api.get("/api/v1/carriers/nobody/pickup-points"), 404, "carrier-not-found")
    points = api.get("/api/v1/carriers/sandbox/pickup-points", params={"city": "Казань"}).json()
    assert [p["code"] for p in points] == ["SBX-KZN-1"]


def test_booking_needs_a_packed_shipment(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    order_id = place(api, [("KET", 1)])["id"]
    (shipment,) = api.post(f"/api/v1/orders/{order_id}/shipments", json={"warehouse": "MSK"}).json()
    refused = api.post(f"/api/v1/shipments/{shipment['id']}/booking", json={"carrier": "sandbox"})
    problem(refused, 409, "shipment-not-picking")
    _, packed = packed_shipment(api)
    booked = api.post(f"/api/v1/shipments/{packed}/booking", json={"carrier": "sandbox"})
    assert booked.status_code == 201, booked.text
    twice = api.post(f"/api/v1/shipments/{packed}/booking", json={"carrier": "sandbox"})
    problem(twice, 422, "invalid-input")


def test_the_planned_carrier_is_changed_without_booking_until_the_shipment_is_booked(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    _, shipment_id = packed_shipment(api)
    url = f"/api/v1/shipments/{shipment_id}/planned-carrier"
    planned = api.put(url, json={"carrier": "sandbox", "reason": "the courier comes at 5"})
    assert planned.status_code == 200, planned.text
    shipment = planned.json()
    assert (shipment["planned_carrier"], shipment["tracking_number"]) == ("sandbox", None)
    step = api.get(f"/api/v1/shipments/{shipment_id}").json()["steps"][-1]
    assert (step["action"], step["reason"]) == ("carrier_planned", "the courier comes at 5")
    assert step["details"] == {"carrier": "sandbox", "by": "operator"}
    unknown = problem(api.put(url, json={"carrier": "dhl"}), 404, "carrier-not-found")
    assert "sandbox" in unknown["detail"]
    problem(api.put(url, json={}), 422, "invalid-input")
    left = api.post(f"/api/v1/shipments/{shipment_id}/handover", json={})
    assert (left.status_code, left.json()["carrier"]) == (200, "sandbox")
    problem(api.put(url, json={"carrier": "sandbox"}), 409, "shipment-not-picking")
