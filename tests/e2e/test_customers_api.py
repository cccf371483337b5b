"""Customers' personal data over HTTP: sealed in the database, shown whole or masked by
permission, searched by hash, exported and anonymised; and kept out of the access log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from potok.api.app import create_app
from potok.db.tables import metadata
from potok.domain.access import Role
from potok.security.access_log import ACCESS_LOGGER, PersonalDataFilter
from tests.auth import Session, make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import TVER, build_world_api, order_body
from tests.problems import problem

ORDERS = "/api/v1/orders"
CUSTOMERS = "/api/v1/customers"
ADDRESS = {
    "city": "Тверь",
    "line1": "ул. Советская, 1",
    "line2": "кв. 17",
    "postal_code": "170100",
    "latitude": TVER[0],
    "longitude": TVER[1],
}
PLAINTEXT = ("Анна", "Смирнова", "79161234567", "anna@example", "Советская", "кв. 17", "170100")


def place(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = order_body([("KET", 1)], **extra)
    body["delivery"]["address"] = ADDRESS
    response = api.post(ORDERS, json=body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def every_stored_value(live: LiveServer) -> str:
    """Every row of every table, as the database holds them, as one string."""
    with live.potok.engine.connect() as connection:
        return " ".join(
            str(tuple(row))
            for table in metadata.sorted_tables
            for row in connection.execute(sa.select(table))
        )


def stored(live: LiveServer, sql: str) -> list[dict[str, Any]]:
    with live.potok.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(sa.text(sql))]


@pytest.fixture
def manager(live: LiveServer) -> Iterator[Session]:
    make_user(live.potok, "manager", Role.MANAGER)
    session = sign_in(live.url, "manager")
    yield session
    session.client.close()


def test_no_table_holds_the_customers_data_in_plaintext_yet_the_api_shows_it(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    first = place(api)
    api.post(ORDERS, json=order_body([("KET", 1)]), headers={"Idempotency-Key": "k-1"})

    everything = every_stored_value(live)

    assert "pd1:t1:" in everything
    assert [text for text in PLAINTEXT if text in everything] == []
    detail = api.get(f"{ORDERS}/{first['id']}").json()
    assert detail["customer"]["name"] == "Анна Смирнова"
    assert detail["customer"]["phone"] == "+79161234567"
    assert detail["customer"]["email"] == "anna@example.ru"
    address = detail["delivery"]["address"]
    assert (address["line1"], address["line2"], address["postal_code"]) == (
        "ул. Советская, 1",
        "кв. 17",
        "170100",
    )
    item = api.get(ORDERS).json()["items"][-1]
    assert (item["customer_name"], item["customer_phone"], item["customer_email"]) == (
        "Анна Смирнова",
        "+79161234567",
        "anna@example.ru",
    )


def test_the_same_customer_is_found_again_and_their_orders_by_phone_or_e_mail(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    first = place(api)
    second = place(
        api, customer={"name": "Анна", "phone": "8 (916) 123-45-67", "email": "ANNA@example.ru"}
    )

    assert first["customer"]["id"] == second["customer"]["id"]
    assert len(stored(live, "SELECT id FROM customers")) == 1
    for text in ("+7 916 123 45 67", "89161234567", "9161234567", "Anna@Example.RU"):
        items = api.get(ORDERS, params={"q": text}).json()["items"]
        assert {o["id"] for o in items} == {first["id"], second["id"]}, text
    assert api.get(ORDERS, params={"q": "Смирнова"}).json()["items"] == []


def test_a_customer_is_read_exported_and_anonymised_while_the_orders_stay(
    api: httpx.Client, live: LiveServer, manager: Session
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    first = place(api)
    second = place(api)
    customer_id = first["customer"]["id"]

    record = manager.request("GET", f"{CUSTOMERS}/{customer_id}")
    export = manager.request("GET", f"{CUSTOMERS}/{customer_id}/export")
    done = manager.request("POST", f"{CUSTOMERS}/{customer_id}/anonymisation")

    assert record.status_code == 200, record.text
    assert record.json()["phone"] == "+79161234567"
    assert record.json()["anonymised_at"] is None
    assert export.status_code == 200, export.text
    body = export.json()
    assert body["customer"]["email"] == "anna@example.ru"
    assert [o["id"] for o in body["orders"]] == [first["id"], second["id"]]
    assert body["orders"][0]["customer_name"] == "Анна Смирнова"
    assert body["orders"][0]["address"]["line2"] == "кв. 17"
    assert body["orders"][0]["total"] == "2490.00"
    assert done.status_code == 200, done.text
    assert done.json()["order_ids"] == [first["id"], second["id"]]

    customer = stored(live, "SELECT * FROM customers")[0]
    assert [customer[c] for c in ("name", "phone", "email", "phone_hash", "email_hash")] == [
        "",
        None,
        None,
        None,
        None,
    ]
    for row in stored(live, "SELECT * FROM orders"):
        assert row["customer_name"] == ""
        assert row["customer_phone"] is row["customer_email"] is None
        assert row["address_line1"] is row["address_line2"] is row["address_postal_code"] is None
        assert row["customer_phone_hash"] is row["customer_name_hash"] is None
    assert [text for text in PLAINTEXT if text in every_stored_value(live)] == []
    order = api.get(f"{ORDERS}/{first['id']}").json()
    assert order["customer"] == {"id": customer_id, "name": "", "phone": None, "email": None}
    assert order["totals"] == first["totals"]
    assert order["status"] == first["status"]
    assert manager.request("GET", f"{CUSTOMERS}/{customer_id}").json()["anonymised_at"]
    again = manager.request("GET", f"{CUSTOMERS}/{customer_id}/export").json()
    assert again["orders"][0]["customer_phone"] is None


def test_an_unknown_customer_is_a_404_problem(manager: Session) -> None:
    for method, path in (
        ("GET", f"{CUSTOMERS}/999"),
        ("GET", f"{CUSTOMERS}/999/export"),
        ("POST", f"{CUSTOMERS}/999/anonymisation"),
    ):
        problem(manager.request(method, path), 404, "customer-not-found")


def test_an_analyst_sees_the_customers_data_masked_and_no_customer_records(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    order = place(api)
    make_user(live.potok, "analyst", Role.ANALYST)
    analyst = sign_in(live.url, "analyst")

    detail = analyst.request("GET", f"{ORDERS}/{order['id']}").json()
    listed = analyst.request("GET", ORDERS).json()["items"][0]
    record = analyst.request("GET", f"{CUSTOMERS}/{order['customer']['id']}")

    assert detail["customer"]["name"] == "А*** С***"
    assert detail["customer"]["phone"] == "+7916*****67"
    assert detail["customer"]["email"] == "a***@example.ru"
    address = detail["delivery"]["address"]
    assert (address["line1"], address["line2"], address["postal_code"]) == ("***",) * 3
    assert (listed["customer_name"], listed["customer_phone"], listed["customer_email"]) == (
        "А*** С***",
        "+7916*****67",
        "a***@example.ru",
    )
    problem(record, 403, "forbidden")
    analyst.client.close()


def test_warehouse_staff_reach_no_customer_record(api: httpx.Client, live: LiveServer) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    order = place(api)
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("MSK",))
    picker = sign_in(live.url, "picker")

    answer = picker.request("GET", f"{CUSTOMERS}/{order['customer']['id']}")

    problem(answer, 404, "out-of-reach")  # the same for every id: nothing about it leaks
    picker.client.close()


# ---------------------------------------------------------------------- the access log


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_access_log_masks_phones_and_e_mails_in_query_strings(live: LiveServer) -> None:
    create_app(potok=live.potok)
    logger = logging.getLogger(ACCESS_LOGGER)
    assert sum(isinstance(f, PersonalDataFilter) for f in logger.filters) == 1
    lines = Lines()
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        for path in (
            "/api/v1/orders?q=%2B79161234567&limit=50",
            "/api/v1/orders?q=%2B7+916+123-45-67",
            "/api/v1/orders?q=anna%40example.ru",
            "/api/v1/orders?q=anna@example.ru&created_from=2026-11-25T00:00:00Z",
        ):
            logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:54321", "GET", path, "1.1", 200)
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)

    assert lines.lines == [
        '127.0.0.1:54321 - "GET /api/v1/orders?q=***&limit=50 HTTP/1.1" 200',
        '127.0.0.1:54321 - "GET /api/v1/orders?q=*** HTTP/1.1" 200',
        '127.0.0.1:54321 - "GET /api/v1/orders?q=*** HTTP/1.1" 200',
        '127.0.0.1:54321 - "GET /api/v1/orders?q=***&created_from=2026-11-25T00:00:00Z '
        'HTTP/1.1" 200',
    ]
