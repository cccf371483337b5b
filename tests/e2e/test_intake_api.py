"""Taking orders over HTTP: reservation, dedup, idempotency, validation problems."""

from __future__ import annotations

import httpx

from tests.factories import MOSCOW, VYBORG, build_world_api, order_body
from tests.problems import field_codes, problem


def test_an_order_is_reserved_at_the_nearest_warehouse_that_has_every_line(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5, ("SPB", "MUG"): 5})

    response = api.post("/api/v1/orders", json=order_body([("KET", 1), ("MUG", 2)], to=MOSCOW))

    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "reserved"
    assert {r["warehouse"] for r in order["reservations"]} == {"SPB"}
    assert "SPB" in order["sourcing"]["explanation"]
    assert response.headers["location"] == f"/api/v1/orders/{order['id']}"
    assert response.headers["etag"] == f'"{order["version"]}"'
    assert order["totals"] == {
        "subtotal": "3270.00",
        "delivery": "0.00",
        "vat": "589.68",
        "total": "3270.00",
    }


def test_the_same_external_id_is_taken_once(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    first = api.post("/api/v1/orders", json=order_body([("KET", 1)], external_id="SHOP-1"))
    second = api.post("/api/v1/orders", json=order_body([("KET", 1)], external_id="SHOP-1"))

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    level = api.get("/api/v1/stock/levels", params={"sku": "KET"}).json()["items"][0]
    assert level["reserved"] == 1


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    body = order_body([("KET", 1)])
    first = api.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
    replay = api.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
    other = api.post(
        "/api/v1/orders", json=order_body([("KET", 2)]), headers={"Idempotency-Key": "k-1"}
    )

    assert first.status_code == 201
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency-key-reused"
    assert len(api.get("/api/v1/orders").json()["items"]) == 1


def test_a_short_network_backorders_the_order_and_names_the_short_lines(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 1, ("SPB", "KET"): 1, ("MSK", "MUG"): 9})

    order = api.post("/api/v1/orders", json=order_body([("KET", 3), ("MUG", 1)])).json()

    assert order["status"] == "backordered"
    assert order["reservations"] == []
    assert order["sourcing"]["shortages"] == [
        {"line_no": 1, "sku": "KET", "requested": 3, "available": 2}
    ]
    assert [line["short_quantity"] for line in order["lines"]] == [3, 1]


def test_a_channel_that_rejects_backorders_refuses_the_order_and_keeps_nothing(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 1})

    response = api.post("/api/v1/orders", json=order_body([("KET", 2)], channel="mp"))

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "insufficient-stock"
    assert problem["shortages"] == [{"line_no": 1, "sku": "KET", "requested": 2, "available": 1}]
    assert response.headers["content-type"] == "application/problem+json"
    assert api.get("/api/v1/orders").json()["items"] == []


def test_bad_orders_get_every_field_error_at_once(api: httpx.Client) -> None:
    build_world_api(api)

    response = api.post(
        "/api/v1/orders",
        json={
            "channel": "web",
            "currency": "USD",
            "delivery": {"method": "courier"},
            "lines": [{"sku": "NOPE", "quantity": 1}, {"sku": "KET", "quantity": 1}],
        },
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid-input"
    fields = {e["field"]: e["code"] for e in problem["errors"]}
    assert fields == {
        "currency": "currency-mismatch",
        "lines[0].sku": "unknown-sku",
        "delivery.address": "required",
    }


def test_what_the_schema_refuses_is_listed_at_once_before_any_lookup(api: httpx.Client) -> None:
    build_world_api(api)

    response = api.post(
        "/api/v1/orders",
        json={
            "channel": "web",
            "currency": "ZZZ",
            "delivery": {"method": "courier", "price": 299},
            "lines": [{"sku": "KET", "quantity": 0}, {"sku": "KET", "quantity": "2"}],
        },
    )

    assert {e["field"]: e["code"] for e in response.json()["errors"]} == {
        "currency": "currency",
        "delivery.price": "decimal_string",
        "lines[0].quantity": "greater_than_equal",
        "lines[1].quantity": "int_type",
    }


def test_a_nul_character_anywhere_in_an_order_is_refused_and_its_escape_as_text_is_not(
    api: httpx.Client,
) -> None:
    """The order's body is checked for NUL once, as bytes; the per-field check runs only
    when the body may hold one (docs/architecture.md, the intake path)."""
    build_world_api(api, {("MSK", "KET"): 5})
    body = order_body([("KET", 1)])
    body["customer"]["name"] = "Анна\x00Смирнова"
    body["delivery"]["address"]["line1"] = "ул. Советская,\x00 1"
    refused = api.post("/api/v1/orders", json=body)
    assert field_codes(problem(refused, 422, "invalid-input")) == {
        "customer.name": "nul_character",
        "delivery.address.line1": "nul_character",
    }
    as_text = order_body([("KET", 1)], comment="a backslash and u0000: \\u0000")
    taken = api.post("/api/v1/orders", json=as_text)
    assert taken.status_code == 201, taken.text
    assert taken.json()["comment"] == "a backslash and u0000: \\u0000"


def test_a_malformed_body_is_a_problem_document(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/orders", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid-input"


def test_russian_is_spoken_on_request(api: httpx.Client) -> None:
    response = api.get("/api/v1/orders/999", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert response.status_code == 404
    assert response.json()["code"] == "order-not-found"
    assert response.json()["detail"] == "Заказа 999 нет."


def test_pickup_orders_are_sourced_towards_the_pickup_point(api: httpx.Client) -> None:
    build_world_api(api, {("SPB", "KET"): 5, ("MSK", "KET"): 5})
    body = order_body([("KET", 1)], to=VYBORG)
    body["delivery"] = {"method": "pickup", "pickup_point": "MSK-P"}

    order = api.post("/api/v1/orders", json=body).json()

    assert order["delivery"]["pickup_point"] == "MSK-P"
    assert order["reservations"][0]["warehouse"] == "MSK"


def test_every_order_answer_has_the_documented_shape(api: httpx.Client) -> None:
    """Orders are rendered by hand for speed; they must still match the OpenAPI schema."""
    from potok.api.schemas.orders import OrderOut

    build_world_api(api, {("MSK", "KET"): 1})
    reserved = api.post("/api/v1/orders", json=order_body([("KET", 1)], external_id="A"))
    waiting = api.post("/api/v1/orders", json=order_body([("KET", 2)], external_id="B"))
    held = api.post(
        f"/api/v1/orders/{reserved.json()['id']}/holds", json={"type": "fraud", "reason": "check"}
    )
    detail = api.get(f"/api/v1/orders/{reserved.json()['id']}")
    cancelled = api.post(
        f"/api/v1/orders/{waiting.json()['id']}/cancellation", json={"reason": "test"}
    )

    assert held.status_code == 201
    for answer in (reserved, waiting, detail, cancelled):
        order = OrderOut.model_validate(answer.json())
        assert order.model_dump(mode="json") == answer.json()
