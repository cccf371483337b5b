"""The order list over HTTP: filters, text search, sorting and cursor pages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.factories import VYBORG, build_world_api, order_body
from tests.problems import field_codes, problem

MOSCOW_TIME = timezone(timedelta(hours=3))
ORDERS = "/api/v1/orders"


def customer(name: str, phone: str, email: str) -> dict[str, str]:
    return {"name": name, "phone": phone, "email": email}


ANNA = customer("Анна Смирнова", "+7 916 123-45-67", "anna@example.ru")


def _place(api: httpx.Client, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    response = api.post(ORDERS, json=order_body(lines, **extra))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def seven_orders(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """Seven orders of every status, channel and priority, some with equal totals."""
    build_world_api(
        api,
        {("MSK", "KET"): 10, ("SPB", "KET"): 10, ("MSK", "MUG"): 10, ("SPB", "TOY"): 5},
    )
    made = {
        "o1": _place(api, [("KET", 1)], external_id="SHOP-1", customer=ANNA),
        "o2": _place(
            api,
            [("MUG", 2)],
            external_id="SHOP-2",
            priority=5,
            customer=customer("Иван Петров", "+7 903 555-11-22", "ivan@example.ru"),
        ),
        "o3": _place(
            api,
            [("KET", 1)],
            channel="mp",
            to=VYBORG,
            external_id="OZ-1",
            priority=2,
            customer=customer("Ольга Иванова", "8 (921) 000-00-01", "olga@example.ru"),
        ),
        "o4": _place(
            api,
            [("TOY", 1)],
            channel="phone",
            customer=customer("Пётр Сидоров", "+79260000002", "petr@example.ru"),
        ),
        "o5": _place(
            api,
            [("BKS", 1)],
            channel="app",
            priority=9,
            customer=customer("Мария Кузнецова", "+79260000003", "maria@example.ru"),
        ),
        "o6": _place(
            api,
            [("BKS", 2)],
            priority=2,
            payment_status="paid",
            customer=customer("John Smith", "+44 20 7946 0000", "john@example.com"),
        ),
        "o7": _place(api, [("KET", 1)], customer=ANNA),
    }
    api.post(
        f"{ORDERS}/{made['o7']['id']}/cancellation", json={"reason": "duplicate"}
    ).raise_for_status()
    return made


def names(made: dict[str, dict[str, Any]], response: httpx.Response) -> list[str]:
    """The orders of a list answer, by their names in ``made``, in the answer's order."""
    assert response.status_code == 200, response.text
    by_id = {o["id"]: name for name, o in made.items()}
    return [by_id[item["id"]] for item in response.json()["items"]]


def found(api: httpx.Client, made: dict[str, dict[str, Any]], **params: Any) -> set[str]:
    return set(names(made, api.get(ORDERS, params=params)))


