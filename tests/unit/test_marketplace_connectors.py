"""Marketplace connectors alone: WB's payload read into an incoming order, its two statuses
made one, the rate limit kept, and the HTTP client's answers to 429, 5xx, 401 and 400 (an
``httpx.MockTransport`` stands in for the marketplace here; the integration tests use a
simulator on a real port)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from potok.connectors.marketplaces import (
    CredentialsRefused,
    MarketplaceHttp,
    MarketplaceRefused,
    MarketplaceState,
    MarketplaceUnavailable,
    RateLimit,
)
from potok.connectors.marketplaces.http import TokenBucket
from potok.connectors.marketplaces.ozon import read_posting
from potok.connectors.marketplaces.ozon import state_of as ozon_state
from potok.connectors.marketplaces.wildberries import read_order, state_of
from potok.domain.errors import InvalidInput
from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace

TASK: dict[str, Any] = {
    "id": 13833711,
    "rid": "f884001e44e511edb8780242ac120002",
    "orderUid": "165918930_629fbc924b984618a44354475ca58675",
    "createdAt": "2026-12-06T10:15:00Z",
    "warehouseId": 658434,
    "officeId": 123,
    "nmId": 12345678,
    "chrtId": 987654321,
    "article": "one-ring-7548",
    "skus": ["6665956397512"],
    "price": 149_900,
    "convertedPrice": 149_950,
    "currencyCode": 643,
    "convertedCurrencyCode": 643,
    "requiredMeta": ["sgtin"],
    "address": {"fullAddress": "Челябинск, ул. Ленина, 1", "latitude": 55.16, "longitude": 61.4},
}


def test_a_wb_assembly_task_reads_as_one_unit_priced_from_minor_units() -> None:
    order = read_order(TASK)

    assert order.external_id == "13833711"
    assert order.warehouse == "658434"
    assert order.currency == "RUB"
    assert order.group == "165918930_629fbc924b984618a44354475ca58675"
    [line] = order.lines
    assert (line.article, line.barcodes, line.quantity) == ("one-ring-7548", ("6665956397512",), 1)
    assert line.unit_price == Decimal("1499.50")
    assert line.marketplace_sku == "987654321"
    assert order.required_meta == ("sgtin",)
    assert order.address is not None
    assert (order.address.city, order.address.latitude) == ("Челябинск", 55.16)
    assert order.created_at.isoformat() == "2026-12-06T10:15:00+00:00"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"id": "13833711"}, "id is not an integer"),
        ({"convertedPrice": 1499.5}, "whole number of minor units"),
        ({"convertedCurrencyCode": 999, "currencyCode": 999}, "unknown currency"),
    ],
)
def test_an_unreadable_task_says_why(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        read_order({**TASK, **change})


@pytest.mark.parametrize(
    ("supplier", "wb", "state"),
    [
        ("new", "waiting", MarketplaceState.NEW),
        ("confirm", "waiting", MarketplaceState.IN_WORK),
        ("complete", "sorted", MarketplaceState.SHIPPED),
        ("complete", "sold", MarketplaceState.DELIVERED),
        ("new", "declined_by_client", MarketplaceState.CANCELLED),
        ("cancel", "canceled", MarketplaceState.CANCELLED),
        ("confirm", "canceled", MarketplaceState.CANCELLED),
        ("complete", "canceled_by_client", MarketplaceState.RETURNED),
        ("complete", "defect", MarketplaceState.RETURNED),
    ],
)
def test_wbs_two_statuses_make_one_state(supplier: str, wb: str, state: MarketplaceState) -> None:
    assert state_of(supplier, wb) is state


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_bucket_lets_a_burst_through_then_spaces_requests_and_a_409_costs_ten() -> None:
    time = FakeTime()
    bucket = TokenBucket(
        RateLimit(burst=20, interval_s=0.2, cost_of_conflict=10), clock=time.clock, sleep=time.sleep
    )

    waits = [bucket.take() for _ in range(20)]
    assert waits == [0.0] * 20
    assert bucket.take() == pytest.approx(0.21)  # 200 ms and the 5 % margin
    bucket.charge(9)  # the answer was a 409
    assert bucket.take() == pytest.approx(10 * 0.21)


def client(handler: Any, time: FakeTime, **options: Any) -> MarketplaceHttp:
    return MarketplaceHttp(
        marketplace="Wildberries",
        base_url="https://marketplace-api.wildberries.ru",
        headers={"Authorization": "secret"},
        limit=RateLimit(burst=20, interval_s=0.2),
        sleep=time.sleep,
        transport=httpx.MockTransport(handler),
        **options,
    )


def test_a_429_is_waited_out_for_as_long_as_the_marketplace_says() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"X-Ratelimit-Retry": "3"}, json={"title": "too many"}),
            httpx.Response(200, json={"orders": []}),
        ]
    )
    time = FakeTime()
    http = client(lambda request: next(answers), time)

    assert http.call("GET", "/api/v3/orders/new").json() == {"orders": []}
    assert time.slept == [3.0]
    assert (http.stats.requests, http.stats.rate_limit_waits) == (2, 1)


def test_a_429_asking_longer_than_allowed_ends_the_call_as_unavailable() -> None:
    time = FakeTime()
    http = client(
        lambda request: httpx.Response(429, headers={"Retry-After": "600"}), time, longest_wait_s=60
    )

    with pytest.raises(MarketplaceUnavailable, match="429"):
        http.call("GET", "/api/v3/orders/new")
    assert time.slept == []


def test_5xx_is_retried_only_when_sending_twice_is_harmless() -> None:
    time = FakeTime()
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503, json={"code": "InternalServerError", "message": "down"})

    http = client(handler, time, attempts=3)
    with pytest.raises(MarketplaceUnavailable, match="503 InternalServerError; down"):
        http.call("GET", "/api/v3/orders/new")
    assert calls == ["GET"] * 3
    calls.clear()
    with pytest.raises(MarketplaceUnavailable):
        http.call("POST", "/api/v3/supplies", json={"name": "x"}, safe=False)
    assert calls == ["POST"]


def test_401_refuses_the_credentials_and_400_carries_the_marketplaces_words() -> None:
    time = FakeTime()
    http = client(lambda request: httpx.Response(401, json={"title": "unauthorized"}), time)
    with pytest.raises(CredentialsRefused, match="unauthorized"):
        http.call("GET", "/api/v3/orders/new")

    http = client(
        lambda request: httpx.Response(
            400, json={"code": "IncorrectRequest", "message": "Переданы некорректные данные"}
        ),
        time,
    )
    with pytest.raises(MarketplaceRefused, match="IncorrectRequest; Переданы некорректные"):
        http.call("POST", "/api/v3/orders/status", json={"orders": [1]})


def test_credentials_never_show_the_token() -> None:
    credentials = Credentials("very-secret-token")
    assert "very-secret-token" not in repr(credentials)
    assert "very-secret-token" not in str(credentials)
    draft = ConnectionDraft(
        "wb", Marketplace.WILDBERRIES, "mp", credentials, "https://marketplace-api.wildberries.ru"
    )
    assert "very-secret-token" not in repr(draft)


def test_a_draft_says_everything_wrong_at_once() -> None:
    with pytest.raises(InvalidInput) as raised:
        ConnectionDraft(
            "-bad", Marketplace.OZON, "mp", Credentials(""), "ftp://x", poll_every_s=1
        ).validate()
    assert sorted(e.field for e in raised.value.errors) == [
        "base_url",
        "client_id",
        "code",
        "poll_every_s",
        "token",
    ]


POSTING: dict[str, Any] = {
    "posting_number": "39268230-0002-3",
    "order_number": "39268230-0002",
    "status": "awaiting_packaging",
    "in_process_at": "2026-12-06T10:15:00Z",
    "shipment_date": "2026-12-07T14:00:00Z",
    "delivery_method": {"warehouse_id": 22254230484000},
    "products": [
        {
            "offer_id": "KET",
            "sku": 1146425151,
            "quantity": 2,
            "price": "2490.5000",
            "currency_code": "RUB",
        },
    ],
    "requirements": {"products_requiring_mandatory_mark": ["1146425151"]},
    "cancellation": None,
}


def test_an_ozon_posting_reads_as_one_order_with_a_line_per_product() -> None:
    order = read_posting(POSTING)

    assert (order.external_id, order.warehouse, order.currency) == (
        "39268230-0002-3",
        "22254230484000",
        "RUB",
    )
    [line] = order.lines
    assert (line.article, line.marketplace_sku, line.quantity) == ("KET", "1146425151", 2)
    assert line.unit_price == Decimal("2490.50")
    assert order.ship_by is not None
    assert order.ship_by.isoformat() == "2026-12-07T14:00:00+00:00"
    assert order.required_meta == ("mandatory_mark",)


def test_a_v4_posting_prices_its_products_as_amount_and_currency() -> None:
    v4 = {
        **POSTING,
        "products": [
            {"offer_id": "KET", "sku": 1146425151, "quantity": 1, "price": {"amount": "2490.5"}},
            {
                "offer_id": "MUG",
                "sku": 1146425152,
                "quantity": 2,
                "price": {"amount": "12.34", "currency": "KZT"},
            },
        ],
    }

    with pytest.raises(ValueError, match="several currencies"):
        read_posting(v4)
    v4["products"][1]["price"] = {"amount": "390", "currency": "RUB"}
    order = read_posting(v4)

    assert [(ln.article, ln.unit_price) for ln in order.lines] == [
        ("KET", Decimal("2490.50")),
        ("MUG", Decimal("390.00")),
    ]
    assert order.currency == "RUB"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"products": []}, "without products"),
        ({"delivery_method": {}}, "warehouse_id"),
        ({"products": [{"offer_id": "KET", "sku": 1, "quantity": 0, "price": "1"}]}, "quantity"),
        ({"products": [{"offer_id": "KET", "sku": 1, "quantity": 1, "price": "x"}]}, "price"),
    ],
)
def test_an_unreadable_posting_says_why(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        read_posting({**POSTING, **change})


@pytest.mark.parametrize(
    ("status", "after_ship", "state"),
    [
        ("awaiting_packaging", False, MarketplaceState.NEW),
        ("awaiting_deliver", False, MarketplaceState.IN_WORK),
        ("delivering", False, MarketplaceState.SHIPPED),
        ("delivered", False, MarketplaceState.DELIVERED),
        ("cancelled", False, MarketplaceState.CANCELLED),
        ("cancelled", True, MarketplaceState.RETURNED),
    ],
)
def test_ozon_statuses_make_potoks_states(
    status: str, after_ship: bool, state: MarketplaceState
) -> None:
    assert ozon_state(status, cancelled_after_ship=after_ship) is state
