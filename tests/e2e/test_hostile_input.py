"""What a hostile or careless client sends gets a clear 4xx problem, on both databases, and
the connection it came on stays usable: huge numbers, coerced types, bodies that are not
JSON or too large, currencies that do not exist, deletes of rows others still refer to."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from potok.services import catalogue as catalogue_service
from tests.conftest import LiveServer, start_server
from tests.factories import build_world_api, order_body
from tests.problems import field_codes, problem, problem_of_type

HUGE = [2**31, 2**53, 2**63, 10**30]


@pytest.mark.parametrize("quantity", HUGE)
def test_a_quantity_beyond_what_stock_can_hold_is_refused_naming_the_line(
    api: httpx.Client, quantity: int
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})

    response = api.post("/api/v1/orders", json=order_body([("KET", 1), ("KET", quantity)]))

    assert field_codes(problem(response, 422, "invalid-input")) == {
        "lines[1].quantity": "less_than_equal"
    }
    assert api.get("/api/v1/orders").json()["items"] == []


def test_the_largest_quantity_is_taken_and_one_more_is_not(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})

    largest = order_body([("KET", 1_000_000_000)])
    largest["lines"][0]["unit_price"] = "1.00"
    beyond = order_body([("KET", 1_000_000_001)])
    beyond["lines"][0]["unit_price"] = "1.00"
    too_dear = order_body([("KET", 1_000_000_000)])  # 2,490 roubles each: over 10^12 in all

    taken = api.post("/api/v1/orders", json=largest)

    assert taken.status_code == 201, taken.text
    assert (taken.json()["allocation"], taken.json()["totals"]["total"]) == (
        "backordered",
        "1000000000.00",
    )
    assert field_codes(problem(api.post("/api/v1/orders", json=beyond), 422, "invalid-input")) == {
        "lines[0].quantity": "less_than_equal"
    }
    assert field_codes(
        problem(api.post("/api/v1/orders", json=too_dear), 422, "invalid-input")
    ) == {"lines": "too-large"}


def test_an_order_of_the_most_lines_is_taken_and_one_line_more_is_not(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 50})

    most = api.post("/api/v1/orders", json=order_body([("KET", 1)] * 500))
    more = api.post("/api/v1/orders", json=order_body([("KET", 1)] * 501))

    assert most.status_code == 201, most.text  # its explanation outgrew its column once
    assert most.json()["allocation"] == "backordered"
    assert len(most.json()["sourcing"]["explanation"]) <= 1000
    assert field_codes(problem(more, 422, "invalid-input")) == {"lines": "too_long"}


@pytest.mark.parametrize("buffer", [2**31, 2**63, -1])
def test_a_safety_buffer_out_of_range_is_refused_naming_it(api: httpx.Client, buffer: int) -> None:
    response = api.post(
        "/api/v1/channels",
        json={"code": "ozon", "name": "Ozon", "type": "marketplace", "safety_buffer": buffer},
    )

    assert set(field_codes(problem(response, 422, "invalid-input"))) == {"safety_buffer"}
    problem(api.get("/api/v1/channels/ozon"), 404, "channel-not-found")


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ({"sku": "KET", "quantity": True}, "int_type"),
        ({"sku": "KET", "quantity": "2"}, "int_type"),
        ({"sku": "KET", "quantity": 2.5}, "int_from_float"),
        ({"sku": "KET", "quantity": 1, "unit_price": 990}, "decimal_string"),
        ({"sku": "KET", "quantity": 1, "unit_price": "9.9e2"}, "decimal_format"),
    ],
)
def test_nothing_is_coerced_into_a_number(
    api: httpx.Client, line: dict[str, Any], code: str
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    body = order_body([])
    body["lines"] = [line]

    response = api.post("/api/v1/orders", json=body)

    assert list(field_codes(problem(response, 422, "invalid-input")).values()) == [code]
    assert api.get("/api/v1/orders").json()["items"] == []


@pytest.mark.parametrize("since", ["0.5", "1700000000", "yesterday"])
@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/stock/movements", "since"), ("/api/v1/receipts", "created_to")],
)
def test_a_moment_is_iso_8601_text_not_a_timestamp(
    api: httpx.Client, since: str, path: str, name: str
) -> None:
    response = api.get(path, params={name: since})

    assert field_codes(problem(response, 422, "invalid-input")) == {name: "iso_8601"}


def test_a_flag_is_true_or_false_only(api: httpx.Client) -> None:
    build_world_api(api)

    response = api.patch("/api/v1/products/KET", json={"active": "false"})

    assert field_codes(problem(response, 422, "invalid-input")) == {"active": "bool_type"}
    assert api.get("/api/v1/products/KET").json()["active"] is True


def test_a_currency_must_exist_in_iso_4217(api: httpx.Client) -> None:
    made_up = api.post(
        "/api/v1/channels",
        json={"code": "kz", "name": "Kaspi", "type": "marketplace", "currency": "ZZZ"},
    )
    real = api.post(
        "/api/v1/channels",
        json={"code": "kz", "name": "Kaspi", "type": "marketplace", "currency": "KZT"},
    )

    assert field_codes(problem(made_up, 422, "invalid-input")) == {"currency": "currency"}
    assert (real.status_code, real.json()["currency"]) == (201, "KZT")


def test_a_country_must_exist_in_iso_3166(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    body = order_body([("KET", 1)])
    body["delivery"]["address"]["country"] = "XX"

    response = api.post("/api/v1/orders", json=body)

    assert field_codes(problem(response, 422, "invalid-input")) == {
        "delivery.address.country": "country"
    }


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_a_body_that_is_not_json_is_an_unsupported_media_type(
    api: httpx.Client, content_type: str | None
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    content = json.dumps(order_body([("KET", 1)])).encode()
    headers = {"content-type": content_type} if content_type else {}
    if content_type is None:  # httpx names none for raw bytes; say so explicitly
        headers["content-type"] = ""

    taken = api.post("/api/v1/orders", content=content, headers=headers)
    changed = api.patch("/api/v1/products/KET", content=b'{"active": false}', headers=headers)

    problem(taken, 415, "unsupported-media-type")
    assert "application/json" in taken.headers["accept"]
    problem(changed, 415, "unsupported-media-type")
    assert api.get("/api/v1/orders").json()["items"] == []
    assert api.get("/api/v1/products/KET").json()["active"] is True


def test_json_under_a_json_suffix_is_taken(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    content = json.dumps(order_body([("KET", 1)])).encode()

    response = api.post(
        "/api/v1/orders",
        content=content,
        headers={"content-type": "application/vnd.potok+json; charset=utf-8"},
    )

    assert response.status_code == 201, response.text


def test_the_tariff_table_also_takes_csv_but_nothing_else(api: httpx.Client) -> None:
    build_world_api(api)
    text = "warehouse,fixed_rub,days\nMSK,300,2\n"

    as_csv = api.put("/api/v1/sourcing/tariffs", content=text, headers={"content-type": "text/csv"})
    as_text = api.put(
        "/api/v1/sourcing/tariffs", content=text, headers={"content-type": "text/plain"}
    )

    assert as_csv.status_code == 200, as_csv.text
    problem(as_text, 415, "unsupported-media-type")


# ---------------------------------------------------------------------- sizes and connections


def exchange(sock: socket.socket, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one request on an open connection and read one whole answer from it."""
    sock.sendall(request)
    return read_answer(sock)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection (read {data!r})")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-answer")
        body += chunk
    return status, headers, body


