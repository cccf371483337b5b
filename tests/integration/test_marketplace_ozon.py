"""Ozon FBS postings imported through the connector from a simulated Ozon Seller API (a real
HTTP server checking every request against Ozon's published document), on SQLite and
PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.connectors.marketplaces.ozon import Ozon
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.marketplaces import ConnectionDraft, Credentials, Health, Marketplace
from potok.domain.orders import OrderState
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.marketplaces import connect_marketplace, get_connection, poll_marketplace
from potok.services.read_models import OrderFilter, OrderSummary
from potok.settings import MarketplaceSettings
from tests.factories import TESTER, build_world
from tests.simulators.ozon import OzonSimulator

OZON_WAREHOUSE = 22_254_230_484_000


def clients(**settings: object) -> MarketplaceClients:
    return MarketplaceClients(MarketplaceSettings(**settings))  # type: ignore[arg-type]


def mp_orders(potok: Potok) -> list[OrderSummary]:
    return order_service.list_orders(potok.uow(), OrderFilter(channels=["mp"]), limit=100).items


@pytest.fixture
def world(potok: Potok, ozon: OzonSimulator) -> Potok:
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="ozon-main",
            marketplace=Marketplace.OZON,
            channel="mp",
            credentials=Credentials(ozon.api_key, ozon.client_id),
            base_url=ozon.url,
            warehouses={str(OZON_WAREHOUSE): "MSK"},
        ),
        TESTER,
    )
    return potok


def kettle_and_mugs() -> list[dict[str, object]]:
    return [
        {"offer_id": "KET", "sku": 1_146_425_151, "quantity": 1, "price": "2490.0000"},
        {"offer_id": "MUG", "sku": 1_146_425_152, "quantity": 2, "price": "390.5000"},
    ]


def test_a_posting_becomes_one_order_with_its_lines_once(world: Potok, ozon: OzonSimulator) -> None:
    number = ozon.add_posting(products=kettle_and_mugs())

    first = poll_marketplace(world.uow(), clients(), "ozon-main")
    again = poll_marketplace(world.uow(), clients(), "ozon-main")

    assert first.error is None
    assert len(first.imported) == 1
    assert (again.imported, again.repeated) == ([], 1)
    [summary] = mp_orders(world)
    assert summary.external_id == number
    order = order_service.get_order(world.uow(), summary.id).order
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("KET", 1, Decimal("2490.00")),
        ("MUG", 2, Decimal("390.50")),
    ]
    assert order.promised_at is not None  # Ozon's shipment_date: picked in time
    assert order.state is OrderState.CONFIRMED


def test_postings_are_listed_with_the_v4_methods_page_by_page(
    world: Potok, ozon: OzonSimulator
) -> None:
    """Ozon switched the v3 lists off on 1 June 2026: 230 postings come in three pages of the
    v4 list (100, 100, 30) by cursor, each imported once; their statuses come from the v4
    list too, and no v3 list is ever asked."""
    numbers = [
        ozon.add_posting(products=[{"offer_id": "MUG", "sku": 7, "quantity": 1, "price": "1"}])
        for _ in range(230)
    ]
    inventory.receive_stock(world.uow(), ReceiveStock("MSK", "MUG", 300), TESTER)

    first = poll_marketplace(world.uow(), clients(), "ozon-main")
    ozon.set_status(numbers[-1], "cancelled", cancellation_type="client")
    second = poll_marketplace(world.uow(), clients(), "ozon-main")

    assert first.error is None
    assert len(first.imported) == 230
    pages = ozon.calls("/v4/posting/fbs/unfulfilled/list")[:3]
    assert [call.body["limit"] for call in pages] == [100, 100, 100]
    assert [bool(call.body["cursor"]) for call in pages] == [False, True, True]
    assert (len(second.imported), second.repeated) == (0, 229)
    assert len(second.cancelled) == 1
    assert ozon.calls("/v4/posting/fbs/list")
    assert ozon.calls("/v3/posting/fbs/unfulfilled/list") == []
    assert ozon.calls("/v3/posting/fbs/list") == []
    assert sorted(s.external_id for s in mp_orders_all(world)) == sorted(numbers)


def test_a_cursor_ozon_hands_out_twice_ends_the_listing(ozon: OzonSimulator) -> None:
    for _ in range(250):
        ozon.add_posting(products=[{"offer_id": "MUG", "sku": 7, "quantity": 1, "price": "1"}])
    ozon.stuck_cursor = True
    client = Ozon.connect(ozon.url, Credentials(ozon.api_key, ozon.client_id))

    found = client.new_orders()

    # page 1, then page 2, whose answer names page 2's cursor again: the listing stops there
    assert len(ozon.calls("/v4/posting/fbs/unfulfilled/list")) == 2
    assert len({o.external_id for o in found}) == 200


def mp_orders_all(potok: Potok) -> list[OrderSummary]:
    found: list[OrderSummary] = []
    cursor = None
    while True:
        page = order_service.list_orders(
            potok.uow(), OrderFilter(channels=["mp"]), limit=100, cursor=cursor
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def test_an_offer_id_no_product_has_waits_in_the_journal(world: Potok, ozon: OzonSimulator) -> None:
    number = ozon.add_posting(
        products=[{"offer_id": "NOPE", "sku": 1, "quantity": 1, "price": "10.00"}]
    )

    outcome = poll_marketplace(world.uow(), clients(), "ozon-main")

    assert outcome.kept_aside == [number]
    assert mp_orders(world) == []
    assert get_connection(world.uow(), "ozon-main").open_journal == 1


def test_a_cancellation_on_ozon_cancels_the_order(world: Potok, ozon: OzonSimulator) -> None:
    number = ozon.add_posting(products=kettle_and_mugs())
    poll_marketplace(world.uow(), clients(), "ozon-main")
    ozon.set_status(number, "cancelled", cancellation_type="client", cancel_reason_id=507)

    outcome = poll_marketplace(world.uow(), clients(), "ozon-main")

    assert len(outcome.cancelled) == 1
    order = order_service.get_order(world.uow(), outcome.cancelled[0]).order
    assert order.state is OrderState.CANCELLED
    assert order.open_reservations == []


def test_rate_limit_and_outage_answers_are_retried(world: Potok, ozon: OzonSimulator) -> None:
    ozon.add_posting(products=kettle_and_mugs())
    ozon.limit(1)
    ozon.fail(1, status=500)

    outcome = poll_marketplace(world.uow(), clients(), "ozon-main")

    assert outcome.error is None
    assert len(outcome.imported) == 1
    assert outcome.rate_limit_waits == 1


def test_a_wrong_api_key_turns_the_connection_red(world: Potok, ozon: OzonSimulator) -> None:
    ozon.api_key = "rotated-on-ozon"

    outcome = poll_marketplace(world.uow(), clients(), "ozon-main")

    assert outcome.refused
    connection = get_connection(world.uow(), "ozon-main")
    assert connection.health is Health.REFUSED
    assert connection.last_error is not None
    assert "Invalid Api-Key" in connection.last_error
