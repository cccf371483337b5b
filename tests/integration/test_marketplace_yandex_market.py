"""Yandex Market FBS orders imported through the connector from a simulated Partner API (a
real HTTP server checking every request against Market's published document), on SQLite and
PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.connectors.marketplaces.yandex_market import YandexMarket
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.marketplaces import (
    ConnectionDraft,
    Credentials,
    Health,
    JournalKind,
    Marketplace,
)
from potok.domain.orders import OrderState
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.marketplaces import (
    connect_marketplace,
    get_connection,
    poll_marketplace,
    read_journal,
)
from potok.services.read_models import OrderFilter, OrderSummary
from potok.settings import MarketplaceSettings
from tests.factories import TESTER, build_world
from tests.simulators.yandex_market import YandexMarketSimulator

CAMPAIGN = 21_000_001


def clients() -> MarketplaceClients:
    return MarketplaceClients(MarketplaceSettings())


def ym_orders(potok: Potok) -> list[OrderSummary]:
    return order_service.list_orders(potok.uow(), OrderFilter(channels=["mp"]), limit=500).items


def connect(potok: Potok, market: YandexMarketSimulator, **warehouses: str) -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="ym-main",
            marketplace=Marketplace.YANDEX_MARKET,
            channel="mp",
            credentials=Credentials(market.api_key, market.business_id),
            base_url=market.url,
            warehouses=warehouses or {str(CAMPAIGN): "MSK"},
        ),
        TESTER,
    )


@pytest.fixture
def world(potok: Potok, yandex_market: YandexMarketSimulator) -> Potok:
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
    connect(potok, yandex_market)
    return potok


def kettle_and_mugs() -> list[dict[str, object]]:
    return [
        {"offerId": "KET", "count": 1, "price": 2490},
        {"offerId": "MUG", "count": 2, "price": 390.5},
    ]


def test_an_order_becomes_one_potok_order_with_its_lines_once(
    world: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number = yandex_market.add_order(items=kettle_and_mugs())

    first = poll_marketplace(world.uow(), clients(), "ym-main")
    again = poll_marketplace(world.uow(), clients(), "ym-main")

    assert first.error is None
    assert len(first.imported) == 1
    assert (again.imported, again.repeated) == ([], 1)
    [summary] = ym_orders(world)
    assert summary.external_id == str(number)
    order = order_service.get_order(world.uow(), summary.id).order
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("KET", 1, Decimal("2490.00")),
        ("MUG", 2, Decimal("390.50")),  # payment is for both units: 781.00 / 2
    ]
    assert order.currency == "RUB"  # Market's RUR
    assert order.promised_at is not None  # the shipment day: picked in time
    assert order.state is OrderState.CONFIRMED
    listing = yandex_market.calls(f"/v1/businesses/{yandex_market.business_id}/orders")[0]
    assert listing.body["statuses"] == ["PROCESSING"]
    assert listing.body["substatuses"] == ["STARTED"]
    assert "limit=50" in listing.query


def test_orders_come_page_by_page_and_no_deprecated_method_is_called(
    world: Potok, yandex_market: YandexMarketSimulator
) -> None:
    """120 orders: pages of 50, 50, 20 by pageToken, each imported once; their statuses are
    read with the same current method (getOrders/getOrder are deprecated: the simulator
    answers them 410 and the fixture fails the test)."""
    inventory.receive_stock(world.uow(), ReceiveStock("MSK", "MUG", 200), TESTER)
    numbers = [
        yandex_market.add_order(items=[{"offerId": "MUG", "count": 1, "price": 1}])
        for _ in range(120)
    ]

    first = poll_marketplace(world.uow(), clients(), "ym-main")
    yandex_market.set_status(numbers[-1], "CANCELLED", "USER_CHANGED_MIND")
    second = poll_marketplace(world.uow(), clients(), "ym-main")

    assert first.error is None, first.error
    assert len(first.imported) == 120
    pages = yandex_market.calls(f"/v1/businesses/{yandex_market.business_id}/orders")[:3]
    assert ["pageToken" in call.query for call in pages] == [False, True, True]
    assert (len(second.imported), second.repeated) == (0, 119)
    assert len(second.cancelled) == 1
    assert sorted(s.external_id for s in ym_orders(world)) == sorted(str(n) for n in numbers)


def test_a_page_token_market_hands_out_twice_ends_the_listing(
    yandex_market: YandexMarketSimulator,
) -> None:
    for _ in range(160):
        yandex_market.add_order(items=[{"offerId": "MUG", "count": 1, "price": 1}])
    yandex_market.stuck_token = True
    client = YandexMarket.connect(
        yandex_market.url, Credentials(yandex_market.api_key, yandex_market.business_id)
    )

    found = client.new_orders()

    # page 1, then page 2, whose answer names the same token again: the listing stops
    assert len(yandex_market.calls(f"/v1/businesses/{yandex_market.business_id}/orders")) == 2
    assert len({o.external_id for o in found}) == 100


def test_an_offer_no_product_has_and_an_unmapped_campaign_wait_in_the_journal(
    world: Potok, yandex_market: YandexMarketSimulator
) -> None:
    unknown_offer = yandex_market.add_order(items=[{"offerId": "NOPE", "price": 10}])
    other_campaign = yandex_market.add_order(
        items=[{"offerId": "KET", "price": 10}], campaign=21_000_002
    )

    outcome = poll_marketplace(world.uow(), clients(), "ym-main")

    assert sorted(outcome.kept_aside) == sorted([str(unknown_offer), str(other_campaign)])
    assert ym_orders(world) == []
    kinds = {e.external_id: e.kind for e in read_journal(world.uow(), "ym-main")}
    assert kinds == {
        str(unknown_offer): JournalKind.UNKNOWN_SKU,
        str(other_campaign): JournalKind.UNKNOWN_WAREHOUSE,
    }


def test_an_order_market_sends_unreadable_is_kept_not_half_imported(
    world: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number = yandex_market.add_order(items=kettle_and_mugs())
    yandex_market.orders[number]["items"][1]["prices"]["payment"]["currencyId"] = "USD"

    outcome = poll_marketplace(world.uow(), clients(), "ym-main")

    assert outcome.kept_aside == [str(number)]
    assert ym_orders(world) == []
    [entry] = read_journal(world.uow(), "ym-main")
    assert entry.kind is JournalKind.MALFORMED
    assert "currencies" in entry.detail


def test_a_cancellation_on_market_cancels_the_order(
    world: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number = yandex_market.add_order(items=kettle_and_mugs())
    poll_marketplace(world.uow(), clients(), "ym-main")
    yandex_market.set_status(number, "CANCELLED", "USER_CHANGED_MIND")

    outcome = poll_marketplace(world.uow(), clients(), "ym-main")

    assert len(outcome.cancelled) == 1
    order = order_service.get_order(world.uow(), outcome.cancelled[0]).order
    assert order.state is OrderState.CANCELLED
    assert order.open_reservations == []


def test_market_420_and_outages_are_waited_out(
    world: Potok, yandex_market: YandexMarketSimulator
) -> None:
    yandex_market.add_order(items=kettle_and_mugs())
    yandex_market.limit(1)
    yandex_market.fail(1, status=503)

    outcome = poll_marketplace(world.uow(), clients(), "ym-main")

    assert outcome.error is None
    assert len(outcome.imported) == 1
    assert outcome.rate_limit_waits == 1  # Market's 420, not a 429


def test_a_wrong_api_key_turns_the_connection_red(
    world: Potok, yandex_market: YandexMarketSimulator
) -> None:
    yandex_market.api_key = "rotated-in-the-cabinet"

    outcome = poll_marketplace(world.uow(), clients(), "ym-main")

    assert outcome.refused
    connection = get_connection(world.uow(), "ym-main")
    assert connection.health is Health.REFUSED
    assert connection.last_error is not None
    assert "UNAUTHORIZED" in connection.last_error


def test_a_connection_without_the_business_id_is_refused(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    from potok.domain.errors import InvalidInput

    build_world(potok, {})
    with pytest.raises(InvalidInput) as refused:
        connect_marketplace(
            potok.uow(),
            ConnectionDraft(
                code="ym-main",
                marketplace=Marketplace.YANDEX_MARKET,
                channel="mp",
                credentials=Credentials(yandex_market.api_key, None),
                base_url=yandex_market.url,
            ),
            TESTER,
        )
    assert [e.field for e in refused.value.errors] == ["client_id"]
