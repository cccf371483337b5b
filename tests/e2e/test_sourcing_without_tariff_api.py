"""A location the tariff table does not name still ships: the built-in distance bands price
it as an estimate, the record says so, and the operators get one alert for the location,
not one per order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import sqlalchemy as sa

from potok.db.tables import outbox_events
from tests.conftest import LiveServer
from tests.e2e.test_sourcing_api import HEADER, TARIFFS, put_csv, sourcing_of
from tests.factories import build_world_api, order_body
from tests.invariants import assert_stock_invariants

VOLGOGRAD = (48.7080, 44.5133)
NEAR_THE_NEW_DC = (48.7150, 44.5000)  # about 1 km from it


def open_new_channel_with_a_new_warehouse(api: httpx.Client, units: int) -> None:
    """As the issue found it: a new channel, served by a new warehouse only, with stock and
    no tariff rows."""
    channel = {
        "code": "volga",
        "name": "Volga shop",
        "type": "web",
        "confirmation": "auto",
        "backorders": "backorder",
        "safety_buffer": 0,
        "payment_deadline_minutes": 60,
    }
    assert api.post("/api/v1/channels", json=channel).status_code == 201
    warehouse = {
        "code": "VLG",
        "name": "Volgograd DC",
        "type": "warehouse",
        "city": "Волгоград",
        "latitude": VOLGOGRAD[0],
        "longitude": VOLGOGRAD[1],
        "channels": ["volga"],
    }
    assert api.post("/api/v1/warehouses", json=warehouse).status_code == 201
    receipt = {"warehouse": "VLG", "sku": "KET", "quantity": units}
    assert api.post("/api/v1/stock/receipts", json=receipt).status_code in (200, 201)


def place_at_volgograd(api: httpx.Client, n: int) -> dict[str, Any]:
    body = order_body([("KET", 1)], channel="volga", to=NEAR_THE_NEW_DC, external_id=f"v-{n}")
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def tariff_alerts(api: httpx.Client) -> list[dict[str, Any]]:
    listed = api.get("/api/v1/alerts", params={"state": "all"})
    assert listed.status_code == 200, listed.text
    return [a for a in listed.json()["items"] if a["kind"] == "location_ships_without_tariff"]


def test_a_new_warehouse_without_tariff_rows_ships_at_an_estimate_with_one_alert(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    assert put_csv(api, TARIFFS).status_code == 200  # names MSK, SPB, KZN, MSK-S: not VLG
    open_new_channel_with_a_new_warehouse(api, 50)

    orders = [place_at_volgograd(api, n) for n in range(3)]

    assert [o["status"] for o in orders] == ["reserved"] * 3
    assert {r["warehouse"] for o in orders for r in o["reservations"]} == {"VLG"}
    [kept] = sourcing_of(api, orders[-1]["id"])["stored"]
    record = kept["record"]
    # 1.2 kg within 50 km: the built-in band's 250 ₽ + 10 ₽/kg
    assert record["shipments"] == [
        {
            "warehouse": "VLG",
            "cost_rub": "262.00",
            "days": 1,
            "weight_kg": 1.2,
            "units": 1,
            "tariff": "estimate: no tariff for this location, built-in band 0-50 km",
            "estimate": True,
            "carrier": None,  # the channel's rules choose no carrier
            "price_source": None,
        }
    ]
    [vlg] = [c for c in record["candidates"] if c["warehouse"] == "VLG"]
    assert (vlg["chosen"], vlg["estimate"], vlg["excluded"]) == (True, True, None)
    assert "estimate" in kept["explanation"]

    [alert] = tariff_alerts(api)
    assert alert["subject"] == "VLG (tariffs 1)"
    assert alert["order_id"] is None
    assert f"order {orders[0]['id']}" in alert["message"]
    assert "VLG" in alert["message"]
    with live.potok.engine.connect() as connection:
        raised = connection.execute(
            sa.select(sa.func.count())
            .select_from(outbox_events)
            .where(outbox_events.c.type == "alert.raised")
        ).scalar_one()
    assert raised == 1
    assert_stock_invariants(live.potok)


def test_once_the_tariff_table_prices_the_warehouse_its_orders_are_no_estimate(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    assert put_csv(api, TARIFFS).status_code == 200
    open_new_channel_with_a_new_warehouse(api, 50)
    place_at_volgograd(api, 0)
    assert len(tariff_alerts(api)) == 1

    assert put_csv(api, TARIFFS + "\nVLG,,0,,300,10,0,2").status_code == 200
    order = place_at_volgograd(api, 1)

    [kept] = sourcing_of(api, order["id"])["stored"]
    [shipment] = kept["record"]["shipments"]
    assert (shipment["cost_rub"], shipment["estimate"], shipment["tariff"]) == (
        "312.00",
        False,
        "0 km and beyond",
    )
    assert "estimate" not in kept["explanation"]
    assert len(tariff_alerts(api)) == 1


def test_a_named_store_whose_tariffs_do_not_reach_is_left_out_with_that_reason(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK-S", "KET"): 5})
    local = "\n".join([HEADER, "MSK,,0,,900,20,0,1", "MSK-S,,0,50,100,0,0,1"])
    assert put_csv(api, local).status_code == 200

    order = place_at_volgograd_by_web(api)

    assert order["status"] == "backordered"
    [kept] = sourcing_of(api, order["id"])["stored"]
    [store] = [c for c in kept["record"]["candidates"] if c["warehouse"] == "MSK-S"]
    assert store["excluded"] == "no shipping tariff reaches the destination"
    assert store["why_not"] == "no shipping tariff reaches the destination"
    # the order waits beside 5 kettles, and its explanation says why
    assert kept["explanation"] == (
        "The warehouses allowed to ship this order lack units of KET (need 1, have 0); "
        "left out although they hold units: MSK-S (5 KET: no shipping tariff reaches the "
        "destination)"
    )
    assert tariff_alerts(api) == []


def place_at_volgograd_by_web(api: httpx.Client) -> dict[str, Any]:
    response = api.post("/api/v1/orders", json=order_body([("KET", 1)], to=NEAR_THE_NEW_DC))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def test_orders_racing_from_many_clients_raise_one_alert_for_the_location(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    assert put_csv(api, TARIFFS).status_code == 200
    open_new_channel_with_a_new_warehouse(api, 40)
    headers = dict(api.headers)

    def place(n: int) -> str:
        with live.client(headers=headers) as client:
            status: str = place_at_volgograd(client, n)["status"]
            return status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(place, range(24), timeout=120))

    assert statuses == ["reserved"] * 24
    assert len(tariff_alerts(api)) == 1
    assert_stock_invariants(live.potok)
