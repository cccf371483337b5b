"""Marketplace connections over HTTP against a simulated Wildberries: connect (the token
never comes back, a retried request is one connection), poll now, health and journal; a
channel's key sees its own channel's connections only."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer, key_for
from tests.factories import build_world_api
from tests.problems import problem
from tests.simulators.ozon import OzonSimulator
from tests.simulators.wildberries import WildberriesSimulator


def connect_body(simulator: WildberriesSimulator, **changes: object) -> dict[str, object]:
    return {
        "code": "wb-main",
        "marketplace": "wildberries",
        "channel": "mp",
        "token": simulator.token,
        "base_url": simulator.url,
        "warehouses": {"658434": "MSK"},
        **changes,
    }


def test_connect_poll_and_read_health_over_http(
    api: httpx.Client, wildberries: WildberriesSimulator
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    task = wildberries.add_order(article="KET", barcodes=["4601234567893"], price=249_000)
    wildberries.add_order(article="GHOST", barcodes=["2000000000008"], price=100_00)

    made = api.post(
        "/api/v1/marketplaces",
        json=connect_body(wildberries),
        headers={"Idempotency-Key": "connect-1"},
    )
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == "/api/v1/marketplaces/wb-main"
    assert wildberries.token not in made.text
    assert made.json()["health"] == "new"
    again = api.post(
        "/api/v1/marketplaces",
        json=connect_body(wildberries),
        headers={"Idempotency-Key": "connect-1"},
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"

    polled = api.post("/api/v1/marketplaces/wb-main/polls")
    assert polled.status_code == 200, polled.text
    outcome = polled.json()
    assert (len(outcome["imported"]), len(outcome["kept_aside"]), outcome["error"]) == (1, 1, None)
    order = api.get(f"/api/v1/orders/{outcome['imported'][0]}").json()
    assert (order["external_id"], order["channel"]) == (str(task), "mp")
    assert order["lines"][0]["unit_price"] == "2490.00"
    assert order["ship_from"] == "MSK"  # the location mapped to WB's warehouse 658434
    card = api.get(f"/orders/{outcome['imported'][0]}")
    assert card.status_code == 200
    assert "<dd data-ship-from>MSK</dd>" in card.text

    health = api.get("/api/v1/marketplaces/wb-main").json()
    assert (health["health"], health["imported"], health["kept_aside"]) == ("ok", 1, 1)
    assert wildberries.token not in str(api.get("/api/v1/marketplaces").json())
    [entry] = api.get("/api/v1/marketplaces/wb-main/journal").json()
    assert entry["kind"] == "unknown-sku"


def test_mistakes_are_problems_that_say_what_to_fix(
    api: httpx.Client, wildberries: WildberriesSimulator
) -> None:
    build_world_api(api)
    problem(api.get("/api/v1/marketplaces/nope"), 404, "marketplace-connection-not-found")
    problem(api.post("/api/v1/marketplaces/nope/polls"), 404, "marketplace-connection-not-found")
    unknown = api.post(
        "/api/v1/marketplaces", json=connect_body(wildberries, warehouses={"1": "NOWHERE"})
    )
    problem(unknown, 422, "invalid-input")
    assert api.post("/api/v1/marketplaces", json=connect_body(wildberries)).status_code == 201
    problem(
        api.post("/api/v1/marketplaces", json=connect_body(wildberries)),
        409,
        "marketplace-connection-taken",
    )


def test_a_channels_key_sees_only_its_channels_connections(
    api: httpx.Client, live: LiveServer, wildberries: WildberriesSimulator
) -> None:
    build_world_api(api)
    assert api.post("/api/v1/marketplaces", json=connect_body(wildberries)).status_code == 201
    secret = key_for(live.potok, channel="web", name="web-key")
    with live.client(headers={"Authorization": f"Bearer {secret}"}) as web:
        assert web.get("/api/v1/marketplaces").json() == []
        problem(web.get("/api/v1/marketplaces/wb-main"), 404, "marketplace-connection-not-found")
        problem(
            web.post("/api/v1/marketplaces/wb-main/polls"),
            404,
            "marketplace-connection-not-found",
        )


def test_a_refused_token_is_replaced_and_the_connection_turns_green(
    api: httpx.Client, wildberries: WildberriesSimulator
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    assert api.post("/api/v1/marketplaces", json=connect_body(wildberries)).status_code == 201
    wildberries.token = "rotated-on-wb"  # the old token is revoked there

    refused = api.post("/api/v1/marketplaces/wb-main/polls").json()
    assert refused["refused"] is True
    assert api.get("/api/v1/marketplaces/wb-main").json()["health"] == "refused"

    changed = api.patch("/api/v1/marketplaces/wb-main", json={"token": "rotated-on-wb"})
    assert changed.status_code == 200, changed.text
    assert "rotated-on-wb" not in changed.text
    assert api.post("/api/v1/marketplaces/wb-main/polls").json()["error"] is None
    assert api.get("/api/v1/marketplaces/wb-main").json()["health"] == "ok"

    paused = api.patch("/api/v1/marketplaces/wb-main", json={"active": False})
    assert paused.json()["active"] is False
    problem(
        api.patch("/api/v1/marketplaces/wb-main", json={"warehouses": {"1": "NOWHERE"}}),
        422,
        "invalid-input",
    )


def test_the_item_map_is_managed_over_http_and_drives_import_and_stock(
    api: httpx.Client, wildberries: WildberriesSimulator
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    made = api.post(
        "/api/v1/marketplaces", json=connect_body(wildberries), headers={"Idempotency-Key": "c"}
    )
    assert made.status_code == 201, made.text
    # an article and barcode Potok does not know: only the item map names the SKU
    task = wildberries.add_order(
        article="kettle-wb", barcodes=["2000000000015"], price=249_000, chrt_id=71
    )
    polled = api.post("/api/v1/marketplaces/wb-main/polls").json()
    assert polled["kept_aside"] == [str(task)]
    alerts = api.get("/api/v1/alerts").json()["items"]
    assert [a["subject"] for a in alerts if a["kind"] == "marketplace_item_not_mapped"] == [
        "wb-main/71"
    ]

    mapped = api.patch(
        "/api/v1/marketplaces/wb-main/items",
        json={
            "items": [
                {"sku": "KET", "item": "71", "product": "12345678"},
                {"sku": "MUG", "item": "72"},
            ]
        },
    )
    assert mapped.status_code == 200, mapped.text
    assert mapped.json() == {"mapped": 2}
    page = api.get("/api/v1/marketplaces/wb-main/items", params={"limit": 1}).json()
    assert (page["items"][0]["sku"], page["items"][0]["item"], page["next_cursor"]) == (
        "KET",
        "71",
        "KET",
    )
    polled = api.post("/api/v1/marketplaces/wb-main/polls").json()
    assert len(polled["imported"]) == 1

    pushed = api.post("/api/v1/marketplaces/wb-main/stock-pushes")
    assert pushed.status_code == 200, pushed.text
    assert (pushed.json()["accepted"], pushed.json()["error"]) == (2, None)
    assert wildberries.stocks == {658434: {71: 2, 72: 0}}  # 5 - 1 ordered - 2 buffer

    assert api.delete("/api/v1/marketplaces/wb-main/items/MUG").status_code == 204
    problem(
        api.delete("/api/v1/marketplaces/wb-main/items/MUG"), 422, "marketplace-item-not-mapped"
    )
    bad = api.patch(
        "/api/v1/marketplaces/wb-main/items",
        json={"items": [{"sku": "GHOST", "item": "73"}, {"sku": "KET", "item": "x"}]},
    )
    assert bad.status_code == 422


def test_the_ozon_item_map_fills_itself_from_the_catalogue_over_http(
    api: httpx.Client, ozon: OzonSimulator
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    made = api.post(
        "/api/v1/marketplaces",
        json={
            "code": "oz-main",
            "marketplace": "ozon",
            "channel": "mp",
            "token": ozon.api_key,
            "client_id": ozon.client_id,
            "base_url": ozon.url,
            "warehouses": {"22254230484000": "MSK"},
        },
        headers={"Idempotency-Key": "connect-oz"},
    )
    assert made.status_code == 201, made.text
    ozon.list_product("KET", 1_480_000_001, 700_001)
    ozon.list_product("NOPE", 1_480_000_002, 700_002)

    matched = api.post("/api/v1/marketplaces/oz-main/catalogue-matches")

    assert matched.status_code == 200, matched.text
    body = matched.json()
    assert (body["listed"], body["mapped"], body["unmatched"], body["error"]) == (2, 1, 1, None)
    assert body["unmatched_items"] == ["1480000002 (NOPE)"]
    [item] = api.get("/api/v1/marketplaces/oz-main/items").json()["items"]
    assert (item["sku"], item["item"], item["product"]) == ("KET", "1480000001", "700001")
    problem(
        api.post("/api/v1/marketplaces/nope/catalogue-matches"),
        404,
        "marketplace-connection-not-found",
    )


def test_a_packed_wb_tasks_sticker_is_printed_from_its_shipment(
    api: httpx.Client, live: LiveServer, wildberries: WildberriesSimulator
) -> None:
    from tests.integration.test_marketplace_fulfilment import fulfil

    build_world_api(api, {("MSK", "KET"): 5})
    task = wildberries.add_order(article="KET", barcodes=["4601234567893"], price=249_000)
    assert api.post("/api/v1/marketplaces", json=connect_body(wildberries)).status_code == 201
    [order_id] = api.post("/api/v1/marketplaces/wb-main/polls").json()["imported"]
    fulfil(live.potok, order_id, hand_over=False)
    [shipment] = api.get(f"/api/v1/orders/{order_id}/shipments").json()
    path = f"/api/v1/shipments/{shipment['id']}/marketplace-sticker"
    problem(api.get(path), 409, "marketplace-sticker-not-kept")
    card = f"/floor/shipments/{shipment['id']}"
    assert 'data-paper="marketplace-sticker"' not in api.get(card).text

    polled = api.post("/api/v1/marketplaces/wb-main/polls").json()
    sticker = api.get(path)

    assert (polled["packed"], polled["stickers"]) == ([str(task)], [str(task)])
    assert sticker.status_code == 200, sticker.text
    assert sticker.headers["content-type"] == "image/png"
    assert sticker.content == f"png:58x40:sticker of {task}".encode()
    assert f"sticker-{task}.png" in sticker.headers["content-disposition"]
    assert f'href="{path}"' in api.get(card).text  # printed from the shipment's screen
    problem(api.get("/api/v1/shipments/999999/marketplace-sticker"), 404, "shipment-not-found")