def request_bytes(method: str, path: str, secret: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {secret}",
        f"Content-Length: {len(body)}",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def secret(api: httpx.Client) -> str:
    return str(api.headers["authorization"]).removeprefix("Bearer ")


@pytest.fixture
def connection(live: LiveServer) -> Iterator[socket.socket]:
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        yield sock


def test_the_connection_stays_usable_after_a_server_error(
    live: LiveServer,
    secret: str,
    connection: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in a use case")

    monkeypatch.setattr(catalogue_service, "list_channels", broken)

    status, _, body = exchange(connection, request_bytes("GET", "/api/v1/channels", secret))
    again, _, _ = exchange(connection, request_bytes("GET", "/api/v1/health", secret))

    assert (status, json.loads(body)["code"]) == (500, "internal-error")
    assert again == 200


def test_the_connection_stays_usable_after_refused_input(
    api: httpx.Client, secret: str, connection: socket.socket
) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    huge = json.dumps(order_body([("KET", 2**63)])).encode()

    json_type = "application/json"
    answers = [
        exchange(
            connection,
            request_bytes("POST", "/api/v1/orders", secret, b"{not json", content_type=json_type),
        )[0],
        exchange(
            connection,
            request_bytes("POST", "/api/v1/orders", secret, huge, content_type=json_type),
        )[0],
        exchange(
            connection,
            request_bytes("POST", "/api/v1/orders", secret, huge, content_type="text/plain"),
        )[0],
        exchange(connection, request_bytes("DELETE", "/api/v1/health", secret))[0],
        exchange(connection, request_bytes("GET", "/api/v1/health", secret))[0],
    ]

    assert answers == [422, 422, 415, 405, 200]


@pytest.fixture
def small_limit(live: LiveServer) -> Iterator[LiveServer]:
    """A second server on the same database that takes bodies of at most 64 KiB."""
    settings = live.potok.settings.api
    before = settings.max_body_bytes
    settings.max_body_bytes = 64 * 1024
    try:
        server = start_server(live.potok)
    finally:
        settings.max_body_bytes = before
    yield server
    server.stop()


def test_a_body_announced_too_large_is_refused_before_it_is_sent(
    small_limit: LiveServer, secret: str
) -> None:
    host, port = small_limit.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = request_bytes("POST", "/api/v1/orders", secret, content_type="application/json")
        sock.sendall(head.replace(b"Content-Length: 0", b"Content-Length: 52428800"))

        status, headers, body = read_answer(sock)  # no byte of the body was sent

    assert (status, json.loads(body)["code"]) == (413, "too-large")
    assert headers["connection"] == "close"


def test_a_streamed_body_is_refused_once_it_passes_the_limit(
    small_limit: LiveServer, secret: str
) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"channel": "web", "comment": "'
        for _ in range(64):  # 4 MiB in all, if the server read it all
            sent += 1
            yield b"x" * 65536

    with small_limit.client(headers={"Authorization": f"Bearer {secret}"}) as client:
        try:
            response = client.post(
                "/api/v1/orders", content=chunks(), headers={"content-type": "application/json"}
            )
        except httpx.WriteError:  # the server answered and closed while chunks were on the way
            pytest.fail("the 413 answer never arrived")

    problem_of_type(response, 413, "too-large")
    assert sent < 64


def test_a_body_within_the_limit_is_read(small_limit: LiveServer, api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    body = order_body([("KET", 1)], comment="x" * 1500)

    with small_limit.client(headers={"Authorization": api.headers["authorization"]}) as client:
        response = client.post("/api/v1/orders", json=body)

    assert response.status_code == 201, response.text


# ---------------------------------------------------------------------- rows others refer to


def test_a_channel_with_routing_rules_cannot_be_deleted(api: httpx.Client) -> None:
    build_world_api(api)
    api.post(
        "/api/v1/channels", json={"code": "ozon", "name": "Ozon", "type": "marketplace"}
    ).raise_for_status()
    api.put("/api/v1/sourcing/rules/ozon", json={"max_shipments": 2}).raise_for_status()

    response = api.delete("/api/v1/channels/ozon")

    body = problem(response, 409, "channel-in-use")
    assert "routing rules" in body["why"]
    assert api.get("/api/v1/channels/ozon").status_code == 200


def test_a_warehouse_with_bins_cannot_be_deleted(api: httpx.Client) -> None:
    build_world_api(api)
    api.post("/api/v1/warehouses/MSK/locations", json={"code": "A-01"}).raise_for_status()

    response = api.delete("/api/v1/warehouses/MSK")

    body = problem(response, 409, "warehouse-in-use")
    assert "storage locations" in body["why"]
    assert api.get("/api/v1/warehouses/MSK").status_code == 200


def test_a_warehouse_with_stock_cannot_be_deleted(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 1})

    problem(api.delete("/api/v1/warehouses/MSK"), 409, "warehouse-in-use")


def test_a_warehouse_nothing_refers_to_is_deleted(api: httpx.Client) -> None:
    build_world_api(api)

    assert api.delete("/api/v1/warehouses/SPB").status_code == 204
    problem(api.get("/api/v1/warehouses/SPB"), 404, "warehouse-not-found")


# ---------------------------------------------------------------------- documents


def test_the_openapi_document_answers_at_the_root_too(anonymous: httpx.Client) -> None:
    root = anonymous.get("/openapi.json")
    versioned = anonymous.get("/api/v1/openapi.json")

    assert root.status_code == 200
    assert root.json() == versioned.json()


def test_a_wrong_method_names_every_method_of_the_path(api: httpx.Client) -> None:
    response = api.request("PUT", "/api/v1/orders")

    problem(response, 405, "method-not-allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}


def test_a_wrong_method_with_a_body_of_any_type_is_405_not_415(api: httpx.Client) -> None:
    # the body's type is judged only for an operation that exists: 1C's exchange takes files
    # by POST, so a PUT of an image there is a wrong method, not a wrong body (found by the
    # fuzzer's coverage phase)
    response = api.put(
        "/api/v1/exchange/1c?type=catalog&mode=checkauth",
        content=b"\x89PNG\r\n\x1a\n",
        headers={"content-type": "application/octet-stream"},
    )

    problem(response, 405, "method-not-allowed")
    assert "POST" in {m.strip() for m in response.headers["allow"].split(",")}
