"""Fulfilment over HTTP: a wave picked by scans (a shortage on the way), parcels packed with
marking codes, hand-over taking stock off the books - with problems for wrong scans, codes
and steps, Idempotency-Key on the creating POSTs, and warehouse staff kept to their own."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from potok.db.tables import outbox_events
from potok.domain.access import Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import get_order, levels, no_drift, place
from tests.factories import build_world_api
from tests.problems import field_codes, problem

SHOE = {
    "sku": "SHOE",
    "name": "Кроссовки",
    "price": "5990.00",
    "vat_rate": "22",
    "barcode": "4650000000010",
    "barcodes": ["04650000000010", "2000000000015"],
    "unit_identifiers": ["marking"],
    "weight_g": 800,
}


def marking(serial: str) -> str:
    return f"010465000000001021{serial}\x1d91EE10\x1d92" + "B" * 44


def bins(api: httpx.Client, placed: dict[str, str]) -> None:
    for sequence, code in enumerate(sorted(set(placed.values())), start=1):
        response = api.post(
            "/api/v1/warehouses/MSK/locations",
            json={"code": code, "zone": "A", "pick_sequence": sequence * 10},
        )
        assert response.status_code == 201, response.text
    for sku, code in placed.items():
        response = api.post(
            "/api/v1/stock/placements", json={"warehouse": "MSK", "sku": sku, "location": code}
        )
        assert response.status_code in (200, 201), response.text


def world(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 6, ("MSK", "MUG"): 6})
    response = api.post("/api/v1/products", json=SHOE)
    assert response.status_code == 201, response.text
    assert response.json()["barcodes"] == ["04650000000010", "2000000000015"]
    assert response.json()["unit_identifiers"] == ["marking"]
    api.post(
        "/api/v1/stock/receipts", json={"warehouse": "MSK", "sku": "SHOE", "quantity": 4}
    ).raise_for_status()
    bins(api, {"MUG": "A-01", "SHOE": "A-02", "KET": "B-01"})


def wave_of(api: httpx.Client, orders: list[int], key: str | None = None) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else {}
    response = api.post(
        "/api/v1/waves", json={"warehouse": "MSK", "orders": orders}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def scan(api: httpx.Client, wave: str, **body: Any) -> httpx.Response:
    return api.post(f"/api/v1/waves/{wave}/picks", json=body)


def events(live: LiveServer, prefix: str) -> list[str]:
    with live.potok.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(outbox_events.c.type)
                .where(outbox_events.c.type.like(prefix + "%"))
                .order_by(outbox_events.c.id)
            ).scalars()
        )


def test_a_wave_is_picked_packed_with_marking_codes_and_handed_over(
    api: httpx.Client, live: LiveServer
) -> None:
    world(api)
    first = place(api, [("SHOE", 1), ("MUG", 2)])["id"]
    second = place(api, [("MUG", 1), ("KET", 3)], priority=5)["id"]

    wave = wave_of(api, [first, second], key="wave-1")
    again = api.post(
        "/api/v1/waves",
        json={"warehouse": "MSK", "orders": [first, second]},
        headers={"Idempotency-Key": "wave-1"},
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == wave["number"]
    reused = api.post(
        "/api/v1/waves", json={"warehouse": "MSK"}, headers={"Idempotency-Key": "wave-1"}
    )
    problem(reused, 409, "idempotency-key-reused")

    # the lines walk the bins; the urgent order has slot 1
    assert [(ln["location"], ln["sku"], ln["quantity"]) for ln in wave["lines"]] == [
        ("A-01", "MUG", 3),
        ("A-02", "SHOE", 1),
        ("B-01", "KET", 3),
    ]
    assert [(s["slot"], s["order_id"]) for s in wave["slots"]] == [(1, second), (2, first)]
    number = wave["number"]

    # wrong scans say what was expected and change nothing
    body = problem(scan(api, number, code="MUG", bin="B-01"), 422, "wrong-bin")
    assert body["expected"] == "A-01"
    problem(scan(api, number, code="BKS"), 422, "wrong-product")
    problem(scan(api, number, code="MUG", quantity=4), 409, "already-picked")
    problem(scan(api, number, code="MUG", quantity="2"), 422, "invalid-input")  # strict
    assert get_order(api, first)["status"] == "reserved"  # refused scans started nothing

    picked = scan(api, number, code="MUG", quantity=3, bin="A-01")
    assert picked.status_code == 201, picked.text
    assert get_order(api, first)["status"] == "in_fulfilment"
    assert [(t["slot"], t["quantity"]) for t in picked.json()["takes"]] == [(1, 1), (2, 2)]
    # the shoe by its second barcode
    assert scan(api, number, code="2000000000015", bin="A-02").status_code == 201

    # two kettles only on the shelf: picked short, the third re-sourced (SPB has none ->
    # backordered with an alert; the shipment goes with what it has)
    slot_one = next(s for s in wave["slots"] if s["slot"] == 1)["shipment_id"]
    assert scan(api, number, code="KET", quantity=2, bin="B-01").status_code == 201
    shortage = api.post(
        f"/api/v1/shipments/{slot_one}/shortages",
        json={"sku": "KET", "missing": 1, "note": "пустая ячейка"},
    )
    assert shortage.status_code == 201, shortage.text
    assert shortage.json()["resourced"] is False
    assert shortage.json()["alerts"]
    assert shortage.json()["order_status"] == "in_fulfilment"
    no_drift(api)

    wave_now = api.get(f"/api/v1/waves/{number}").json()
    assert wave_now["left"] == 0
    assert wave_now["status"] == "done"

    # pack the urgent order's shipment and hand it over
    shipment = api.get(f"/api/v1/shipments/{slot_one}").json()
    items = {i["sku"]: i["item_no"] for i in shipment["items"]}
    too_many = api.post(
        f"/api/v1/shipments/{slot_one}/parcels",
        json={
            "weight_g": 3000,
            "length_mm": 400,
            "width_mm": 300,
            "height_mm": 300,
            "items": [{"item_no": items["KET"], "quantity": 3}],
        },
    )
    problem(too_many, 422, "pack-exceeds-picked")
    parcel = api.post(
        f"/api/v1/shipments/{slot_one}/parcels",
        json={
            "weight_g": 3000,
            "length_mm": 400,
            "width_mm": 300,
            "height_mm": 300,
            "items": [
                {"item_no": items["KET"], "quantity": 2},
                {"item_no": items["MUG"], "quantity": 1},
            ],
        },
        headers={"Idempotency-Key": "parcel-1"},
    )
    assert parcel.status_code == 201, parcel.text
    assert parcel.json()["status"] == "packed"
    replay = api.post(
        f"/api/v1/shipments/{slot_one}/parcels",
        json={
            "weight_g": 3000,
            "length_mm": 400,
            "width_mm": 300,
            "height_mm": 300,
            "items": [
                {"item_no": items["KET"], "quantity": 2},
                {"item_no": items["MUG"], "quantity": 1},
            ],
        },
        headers={"Idempotency-Key": "parcel-1"},
    )
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert len(api.get(f"/api/v1/shipments/{slot_one}").json()["parcels"]) == 1
    handed = api.post(
        f"/api/v1/shipments/{slot_one}/handover",
        json={"carrier": "sandbox", "tracking_number": "SBX-001"},
    )
    assert handed.status_code == 200, handed.text
    assert get_order(api, second)["status"] == "partially_shipped"  # the third kettle waits

    # the shoe: its marking code is checked, and must be there before hand-over
    other = next(s for s in wave["slots"] if s["slot"] == 2)["shipment_id"]
    items = {i["sku"]: i["item_no"] for i in api.get(f"/api/v1/shipments/{other}").json()["items"]}

    def pack(codes: list[str]) -> httpx.Response:
        return api.post(
            f"/api/v1/shipments/{other}/parcels",
            json={
                "weight_g": 1700,
                "length_mm": 350,
                "width_mm": 250,
                "height_mm": 150,
                "items": [
                    {"item_no": items["SHOE"], "quantity": 1, "marking_codes": codes},
                    {"item_no": items["MUG"], "quantity": 2},
                ],
            },
        )

    body = problem(pack(["0104650000000011" + "21x\x1d93abcd"]), 422, "invalid-input")
    assert field_codes(body) == {"items[0].codes[0]": "bad-check-digit"}
    unpacked = pack([])
    assert unpacked.status_code == 201
    assert unpacked.json()["missing_identifiers"] == ["1 of 1 marking codes of SHOE"]
    problem(api.post(f"/api/v1/shipments/{other}/handover"), 422, "identifiers-missing")
    reopened = api.delete(f"/api/v1/shipments/{other}/parcels/1")
    assert reopened.json()["status"] == "picking"
    assert pack([marking("shoe-1")]).status_code == 201
    left = api.post(f"/api/v1/shipments/{other}/handover")
    assert left.status_code == 200, left.text
    assert left.json()["codes"][0]["key"] == "04650000000010shoe-1"
    assert get_order(api, first)["status"] == "shipped"

    # stock left the books, with a ledger entry per position
    found = levels(api, warehouse="MSK")
    assert found[("MSK", "MUG")] == (3, 0)
    assert found[("MSK", "SHOE")] == (3, 0)
    assert found[("MSK", "KET")] == (3, 0)  # 6, one written down as missing, two shipped
    no_drift(api)
    assert events(live, "shipment.") == [
        "shipment.created",
        "shipment.created",
        "shipment.picking_started",
        "shipment.picking_started",
        "shipment.short_picked",
        "shipment.packed",
        "shipment.handed_over",
        "shipment.packed",
        "shipment.reopened",
        "shipment.packed",
        "shipment.handed_over",
    ]


def test_warehouse_staff_see_and_pick_only_their_own_warehouses(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 2, ("SPB", "MUG"): 2})
    at_msk = place(api, [("KET", 1)])["id"]
    at_spb = place(api, [("MUG", 1)])["id"]
    msk = api.post(f"/api/v1/orders/{at_msk}/shipments", json={"warehouse": "MSK"}).json()[0]
    spb = api.post(f"/api/v1/orders/{at_spb}/shipments", json={"warehouse": "SPB"}).json()[0]
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("MSK",))
    picker = sign_in(live.url, "picker")

    listed = picker.request("GET", "/api/v1/shipments").json()["items"]
    assert [s["id"] for s in listed] == [msk["id"]]
    problem(picker.request("GET", f"/api/v1/shipments/{spb['id']}"), 404, "shipment-not-found")
    problem(
        picker.request("POST", f"/api/v1/shipments/{spb['id']}/picks", json={"code": "MUG"}),
        404,
        "shipment-not-found",
    )
    done = picker.request("POST", f"/api/v1/shipments/{msk['id']}/picks", json={"code": "KET"})
    assert done.status_code == 201, done.text
    assert done.json()["left"] == 0


def test_a_channel_key_sees_only_its_channels_shipments(
    api: httpx.Client, live: LiveServer
) -> None:
    from tests.conftest import key_for

    build_world_api(api, {("MSK", "KET"): 4})
    web = place(api, [("KET", 1)])["id"]
    phone = place(api, [("KET", 1)], channel="phone")["id"]
    api.post(f"/api/v1/orders/{phone}/confirmation").raise_for_status()
    for order_id in (web, phone):
        api.post(f"/api/v1/orders/{order_id}/shipments", json={"warehouse": "MSK"})
    shop = live.client(
        headers={"Authorization": f"Bearer {key_for(live.potok, channel='web', name='shop')}"}
    )
    listed = shop.get("/api/v1/shipments").json()["items"]
    assert [s["order_id"] for s in listed] == [web]
    hidden = api.get("/api/v1/shipments", params={"order_id": phone}).json()["items"][0]["id"]
    problem(shop.get(f"/api/v1/shipments/{hidden}"), 404, "shipment-not-found")
    assert shop.get("/api/v1/waves").json()["items"] == []
