"""The whole path through the API, on SQLite and PostgreSQL: orders reserved, picked in a
wave with a shortage (the rest re-sourced to another warehouse), packed with marking
codes, handed over to the sandbox carrier, moved by its webhook - in transit, at the
pickup point, delivered - and a failed delivery that goes back to the sender."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from potok.connectors.carriers import SandboxCarrier, TrackingEvent, TrackingStatus
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import get_order, levels, no_drift, place
from tests.factories import build_world_api

SHOE = {
    "sku": "SHOE",
    "name": "Кроссовки",
    "price": "5990.00",
    "vat_rate": "22",
    "barcode": "4650000000010",
    "unit_identifiers": ["marking"],
    "weight_g": 800,
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def code(serial: str) -> str:
    return f"010465000000001021{serial}\x1d91EE10\x1d92" + "Q" * 44


def push(client: httpx.Client, carrier: SandboxCarrier, *events: TrackingEvent) -> Any:
    headers, body = carrier.webhook(list(events))
    return ok(client.post("/api/v1/carriers/sandbox/events", content=body, headers=headers))


def test_order_to_delivery_and_back_to_the_sender(
    api: httpx.Client, anonymous: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 3, ("SPB", "KET"): 4})
    ok(api.post("/api/v1/products", json=SHOE), 201)
    ok(
        api.post("/api/v1/stock/receipts", json={"warehouse": "MSK", "sku": "SHOE", "quantity": 5}),
        201,
    )
    for sequence, (sku, bin_code) in enumerate((("SHOE", "A-01"), ("KET", "A-02")), start=1):
        ok(
            api.post(
                "/api/v1/warehouses/MSK/locations",
                json={"code": bin_code, "zone": "A", "pick_sequence": sequence},
            ),
            201,
        )
        placed = api.post(
            "/api/v1/stock/placements", json={"warehouse": "MSK", "sku": sku, "location": bin_code}
        )
        assert placed.status_code in (200, 201), placed.text

    # two orders, reserved at MSK: one to a pickup point, one by courier
    collect = place(
        api,
        [("SHOE", 1), ("KET", 2)],
        delivery={"method": "pickup", "pickup_point": "MSK-P"},
        promised_at=(datetime.now(UTC) + timedelta(days=5)).isoformat(),
    )["id"]
    courier = place(api, [("KET", 1), ("SHOE", 1)], priority=5)["id"]  # slot 1 of the wave
    for order_id in (collect, courier):
        assert get_order(api, order_id)["status"] == "reserved"

    # a wave: one walk through the bins, units sorted into the two orders' slots
    wave = ok(api.post("/api/v1/waves", json={"warehouse": "MSK", "max_orders": 10}), 201)
    assert [(ln["location"], ln["sku"], ln["quantity"]) for ln in wave["lines"]] == [
        ("A-01", "SHOE", 2),
        ("A-02", "KET", 3),
    ]
    slot = {s["order_id"]: s["shipment_id"] for s in wave["slots"]}
    number = wave["number"]
    ok(
        api.post(
            f"/api/v1/waves/{number}/picks",
            json={"code": "4650000000010", "quantity": 2, "bin": "A-01"},
        ),
        201,
    )
    # only two kettles on the shelf: slot 1 gets its one, the pickup order one of its two,
    # and the picker reports the other missing
    kettles = ok(
        api.post(
            f"/api/v1/waves/{number}/picks", json={"code": "KET", "quantity": 2, "bin": "A-02"}
        ),
        201,
    )
    assert [(t["order_id"], t["quantity"]) for t in kettles["takes"]] == [
        (courier, 1),
        (collect, 1),
    ]
    short_of = slot[collect]
    shortage = ok(
        api.post(f"/api/v1/shipments/{short_of}/shortages", json={"sku": "KET", "missing": 1}), 201
    )
    assert shortage["resourced"] is True  # SPB has kettles: the rest ships from there
    assert ok(api.get(f"/api/v1/waves/{number}"))["status"] == "done"
    short_order = collect
    assert get_order(api, collect)["status"] == "in_fulfilment"
    no_drift(api)

    # pack: each shoe with its marking code; hand over to the sandbox carrier
    handed: dict[int, dict[str, Any]] = {}
    for order_id, serial in ((collect, "collect-1"), (courier, "courier-1")):
        shipment = ok(api.get(f"/api/v1/shipments/{slot[order_id]}"))
        items = [
            {
                "item_no": i["item_no"],
                "quantity": i["picked"],
                "marking_codes": [code(serial)] if i["sku"] == "SHOE" else [],
            }
            for i in shipment["items"]
            if i["picked"]
        ]
        parcel = {
            "weight_g": 2400,
            "length_mm": 400,
            "width_mm": 300,
            "height_mm": 200,
            "items": items,
        }
        assert (
            ok(api.post(f"/api/v1/shipments/{slot[order_id]}/parcels", json=parcel), 201)["status"]
            == "packed"
        )
        handed[order_id] = ok(
            api.post(f"/api/v1/shipments/{slot[order_id]}/handover", json={"carrier": "sandbox"})
        )
        assert handed[order_id]["tracking_number"].startswith("SBX")
        assert handed[order_id]["eta_on"] is not None
    # the re-sourced kettle: its own shipment from SPB
    rest = ok(api.post(f"/api/v1/orders/{short_order}/shipments", json={"warehouse": "SPB"}), 201)[
        0
    ]
    ok(api.post(f"/api/v1/shipments/{rest['id']}/picks", json={"code": "KET"}), 201)
    ok(
        api.post(
            f"/api/v1/shipments/{rest['id']}/parcels",
            json={
                "weight_g": 1300,
                "length_mm": 300,
                "width_mm": 200,
                "height_mm": 200,
                "items": [{"item_no": 1, "quantity": 1}],
            },
        ),
        201,
    )
    handed[-1] = ok(
        api.post(f"/api/v1/shipments/{rest['id']}/handover", json={"carrier": "sandbox"})
    )
    for order_id in (collect, courier):
        assert get_order(api, order_id)["status"] == "shipped"
    found = levels(api, warehouse="MSK")
    assert found[("MSK", "KET")] == (0, 0)  # 3, one written down as missing, two shipped
    assert found[("MSK", "SHOE")] == (3, 0)
    no_drift(api)

    # the carrier's webhook: the pickup order's parcels reach the point and are collected
    sandbox = SandboxCarrier(secret="sandbox", seed=live.potok.settings.carriers.sandbox_seed)
    now = datetime.now(UTC)
    collect_numbers = [handed[collect]["tracking_number"], handed[-1]["tracking_number"]]
    for index, tracking_number in enumerate(collect_numbers):
        push(
            anonymous,
            sandbox,
            TrackingEvent(
                tracking_number, TrackingStatus.IN_TRANSIT, now, "Принято", f"c{index}-1"
            ),
            TrackingEvent(
                tracking_number,
                TrackingStatus.READY_FOR_PICKUP,
                now + timedelta(seconds=1),
                "Прибыло в пункт выдачи",
                f"c{index}-2",
                storage_until=now + timedelta(days=7),
            ),
        )
    at_point = ok(api.get(f"/api/v1/shipments/{slot[collect]}"))
    assert at_point["status"] == "ready_for_pickup"
    assert at_point["storage_until"] is not None
    for index, tracking_number in enumerate(collect_numbers):
        push(
            anonymous,
            sandbox,
            TrackingEvent(
                tracking_number,
                TrackingStatus.DELIVERED,
                now + timedelta(seconds=2),
                "Выдано",
                f"c{index}-3",
            ),
        )
    assert get_order(api, collect)["status"] == "delivered"
    delivered = ok(api.get(f"/api/v1/shipments/{slot[collect]}"))
    assert delivered["on_time"] is True  # within the promised five days

    # the courier finds nobody, twice; the parcel goes back to the sender
    back = handed[courier]["tracking_number"]
    push(
        anonymous,
        sandbox,
        TrackingEvent(back, TrackingStatus.IN_TRANSIT, now, "Принято", "b-1"),
        TrackingEvent(
            back,
            TrackingStatus.FAILED_DELIVERY,
            now + timedelta(seconds=1),
            "Получатель отсутствовал",
            "b-2",
        ),
    )
    assert ok(api.get(f"/api/v1/shipments/{slot[courier]}"))["status"] == "failed_delivery"
    push(
        anonymous,
        sandbox,
        TrackingEvent(
            back, TrackingStatus.RETURNING, now + timedelta(seconds=2), "Возврат отправителю", "b-3"
        ),
        TrackingEvent(
            back, TrackingStatus.RETURNED_TO_SENDER, now + timedelta(seconds=3), "Возвращено", "b-4"
        ),
    )
    returned = ok(api.get(f"/api/v1/shipments/{slot[courier]}"))
    assert returned["status"] == "returned_to_sender"
    assert get_order(api, courier)["status"] == "returned_to_sender"
    # the shoe came back: on hand again, set aside until someone checks it; its code is free
    shoe = next(
        r
        for r in ok(api.get("/api/v1/stock/levels", params={"warehouse": "MSK", "sku": "SHOE"}))[
            "items"
        ]
    )
    assert (shoe["on_hand"], shoe["unavailable"]) == (4, 1)
    no_drift(api)
    steps = [s["action"] for s in returned["steps"]]
    assert steps[:3] == ["created", "picking_started", "picked"]
    assert steps[-4:] == ["in_transit", "failed_delivery", "returning", "returned_to_sender"]
