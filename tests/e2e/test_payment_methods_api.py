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
