"""Consolidation over HTTP: an order that no warehouse holds whole is shipped from one hub
after a transfer brings the missing units, the transfer is linked to the order, and its
reservations follow the units (consumed at the source when the transfer leaves, set aside at
the hub when it arrives), with the stock invariants clean after every step."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from potok.cli.main import app
from potok.settings import get_settings
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import get_order, levels, no_drift, open_reservations, place
from tests.e2e.test_transfers_api import act, incoming
from tests.factories import build_world_api
from tests.invariants import assert_stock_invariants

NIZHNY = (56.3269, 44.0059)  # ~400 km from Moscow, ~900 km from St Petersburg
TARIFFS = "\n".join(
    [
        "warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days",
        "MSK,,0,,300,0,0,1",
        "SPB,,0,700,150,0,0,2",  # the trunk to Moscow is cheap
        "SPB,,700,,1500,0,0,4",  # the long haul to Nizhny is not
    ]
)


def consolidated_order(api: httpx.Client, live: LiveServer) -> tuple[dict[str, Any], str]:
    build_world_api(api, {("MSK", "KET"): 3, ("SPB", "MUG"): 3, ("SPB", "TOY"): 1})
    response = api.put(
        "/api/v1/sourcing/tariffs", content=TARIFFS.encode(), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    order = place(api, [("KET", 2), ("MUG", 2)], to=NIZHNY)
    assert order["status"] == "reserved"
    page = api.get("/api/v1/transfers").json()
    (transfer,) = page["items"]
    return order, transfer["number"]


def test_an_order_consolidated_at_a_hub_follows_its_transfer_from_request_to_arrival(
    api: httpx.Client, live: LiveServer
) -> None:
    order, number = consolidated_order(api, live)
    order_id = order["id"]

    transfer = api.get(f"/api/v1/transfers/{number}").json()
    assert (transfer["from_warehouse"], transfer["to_warehouse"]) == ("SPB", "MSK")
    assert (transfer["status"], transfer["order_id"]) == ("requested", order_id)
    assert [(line["sku"], line["quantity"]) for line in transfer["lines"]] == [("MUG", 2)]
    assert f"order {order_id}" in transfer["comment"]
    # the units are reserved where they are now: the mugs at the source
    assert sorted(open_reservations(get_order(api, order_id))) == [
        ("MSK", "KET", 2),
        ("SPB", "MUG", 2),
    ]
    history = get_order(api, order_id)["history"]
    requested = next(h for h in history if h["action"] == "transfer_requested")
    assert requested["reason"].startswith(f"2 units of MUG come to MSK by transfer {number}")
    dry_run = api.get(f"/api/v1/orders/{order_id}/sourcing").json()["dry_run"]
    assert dry_run["warehouses"] == ["MSK"]
    assert [
        (t["from_warehouse"], t["to_warehouse"], t["cost_rub"], t["units"])
        for t in dry_run["record"]["transfer_plan"]
    ] == [("SPB", "MSK", "150.00", 2)]
    assert dry_run["record"]["total_cost_rub"] == "450.00"
    assert dry_run["explanation"].startswith("Consolidated at MSK")
    assert "2 shipments" in dry_run["record"]["alternative"]
    assert_stock_invariants(live.potok)

    shipped = act(api, number, "ship")

    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["in_transit"] == 2
    # the mugs left on-hand and reserved together; the spare mug and toy were not touched
    assert levels(api)[("SPB", "MUG")] == (1, 0)
    assert levels(api)[("SPB", "TOY")] == (1, 0)
    assert incoming(api, warehouse="MSK")[("MSK", "MUG")]["quantity"] == 2
    after_ship = get_order(api, order_id)
    assert after_ship["status"] == "reserved"
    assert open_reservations(after_ship) == [("MSK", "KET", 2)]
    assert [
        (r["warehouse"], r["sku"], r["quantity"])
        for r in after_ship["reservations"]
        if r["status"] == "consumed"
    ] == [("SPB", "MUG", 2)]
    assert_stock_invariants(live.potok)
    no_drift(api)

    arrived = act(api, number, "receive")

    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["backorders_reserved"] == []
    assert levels(api)[("MSK", "MUG")] == (2, 2)  # arrived, and set aside for the order
    after_arrival = get_order(api, order_id)
    assert after_arrival["status"] == "reserved"
    assert sorted(open_reservations(after_arrival)) == [("MSK", "KET", 2), ("MSK", "MUG", 2)]
    history = get_order(api, order_id)["history"]
    actions = [h["action"] for h in history]
    assert actions.index("transfer_requested") < actions.index("transfer_shipped")
    assert actions.index("transfer_shipped") < actions.index("transfer_received")
    assert_stock_invariants(live.potok)
    no_drift(api)


def test_arrivals_go_to_the_order_they_came_for_before_any_backorder(
    api: httpx.Client, live: LiveServer
) -> None:
    order, number = consolidated_order(api, live)
    waiting = place(api, [("MUG", 2)], to=NIZHNY)  # the network has one free mug left
    assert waiting["status"] == "backordered"
    assert act(api, number, "ship").status_code == 200

    arrived = act(api, number, "receive")

    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["backorders_reserved"] == []
    assert sorted(open_reservations(get_order(api, order["id"]))) == [
        ("MSK", "KET", 2),
        ("MSK", "MUG", 2),
    ]
    assert get_order(api, waiting["id"])["status"] == "backordered"
    assert_stock_invariants(live.potok)


def test_a_short_arrival_sends_the_order_to_be_sourced_again(
    api: httpx.Client, live: LiveServer
) -> None:
    order, number = consolidated_order(api, live)
    assert act(api, number, "ship").status_code == 200

    arrived = act(
        api, number, "receive", {"lines": [{"line_no": 1, "quantity": 1, "reason": "one broken"}]}
    )

    assert arrived.status_code == 200, arrived.text
    after = get_order(api, order["id"])
    assert after["status"] == "reserved"  # sourced again: the last mug comes from SPB too
    assert sorted(open_reservations(after)) == [
        ("MSK", "KET", 2),
        ("MSK", "MUG", 1),
        ("SPB", "MUG", 1),
    ]
    again = [t for t in api.get("/api/v1/transfers").json()["items"] if t["number"] != number]
    assert [(t["status"], t["order_id"], t["lines"][0]["quantity"]) for t in again] == [
        ("requested", order["id"], 1)
    ]
    assert_stock_invariants(live.potok)
    no_drift(api)


def test_a_short_arrival_backorders_the_order_when_the_network_has_no_more(
    api: httpx.Client, live: LiveServer
) -> None:
    order, number = consolidated_order(api, live)
    place(api, [("MUG", 1)], to=NIZHNY)  # takes the spare mug
    assert act(api, number, "ship").status_code == 200

    arrived = act(
        api, number, "receive", {"lines": [{"line_no": 1, "quantity": 1, "reason": "one broken"}]}
    )

    assert arrived.status_code == 200, arrived.text
    after = get_order(api, order["id"])
    assert after["status"] == "backordered"
    assert open_reservations(after) == []
    assert levels(api)[("MSK", "MUG")] == (1, 0)
    assert_stock_invariants(live.potok)
    no_drift(api)


def test_cancelling_the_transfer_sources_the_order_again_without_it(
    api: httpx.Client, live: LiveServer
) -> None:
    order, number = consolidated_order(api, live)

    cancelled = act(api, number, "cancel", {"reason": "no truck this week"})

    assert cancelled.status_code == 200, cancelled.text
    after = get_order(api, order["id"])
    assert after["status"] == "reserved"
    # the source ships its mugs itself now: a split, and no new transfer
    assert sorted(open_reservations(after)) == [("MSK", "KET", 2), ("SPB", "MUG", 2)]
    statuses = [t["status"] for t in api.get("/api/v1/transfers").json()["items"]]
    assert statuses == ["cancelled"]
    history = get_order(api, order["id"])["history"]
    actions = [h["action"] for h in history]
    assert "transfer_cancelled" in actions
    assert "transfer_skipped" in actions
    assert_stock_invariants(live.potok)
    no_drift(api)


def test_cancelling_the_order_calls_off_its_requested_transfer(
    api: httpx.Client, live: LiveServer
) -> None:
    order, number = consolidated_order(api, live)

    response = api.post(
        f"/api/v1/orders/{order['id']}/cancellation", json={"reason": "changed their mind"}
    )

    assert response.status_code == 200, response.text
    transfer = api.get(f"/api/v1/transfers/{number}").json()
    assert (transfer["status"], transfer["order_id"]) == ("cancelled", order["id"])
    assert levels(api)[("SPB", "MUG")] == (3, 0)
    assert_stock_invariants(live.potok)


def test_an_order_sourced_again_without_a_transfer_calls_off_the_one_it_waited_for(
    api: httpx.Client, live: LiveServer
) -> None:
    order, number = consolidated_order(api, live)
    receipt = {"warehouse": "MSK", "sku": "MUG", "quantity": 2}
    assert api.post("/api/v1/stock/receipts", json=receipt).status_code == 201
    # the mugs waiting for the transfer at SPB are written off: the order is sourced
    # again, and the hub now has every line itself
    write_off = {"warehouse": "SPB", "sku": "MUG", "quantity": 3, "reason": "broken"}
    assert api.post("/api/v1/stock/write-offs", json=write_off).status_code == 201

    after = get_order(api, order["id"])
    assert sorted(open_reservations(after)) == [("MSK", "KET", 2), ("MSK", "MUG", 2)]
    transfer = api.get(f"/api/v1/transfers/{number}").json()
    assert transfer["status"] == "cancelled"
    assert any(
        h["action"] == "transfer_cancelled" and number in (h["reason"] or "")
        for h in after["history"]
    )
    assert_stock_invariants(live.potok)


def test_an_order_backordered_after_its_hub_closes_calls_off_its_transfer(
    api: httpx.Client, live: LiveServer
) -> None:
    order, number = consolidated_order(api, live)

    response = api.patch("/api/v1/warehouses/MSK", json={"active": False})

    assert response.status_code == 200, response.text
    assert get_order(api, order["id"])["status"] == "backordered"  # kettles only at MSK
    assert api.get(f"/api/v1/transfers/{number}").json()["status"] == "cancelled"
    assert levels(api)[("SPB", "MUG")] == (3, 0)
    assert_stock_invariants(live.potok)


@pytest.fixture
def _environment_as_found() -> Iterator[None]:
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


@pytest.mark.usefixtures("_environment_as_found")
def test_the_command_line_shows_the_order_a_transfer_brings_units_for(
    api: httpx.Client, live: LiveServer, database_url: str
) -> None:
    order, number = consolidated_order(api, live)
    env = {"COLUMNS": "200", "USER": "mover"}

    listed = CliRunner().invoke(app, ["--db", database_url, "transfers", "list"], env=env)
    shown = CliRunner().invoke(app, ["--db", database_url, "transfers", "show", number], env=env)

    assert listed.exit_code == 0, listed.output
    assert "order_id" in listed.output
    (row,) = [text for text in listed.output.splitlines() if number in text]
    assert row.split("│")[-2].strip() == str(order["id"])
    assert shown.exit_code == 0, shown.output
    assert f"for order {order['id']}" in shown.output
