"""Products, channels and warehouses over HTTP: create, read, list, replace, patch, delete."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.factories import build_world_api, order_body
from tests.invariants import assert_stock_invariants
from tests.problems import field_codes, problem, problem_of_type

PRODUCTS = "/api/v1/products"
CHANNELS = "/api/v1/channels"
WAREHOUSES = "/api/v1/warehouses"


def product_body(sku: str = "LAMP", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": sku,
        "name": "Desk lamp",
        "price": "1990.00",
        "vat_rate": "22",
        "barcode": "4006381333931",  # a valid EAN-13
        "weight_g": 800,
    }
    body.update(changes)
    return body


def channel_body(code: str = "ozon", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "name": "Ozon FBS", "type": "marketplace"}
    body.update(changes)
    return body


def warehouse_body(code: str = "EKB", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "Yekaterinburg DC",
        "type": "warehouse",
        "city": "Екатеринбург",
        "latitude": 56.8389,
        "longitude": 60.6057,
        "priority": 1,
        "channels": ["web"],
    }
    body.update(changes)
    return body


def skus(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [p["sku"] for p in response.json()["items"]]


def receive(api: httpx.Client, warehouse: str, sku: str, quantity: int) -> None:
    response = api.post(
        "/api/v1/stock/receipts", json={"warehouse": warehouse, "sku": sku, "quantity": quantity}
    )
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------------- products


def test_a_new_product_is_answered_with_its_location_and_reads_back_the_same(
    api: httpx.Client,
) -> None:
    created = api.post(PRODUCTS, json=product_body())

    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/products/LAMP"
    product = created.json()
    assert product["price"] == "1990.00"
    assert product["barcode"] == "4006381333931"
    assert product["active"] is True
    fetched = api.get(created.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == product


def test_a_second_product_with_the_same_sku_is_refused(api: httpx.Client) -> None:
    api.post(PRODUCTS, json=product_body()).raise_for_status()

    response = api.post(PRODUCTS, json=product_body(name="Another lamp", barcode=None))

    problem(response, 409, "sku-taken")
    assert api.get(f"{PRODUCTS}/LAMP").json()["name"] == "Desk lamp"


def test_a_barcode_with_a_wrong_gtin_check_digit_is_refused_and_names_the_field(
    api: httpx.Client,
) -> None:
    response = api.post(PRODUCTS, json=product_body(barcode="4006381333932"))

    body = problem(response, 422, "invalid-input")
    assert [e["field"] for e in body["errors"]] == ["barcode"]
    assert body["errors"][0]["code"] == "bad-check-digit"
    problem(api.get(f"{PRODUCTS}/LAMP"), 404, "product-not-found")


def test_a_patch_with_a_wrong_check_digit_changes_nothing(api: httpx.Client) -> None:
    api.post(PRODUCTS, json=product_body()).raise_for_status()

    response = api.patch(f"{PRODUCTS}/LAMP", json={"barcode": "4601234567890"})

    body = problem(response, 422, "invalid-input")
    assert field_codes(body) == {"barcode": "bad-check-digit"}
    assert api.get(f"{PRODUCTS}/LAMP").json()["barcode"] == "4006381333931"


def test_a_barcode_that_belongs_to_another_product_is_refused(api: httpx.Client) -> None:
    api.post(PRODUCTS, json=product_body()).raise_for_status()

    response = api.post(PRODUCTS, json=product_body("LAMP-2"))

    problem(response, 409, "barcode-taken")
    problem(api.get(f"{PRODUCTS}/LAMP-2"), 404, "product-not-found")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (PRODUCTS, product_body(colour="red")),
        (CHANNELS, channel_body(colour="red")),
        (WAREHOUSES, warehouse_body(colour="red")),
    ],
    ids=["product", "channel", "warehouse"],
)
def test_unknown_fields_are_refused_rather_than_ignored(
    api: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    build_world_api(api)

    response = api.post(path, json=body)

    assert field_codes(problem(response, 422, "invalid-input")) == {"colour": "extra_forbidden"}
    assert api.get(f"{path}/{body.get('sku') or body['code']}").status_code == 404


def test_an_unknown_field_in_a_patch_is_refused(api: httpx.Client) -> None:
    build_world_api(api)

    response = api.patch(f"{PRODUCTS}/KET", json={"prise": "1.00"})

    assert field_codes(problem(response, 422, "invalid-input")) == {"prise": "extra_forbidden"}
    assert api.get(f"{PRODUCTS}/KET").json()["price"] == "2490.00"


@pytest.mark.parametrize(
    ("path", "field"),
    [(f"{PRODUCTS}/KET", "name"), (f"{CHANNELS}/web", "name"), (f"{WAREHOUSES}/MSK", "name")],
    ids=["product", "channel", "warehouse"],
)
def test_a_patch_that_nulls_a_required_field_is_refused_and_changes_nothing(
    api: httpx.Client, path: str, field: str
) -> None:
    build_world_api(api)
    before = api.get(path).json()

    response = api.patch(path, json={field: None})

    assert field in field_codes(problem(response, 422, "invalid-input"))
    assert api.get(path).json() == before


def test_text_with_a_nul_character_is_refused_on_both_databases(api: httpx.Client) -> None:
    build_world_api(api)

    in_body = api.post(PRODUCTS, json=product_body("NUL", name="Desk\x00lamp"))
    in_query = api.get(PRODUCTS, params={"q": "lamp\x00"})
    in_path = api.get(f"{PRODUCTS}/KET%00")

    assert field_codes(problem(in_body, 422, "invalid-input")) == {"name": "nul_character"}
    assert field_codes(problem(in_query, 422, "invalid-input")) == {"query": "nul_character"}
    assert field_codes(problem(in_path, 422, "invalid-input")) == {"path": "nul_character"}
    assert api.get(f"{PRODUCTS}/NUL").status_code == 404


def test_products_are_searched_by_sku_name_or_barcode(api: httpx.Client) -> None:
    build_world_api(api)

    assert skus(api.get(PRODUCTS, params={"q": "ket"})) == ["KET"]
    assert skus(api.get(PRODUCTS, params={"q": "book"})) == ["BKS"]
    assert skus(api.get(PRODUCTS, params={"q": "4601234567893"})) == ["KET"]
    assert skus(api.get(PRODUCTS, params={"q": "nothing-like-this"})) == []


def test_products_are_filtered_by_whether_they_are_active(api: httpx.Client) -> None:
    build_world_api(api)
    api.patch(f"{PRODUCTS}/TOY", json={"active": False}).raise_for_status()

    assert skus(api.get(PRODUCTS, params={"active": "false"})) == ["TOY"]
    assert skus(api.get(PRODUCTS, params={"active": "true"})) == ["BKS", "KET", "MUG"]
    assert skus(api.get(PRODUCTS)) == ["BKS", "KET", "MUG", "TOY"]


def test_product_pages_follow_the_sku_order_and_end_without_a_cursor(api: httpx.Client) -> None:
    build_world_api(api)
    api.post(PRODUCTS, json=product_body()).raise_for_status()

    seen: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = api.get(PRODUCTS, params=params).json()
        seen.append([p["sku"] for p in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [["BKS", "KET"], ["LAMP", "MUG"], ["TOY"]]


def test_put_replaces_the_whole_product_and_resets_what_it_leaves_out(api: httpx.Client) -> None:
    api.post(PRODUCTS, json=product_body()).raise_for_status()

    response = api.put(
        f"{PRODUCTS}/LAMP",
        json={"sku": "LAMP", "name": "Floor lamp", "price": "4990.00", "vat_rate": "10"},
    )

    assert response.status_code == 200, response.text
    replaced = response.json()
    assert (replaced["name"], replaced["price"], replaced["vat_rate"]) == (
        "Floor lamp",
        "4990.00",
        "10.00",
    )
    assert (replaced["barcode"], replaced["weight_g"]) == (None, 0)
    assert api.get(f"{PRODUCTS}/LAMP").json() == replaced


def test_put_cannot_rename_a_sku(api: httpx.Client) -> None:
    api.post(PRODUCTS, json=product_body()).raise_for_status()

    response = api.put(f"{PRODUCTS}/LAMP", json=product_body("LAMP-NEW"))

    assert field_codes(problem(response, 422, "invalid-input")) == {"sku": "sku-immutable"}
    assert api.get(f"{PRODUCTS}/LAMP").status_code == 200
    problem(api.get(f"{PRODUCTS}/LAMP-NEW"), 404, "product-not-found")


def test_patch_changes_only_the_fields_it_sends(api: httpx.Client) -> None:
    before = api.post(PRODUCTS, json=product_body()).json()

    response = api.patch(f"{PRODUCTS}/LAMP", json={"price": "1490.50"})

    assert response.status_code == 200, response.text
    after = response.json()
    assert after["price"] == "1490.50"
    unchanged = ("sku", "name", "vat_rate", "barcode", "weight_g", "active", "created_at")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


def test_a_product_nothing_refers_to_is_deleted(api: httpx.Client) -> None:
    api.post(PRODUCTS, json=product_body()).raise_for_status()

    response = api.delete(f"{PRODUCTS}/LAMP")

    assert response.status_code == 204
    assert response.content == b""
    problem(api.get(f"{PRODUCTS}/LAMP"), 404, "product-not-found")
    problem(api.delete(f"{PRODUCTS}/LAMP"), 404, "product-not-found")


def test_a_product_with_stock_cannot_be_deleted(api: httpx.Client, live: LiveServer) -> None:
    build_world_api(api, {("MSK", "MUG"): 3})

    problem(api.delete(f"{PRODUCTS}/MUG"), 409, "sku-in-use")

    assert api.get(f"{PRODUCTS}/MUG").status_code == 200
    assert_stock_invariants(live.potok)


def test_a_product_on_an_order_cannot_be_deleted_even_without_stock(api: httpx.Client) -> None:
    build_world_api(api)
    order = api.post("/api/v1/orders", json=order_body([("TOY", 1)])).json()
    assert order["status"] == "backordered"

    problem(api.delete(f"{PRODUCTS}/TOY"), 409, "sku-in-use")

    assert api.get(f"{PRODUCTS}/TOY").status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_an_unknown_sku_is_not_found(api: httpx.Client, method: str) -> None:
    body = {"PUT": product_body("NOPE"), "PATCH": {"name": "x"}}.get(method)

    response = api.request(method, f"{PRODUCTS}/NOPE", json=body)

    problem(response, 404, "product-not-found")


# ---------------------------------------------------------------------- channels


def test_a_new_channel_is_answered_with_its_location_and_listed(api: httpx.Client) -> None:
    created = api.post(CHANNELS, json=channel_body(safety_buffer=3))

    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/channels/ozon"
    channel = created.json()
    assert (channel["currency"], channel["confirmation"], channel["backorders"]) == (
        "RUB",
        "auto",
        "backorder",
    )
    assert channel["safety_buffer"] == 3
    assert api.get(created.headers["location"]).json() == channel
    assert [c["code"] for c in api.get(CHANNELS).json()] == ["ozon"]


def test_a_second_channel_with_the_same_code_is_refused(api: httpx.Client) -> None:
    api.post(CHANNELS, json=channel_body()).raise_for_status()

    problem_of_type(
        api.post(CHANNELS, json=channel_body(name="Ozon again")), 409, "channel-code-taken"
    )

    assert api.get(f"{CHANNELS}/ozon").json()["name"] == "Ozon FBS"


def test_a_channel_with_an_impossible_payment_deadline_is_refused(api: httpx.Client) -> None:
    response = api.post(CHANNELS, json=channel_body(payment_deadline_minutes=0))

    assert field_codes(problem(response, 422, "invalid-input")) == {
        "payment_deadline_minutes": "greater_than_equal"
    }
    problem_of_type(api.get(f"{CHANNELS}/ozon"), 404, "channel-not-found")


def test_put_replaces_a_channel_but_cannot_rename_it(api: httpx.Client) -> None:
    api.post(CHANNELS, json=channel_body(safety_buffer=3)).raise_for_status()

    renamed = api.put(f"{CHANNELS}/ozon", json=channel_body("ozon-2"))
    replaced = api.put(f"{CHANNELS}/ozon", json=channel_body(name="Ozon FBO", type="other"))

    assert field_codes(problem(renamed, 422, "invalid-input")) == {"code": "code-immutable"}
    assert replaced.status_code == 200, replaced.text
    channel = replaced.json()
    assert (channel["name"], channel["type"], channel["safety_buffer"]) == ("Ozon FBO", "other", 0)
    problem_of_type(api.get(f"{CHANNELS}/ozon-2"), 404, "channel-not-found")


def test_patch_changes_only_the_channel_fields_it_sends(api: httpx.Client) -> None:
    before = api.post(CHANNELS, json=channel_body(confirmation="manual")).json()

    response = api.patch(f"{CHANNELS}/ozon", json={"safety_buffer": 5})

    assert response.status_code == 200, response.text
    after = response.json()
    assert after["safety_buffer"] == 5
    assert {k: v for k, v in after.items() if k not in ("safety_buffer", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("safety_buffer", "updated_at")
    }


def test_a_channel_without_orders_is_deleted_and_leaves_the_warehouses_serving_it(
    api: httpx.Client,
) -> None:
    build_world_api(api)

    response = api.delete(f"{CHANNELS}/mp")

    assert response.status_code == 204
    problem_of_type(api.get(f"{CHANNELS}/mp"), 404, "channel-not-found")
    assert api.get(f"{WAREHOUSES}/MSK").json()["channels"] == ["app", "phone", "web"]


def test_a_channel_with_orders_cannot_be_deleted(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    api.post("/api/v1/orders", json=order_body([("KET", 1)])).raise_for_status()

    problem_of_type(api.delete(f"{CHANNELS}/web"), 409, "channel-in-use")

    assert api.get(f"{CHANNELS}/web").status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_an_unknown_channel_is_not_found(api: httpx.Client, method: str) -> None:
    body = {"PUT": channel_body("nope"), "PATCH": {"name": "x"}}.get(method)

    problem_of_type(api.request(method, f"{CHANNELS}/nope", json=body), 404, "channel-not-found")


# ---------------------------------------------------------------------- warehouses


def test_a_new_warehouse_is_answered_with_its_location_and_the_channels_it_serves(
    api: httpx.Client,
) -> None:
    build_world_api(api)

    created = api.post(WAREHOUSES, json=warehouse_body(channels=["web", "mp"]))

    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/warehouses/EKB"
    warehouse = created.json()
    assert sorted(warehouse["channels"]) == ["mp", "web"]
    assert (warehouse["type"], warehouse["priority"], warehouse["active"]) == (
        "warehouse",
        1,
        True,
    )
    assert api.get(created.headers["location"]).json() == warehouse


def test_a_warehouse_serving_an_unknown_channel_is_refused(api: httpx.Client) -> None:
    build_world_api(api)

    response = api.post(WAREHOUSES, json=warehouse_body(channels=["web", "avito"]))

    body = problem(response, 422, "invalid-input")
    assert field_codes(body) == {"channels": "unknown-channel"}
    problem_of_type(api.get(f"{WAREHOUSES}/EKB"), 404, "warehouse-not-found")


def test_a_second_warehouse_with_the_same_code_is_refused(api: httpx.Client) -> None:
    build_world_api(api)

    problem_of_type(api.post(WAREHOUSES, json=warehouse_body("MSK")), 409, "warehouse-code-taken")

    assert api.get(f"{WAREHOUSES}/MSK").json()["name"] == "Moscow DC"


def test_warehouses_are_listed_with_an_active_filter(api: httpx.Client) -> None:
    build_world_api(api)
    api.patch(f"{WAREHOUSES}/KZN", json={"active": False}).raise_for_status()

    everything = {w["code"] for w in api.get(WAREHOUSES).json()}
    inactive = [w["code"] for w in api.get(WAREHOUSES, params={"active": "false"}).json()]
    active = {w["code"] for w in api.get(WAREHOUSES, params={"active": "true"}).json()}

    assert everything == {"MSK", "SPB", "KZN", "MSK-S", "MSK-P"}
    assert inactive == ["KZN"]
    assert active == everything - {"KZN"}


def test_put_replaces_a_warehouse_but_cannot_rename_it(api: httpx.Client) -> None:
    build_world_api(api)
    api.post(WAREHOUSES, json=warehouse_body()).raise_for_status()

    renamed = api.put(f"{WAREHOUSES}/EKB", json=warehouse_body("EKB-2"))
    replaced = api.put(
        f"{WAREHOUSES}/EKB",
        json={
            "code": "EKB",
            "name": "Yekaterinburg store",
            "type": "store",
            "city": "Екатеринбург",
            "latitude": 56.84,
            "longitude": 60.61,
        },
    )

    assert field_codes(problem(renamed, 422, "invalid-input")) == {"code": "code-immutable"}
    assert replaced.status_code == 200, replaced.text
    warehouse = replaced.json()
    assert (warehouse["type"], warehouse["priority"], warehouse["channels"]) == ("store", 0, [])
    problem_of_type(api.get(f"{WAREHOUSES}/EKB-2"), 404, "warehouse-not-found")


def test_put_with_an_unknown_channel_changes_nothing(api: httpx.Client) -> None:
    build_world_api(api)

    response = api.put(f"{WAREHOUSES}/MSK-S", json=warehouse_body("MSK-S", channels=["nope"]))

    assert field_codes(problem(response, 422, "invalid-input")) == {"channels": "unknown-channel"}
    assert sorted(api.get(f"{WAREHOUSES}/MSK-S").json()["channels"]) == ["phone", "web"]


def test_patch_changes_only_the_warehouse_fields_it_sends(api: httpx.Client) -> None:
    build_world_api(api)
    before = api.get(f"{WAREHOUSES}/MSK-S").json()

    response = api.patch(f"{WAREHOUSES}/MSK-S", json={"priority": 7, "channels": ["web"]})

    assert response.status_code == 200, response.text
    after = response.json()
    assert (after["priority"], after["channels"]) == (7, ["web"])
    kept = ("code", "name", "type", "city", "address", "latitude", "longitude", "active")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert api.get(f"{WAREHOUSES}/MSK-S").json() == after


def test_a_warehouse_nothing_refers_to_is_deleted(api: httpx.Client) -> None:
    build_world_api(api)

    assert api.delete(f"{WAREHOUSES}/KZN").status_code == 204

    problem_of_type(api.get(f"{WAREHOUSES}/KZN"), 404, "warehouse-not-found")
    problem_of_type(api.delete(f"{WAREHOUSES}/KZN"), 404, "warehouse-not-found")


def test_a_warehouse_with_stock_cannot_be_deleted(api: httpx.Client, live: LiveServer) -> None:
    build_world_api(api)
    receive(api, "SPB", "KET", 2)

    problem_of_type(api.delete(f"{WAREHOUSES}/SPB"), 409, "warehouse-in-use")

    assert api.get(f"{WAREHOUSES}/SPB").status_code == 200
    assert_stock_invariants(live.potok)


def test_the_pickup_point_of_an_order_cannot_be_deleted(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    body = order_body([("KET", 1)])
    body["delivery"] = {"method": "pickup", "pickup_point": "MSK-P"}
    api.post("/api/v1/orders", json=body).raise_for_status()

    problem_of_type(api.delete(f"{WAREHOUSES}/MSK-P"), 409, "warehouse-in-use")

    assert api.get(f"{WAREHOUSES}/MSK-P").status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_an_unknown_warehouse_is_not_found(api: httpx.Client, method: str) -> None:
    build_world_api(api)
    body = {"PUT": warehouse_body("NOPE"), "PATCH": {"priority": 1}}.get(method)

    problem_of_type(
        api.request(method, f"{WAREHOUSES}/NOPE", json=body), 404, "warehouse-not-found"
    )


# ---------------------------------------------------------------------- a known bug


def _duplicate_channel(api: httpx.Client) -> httpx.Response:
    return api.post(CHANNELS, json=channel_body("web", type="web"))


def _unknown_channel(api: httpx.Client) -> httpx.Response:
    return api.get(f"{CHANNELS}/nope")


def _channel_in_use(api: httpx.Client) -> httpx.Response:
    api.post("/api/v1/orders", json=order_body([("KET", 1)])).raise_for_status()
    return api.delete(f"{CHANNELS}/web")


def _duplicate_warehouse(api: httpx.Client) -> httpx.Response:
    return api.post(WAREHOUSES, json=warehouse_body("MSK"))


def _unknown_warehouse(api: httpx.Client) -> httpx.Response:
    return api.get(f"{WAREHOUSES}/NOPE")


def _warehouse_in_use(api: httpx.Client) -> httpx.Response:
    receive(api, "SPB", "KET", 1)
    return api.delete(f"{WAREHOUSES}/SPB")


@pytest.mark.parametrize(
    ("act", "status", "code"),
    [
        (_duplicate_channel, 409, "channel-code-taken"),
        (_unknown_channel, 404, "channel-not-found"),
        (_channel_in_use, 409, "channel-in-use"),
        (_duplicate_warehouse, 409, "warehouse-code-taken"),
        (_unknown_warehouse, 404, "warehouse-not-found"),
        (_warehouse_in_use, 409, "warehouse-in-use"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_channel_and_warehouse_problems_carry_their_problem_code(
    api: httpx.Client, act: Any, status: int, code: str
) -> None:
    build_world_api(api)

    problem(act(api), status, code)


def test_a_products_dimensions_are_all_three_sides_or_none(api: httpx.Client) -> None:
    sized = api.post(
        "/api/v1/products", json=product_body(length_mm=300, width_mm=200, height_mm=150)
    )
    assert sized.status_code == 201, sized.text
    read = api.get("/api/v1/products/LAMP").json()
    assert (read["length_mm"], read["width_mm"], read["height_mm"]) == (300, 200, 150)
    cleared = api.patch(
        "/api/v1/products/LAMP", json={"length_mm": 0, "width_mm": 0, "height_mm": 0}
    )
    assert (cleared.status_code, cleared.json()["height_mm"]) == (200, 0)
    partial = api.patch("/api/v1/products/LAMP", json={"height_mm": 150})
    assert field_codes(problem(partial, 422, "invalid-input")) == {
        "length_mm": "partial-dimensions"
    }
    huge = api.post("/api/v1/products", json=product_body("BIG", length_mm=3001))
    problem(huge, 422, "invalid-input")