def at(order: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(order["created_at"])


# ---------------------------------------------------------------------- filters


def test_orders_are_filtered_by_any_of_several_statuses(api: httpx.Client) -> None:
    made = seven_orders(api)
    statuses = {name: o["status"] for name, o in made.items()}
    assert statuses["o6"] == "backordered"
    assert (statuses["o4"], statuses["o5"]) == ("new", "new")

    assert found(api, made, status=["new", "backordered"]) == {"o4", "o5", "o6"}
    assert found(api, made, status="cancelled") == {"o7"}
    assert found(api, made, status="reserved") == {"o1", "o2", "o3"}


def test_an_unknown_status_is_refused(api: httpx.Client) -> None:
    response = api.get(ORDERS, params={"status": "lost"})

    assert list(field_codes(problem(response, 422, "invalid-input"))) == ["status[0]"]


def test_orders_are_filtered_by_channel_warehouse_and_payment_status(api: httpx.Client) -> None:
    made = seven_orders(api)

    assert found(api, made, channel="mp") == {"o3"}
    assert found(api, made, channel=["web", "phone"]) == {"o1", "o2", "o4", "o6", "o7"}
    assert found(api, made, warehouse="SPB") == {"o3", "o4"}
    assert found(api, made, warehouse="MSK") == {"o1", "o2"}  # o7's stock went back
    assert found(api, made, payment_status="paid") == {"o6"}
    assert found(api, made, channel="web", payment_status="pending") == {"o1", "o2", "o7"}
    items = {i["id"]: i for i in api.get(ORDERS, params={"channel": "mp"}).json()["items"]}
    assert items[made["o3"]["id"]]["warehouses"] == ["SPB"]


def test_orders_are_filtered_by_creation_time_in_any_time_zone(api: httpx.Client) -> None:
    made = seven_orders(api)
    fourth = at(made["o4"]).astimezone(MOSCOW_TIME).isoformat()
    second = at(made["o2"]).astimezone(timezone(timedelta(hours=-5))).isoformat()
    sixth = at(made["o6"]).isoformat()

    assert found(api, made, created_from=fourth) == {"o4", "o5", "o6", "o7"}
    assert found(api, made, created_to=fourth) == {"o1", "o2", "o3"}
    assert found(api, made, created_from=second, created_to=sixth) == {"o2", "o3", "o4", "o5"}


@pytest.mark.parametrize("name", ["created_from", "created_to"])
def test_a_creation_time_without_a_time_zone_is_refused(api: httpx.Client, name: str) -> None:
    response = api.get(ORDERS, params={name: "2026-11-01T00:00:00"})

    assert list(field_codes(problem(response, 422, "invalid-input"))) == [name]


# ---------------------------------------------------------------------- text search


def test_an_order_is_found_by_its_number_or_external_id(api: httpx.Client) -> None:
    made = seven_orders(api)

    assert found(api, made, q=str(made["o3"]["id"])) == {"o3"}
    assert found(api, made, q=f"#{made['o5']['id']}") == {"o5"}
    assert found(api, made, q="OZ-1") == {"o3"}
    assert found(api, made, q="SHOP-2") == {"o2"}


@pytest.mark.parametrize("text", ["¹", "#²³", "٣"])  # digits to str.isdigit, not to int()
def test_a_search_for_digits_that_are_not_ascii_finds_nothing(api: httpx.Client, text: str) -> None:
    answer = api.get("/api/v1/orders", params={"q": text})
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == []


@pytest.mark.parametrize(
    "phone", ["+7 916 123-45-67", "89161234567", "8 (916) 123 45 67", "9161234567"]
)
def test_orders_are_found_by_the_customers_phone_in_any_format(
    api: httpx.Client, phone: str
) -> None:
    made = seven_orders(api)

    assert found(api, made, q=phone) == {"o1", "o7"}


def test_orders_are_found_by_e_mail_whatever_its_case(api: httpx.Client) -> None:
    made = seven_orders(api)

    assert found(api, made, q="ANNA@Example.ru") == {"o1", "o7"}
    assert found(api, made, q=" olga@example.ru ") == {"o3"}
    assert found(api, made, q="nobody@example.ru") == set()


def test_orders_are_found_by_the_customers_full_name_but_not_by_a_fragment(
    api: httpx.Client,
) -> None:
    made = seven_orders(api)

    assert found(api, made, q="Анна Смирнова") == {"o1", "o7"}
    assert found(api, made, q="john smith") == {"o6"}
    assert found(api, made, q="Смирн") == set()  # names are sealed: equality only
    assert found(api, made, q="Петров") == set()


def test_a_cyrillic_full_name_is_found_whatever_its_case_and_spacing(api: httpx.Client) -> None:
    made = seven_orders(api)

    assert found(api, made, q="  АННА   смирнова ") == {"o1", "o7"}


# ---------------------------------------------------------------------- sorting and pages


def expected_order(made: dict[str, dict[str, Any]], sort: str) -> list[str]:
    key = sort.lstrip("-")

    def value(name: str) -> tuple[Any, int]:
        order = made[name]
        raw = {
            "created_at": at(order),
            "total": float(order["totals"]["total"]),
            "priority": order["priority"],
            "id": order["id"],
        }[key]
        return raw, order["id"]

    return sorted(made, key=value, reverse=sort.startswith("-"))


def test_the_newest_orders_come_first_by_default(api: httpx.Client) -> None:
    made = seven_orders(api)

    listed = names(made, api.get(ORDERS))

    assert listed == ["o7", "o6", "o5", "o4", "o3", "o2", "o1"]


@pytest.mark.parametrize("sort", ["total", "-total", "priority", "-priority", "id", "-id"])
def test_orders_are_sorted_by_the_field_asked_with_the_id_breaking_ties(
    api: httpx.Client, sort: str
) -> None:
    made = seven_orders(api)

    listed = names(made, api.get(ORDERS, params={"sort": sort}))

    assert listed == expected_order(made, sort)


def test_equal_totals_and_priorities_are_ordered_by_id(api: httpx.Client) -> None:
    made = seven_orders(api)

    by_total = names(made, api.get(ORDERS, params={"sort": "-total"}))
    by_priority = names(made, api.get(ORDERS, params={"sort": "priority"}))

    assert by_total == ["o7", "o3", "o1", "o4", "o6", "o2", "o5"]
    assert by_priority == ["o1", "o4", "o7", "o3", "o6", "o2", "o5"]


@pytest.mark.parametrize(
    "sort", ["-created_at", "created_at", "total", "-total", "priority", "-priority", "id", "-id"]
)
def test_pages_of_three_visit_every_order_exactly_once(api: httpx.Client, sort: str) -> None:
    made = seven_orders(api)

    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        response = api.get(ORDERS, params=params)
        pages.append(names(made, response))
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [name for page in pages for name in page] == expected_order(made, sort)


def test_pages_keep_their_filter(api: httpx.Client) -> None:
    made = seven_orders(api)

    first = api.get(ORDERS, params={"channel": "web", "limit": 2, "sort": "id"})
    second = api.get(
        ORDERS,
        params={"channel": "web", "limit": 2, "sort": "id", "cursor": first.json()["next_cursor"]},
    )

    assert names(made, first) + names(made, second) == ["o1", "o2", "o6", "o7"]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["garbage", "bm90LWpzb24", "WzEsMiwzXQ"])
def test_a_garbage_cursor_is_refused(api: httpx.Client, cursor: str) -> None:
    response = api.get(ORDERS, params={"cursor": cursor})

    assert field_codes(problem(response, 422, "invalid-input")) == {"cursor": "bad-cursor"}


def test_a_cursor_of_another_sort_order_is_refused(api: httpx.Client) -> None:
    seven_orders(api)
    cursor = api.get(ORDERS, params={"sort": "total", "limit": 3}).json()["next_cursor"]

    response = api.get(ORDERS, params={"sort": "-created_at", "cursor": cursor})

    assert field_codes(problem(response, 422, "invalid-input")) == {"cursor": "bad-cursor"}


def test_an_unknown_sort_is_refused(api: httpx.Client) -> None:
    response = api.get(ORDERS, params={"sort": "-customer"})

    assert field_codes(problem(response, 422, "invalid-input")) == {"sort": "bad-sort"}
