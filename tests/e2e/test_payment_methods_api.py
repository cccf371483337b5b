"""Payment methods over HTTP: a channel names the methods it takes, an order says how it is
paid, and a method the channel does not take is a problem naming ``payment_method``."""

from __future__ import annotations

import httpx

from tests.factories import build_world_api, order_body


def test_an_order_paid_on_delivery_is_taken_only_by_a_channel_that_takes_it(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    web = api.get("/api/v1/channels/web").json()
    assert web["payment_methods"] == [
        "online",
        "cash_on_delivery",
        "card_on_delivery",
        "invoice",
        "marketplace",
        "in_store",
    ]
    cod = api.post(
        "/api/v1/orders", json={**order_body([("KET", 1)]), "payment_method": "cash_on_delivery"}
    )
    assert cod.status_code == 201
    assert (cod.json()["payment_method"], cod.json()["payment_status"]) == (
        "cash_on_delivery",
        "pending",
    )
    shown = api.get(f"/api/v1/orders/{cod.json()['id']}").json()
    assert shown["payment_method"] == "cash_on_delivery"
    assert shown["history"][0]["details"]["payment_method"] == "cash_on_delivery"

    changed = api.patch("/api/v1/channels/web", json={"payment_methods": ["online"]})
    assert changed.status_code == 200
    assert changed.json()["payment_methods"] == ["online"]
    refused = api.post(
        "/api/v1/orders", json={**order_body([("KET", 1)]), "payment_method": "card_on_delivery"}
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "invalid-input"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("payment_method", "payment-method-not-taken")
    ]
    unsaid = api.post("/api/v1/orders", json=order_body([("KET", 1)]))
    assert (unsaid.status_code, unsaid.json()["payment_method"]) == (201, None)
    unknown = api.post(
        "/api/v1/orders", json={**order_body([("KET", 1)]), "payment_method": "barter"}
    )
    assert unknown.status_code == 422
    empty = api.patch("/api/v1/channels/web", json={"payment_methods": []})
    assert empty.status_code == 422


def test_marketplace_and_till_orders_say_how_they_are_paid_and_lists_filter_by_it(
    api: httpx.Client,
) -> None:
    """An order that does not say how it is paid is paid its channel's way when the channel
    has one (a marketplace's, a till's); the order list and its file export filter by the
    method, and a method that does not exist is refused by name."""
    build_world_api(api, {("MSK", "KET"): 10})
    till = {
        "code": "shop1",
        "name": "Store on Tverskaya",
        "type": "pos",
        "confirmation": "auto",
        "backorders": "backorder",
        "safety_buffer": 0,
        "payment_deadline_minutes": None,
    }
    assert api.post("/api/v1/channels", json=till).status_code == 201
    placed = {
        "mp": api.post("/api/v1/orders", json=order_body([("KET", 1)], channel="mp")),
        "shop1": api.post("/api/v1/orders", json=order_body([("KET", 1)], channel="shop1")),
        "web": api.post("/api/v1/orders", json=order_body([("KET", 1)])),
        "cod": api.post(
            "/api/v1/orders",
            json={**order_body([("KET", 1)]), "payment_method": "cash_on_delivery"},
        ),
    }
    assert {k: (v.status_code, v.json()["payment_method"]) for k, v in placed.items()} == {
        "mp": (201, "marketplace"),
        "shop1": (201, "in_store"),
        "web": (201, None),
        "cod": (201, "cash_on_delivery"),
    }
    mp = api.get(f"/api/v1/orders/{placed['mp'].json()['id']}").json()
    assert mp["history"][0]["details"]["payment_method"] == "marketplace"

    listed = api.get("/api/v1/orders", params={"payment_method": ["marketplace", "in_store"]})
    assert listed.status_code == 200
    assert sorted((o["channel"], o["payment_method"]) for o in listed.json()["items"]) == [
        ("mp", "marketplace"),
        ("shop1", "in_store"),
    ]
    every = api.get("/api/v1/orders").json()["items"]
    assert sorted(str(o["payment_method"]) for o in every) == [
        "None",
        "cash_on_delivery",
        "in_store",
        "marketplace",
    ]
    exported = api.get(
        "/api/v1/files/orders", params={"format": "csv", "payment_method": "cash_on_delivery"}
    )
    assert exported.status_code == 200
    rows = exported.text.strip().splitlines()
    assert len(rows) == 2  # the header and the one line of the order paid on delivery
    assert rows[1].startswith(str(placed["cod"].json()["id"]))
    unknown = api.get("/api/v1/orders", params={"payment_method": "barter"})
    assert unknown.status_code == 422
    assert "payment_method" in unknown.text

    taken = api.patch("/api/v1/channels/mp", json={"payment_methods": ["online"]})
    assert taken.status_code == 200  # a marketplace channel that no longer takes its own way
    unsaid = api.post("/api/v1/orders", json=order_body([("KET", 1)], channel="mp"))
    assert (unsaid.status_code, unsaid.json()["payment_method"]) == (201, None)
