"""Avito orders polled in and taken through fulfilment against a simulated Avito (a real HTTP
server checking every request against Avito's published documents): imported once,
confirmed, Честный ЗНАК codes per listing, the label kept, cancellation both ways, stock per
listing; a stale token renewed, a wrong secret turning the connection red; SQLite and
PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.domain.marketplaces import (
    ConnectionDraft,
    Credentials,
    Health,
    ItemMapping,
    JournalKind,
    Marketplace,
)
from potok.domain.orders import OrderState
from potok.domain.orders.commands import CancelOrder
from potok.services import orders as order_service
from potok.services.fulfilment import reads
from potok.services.marketplaces import (
    connect_marketplace,
    get_connection,
    map_items,
    poll_marketplace,
    push_stock,
    read_journal,
)
from potok.services.marketplaces.stickers import sticker_of_shipment
from tests.factories import TESTER
from tests.integration.test_marketplace_fulfilment import clients, fulfil, marking, shoes_world
from tests.simulators.avito import LABEL, AvitoSimulator

KET_LISTING, SHOE_LISTING = 4_100_000_001, 4_100_000_002


def connect(potok: Potok, avito: AvitoSimulator) -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="av",
            marketplace=Marketplace.AVITO,
            channel="mp",
            credentials=Credentials(avito.secret, avito.client_id),
            base_url=avito.url,
            warehouses={"avito": "MSK"},
        ),
        TESTER,
    )


@pytest.fixture
def world(potok: Potok, avito: AvitoSimulator) -> Potok:
    shoes_world(potok)
    connect(potok, avito)
    map_items(
        potok.uow(),
        "av",
        [ItemMapping("KET", str(KET_LISTING)), ItemMapping("SHOE", str(SHOE_LISTING))],
        TESTER,
    )
    return potok


def test_an_order_is_imported_once_then_confirmed_on_avito(
    world: Potok, avito: AvitoSimulator
) -> None:
    number = avito.add_order(items=[{"avitoId": KET_LISTING, "count": 2, "price": 1990}])

    process = clients()  # one worker process: its clients share the account's token
    first = poll_marketplace(world.uow(), process, "av")
    again = poll_marketplace(world.uow(), process, "av")

    assert first.error is None, first.error
    assert len(first.imported) == 1
    assert first.confirmed == [number]
    assert avito.transitions == [(number, "confirm")]  # once: the next poll read it back
    assert avito.orders[number]["status"] == "ready_to_ship"
    assert (again.imported, again.repeated, again.confirmed) == ([], 1, [])
    order = order_service.get_order(world.uow(), first.imported[0]).order
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("KET", 2, Decimal("1990.00"))
    ]
    listed = avito.calls("/order-management/1/orders")[0]
    assert "statuses=on_confirmation" in listed.query
    assert "limit=20" in listed.query
    assert len(avito.calls("/token")) == 1  # one token for both polls


def test_an_unknown_listing_waits_in_the_journal_never_confirmed(
    world: Potok, avito: AvitoSimulator
) -> None:
    number = avito.add_order(items=[{"avitoId": 999, "price": 10}])

    outcome = poll_marketplace(world.uow(), clients(), "av")

    assert outcome.kept_aside == [number]
    [entry] = read_journal(world.uow(), "av")
    assert entry.kind is JournalKind.UNKNOWN_SKU
    assert avito.transitions == []


def test_codes_go_per_listing_and_the_label_is_kept(world: Potok, avito: AvitoSimulator) -> None:
    number = avito.add_order(items=[{"avitoId": SHOE_LISTING, "count": 2, "price": 5990}])
    [order_id] = poll_marketplace(world.uow(), clients(), "av").imported
    fulfil(world, order_id, marking("av-unit-1"), marking("av-unit-2"), hand_over=False)

    outcome = poll_marketplace(world.uow(), clients(), "av")

    assert outcome.error is None, outcome.error
    assert outcome.packed == [number]
    assert avito.markings == {
        (number, str(SHOE_LISTING)): [marking("av-unit-1"), marking("av-unit-2")]
    }
    assert outcome.stickers == [number]
    (shipment,) = reads.order_shipments(world.uow(), order_id)
    label = sticker_of_shipment(world.uow(), shipment.id or 0)
    assert (label.media_type, label.file) == ("application/pdf", LABEL)


def test_cancelling_in_potok_rejects_on_avito_and_avitos_cancel_cancels_in_potok(
    world: Potok, avito: AvitoSimulator
) -> None:
    mine = avito.add_order(items=[{"avitoId": KET_LISTING, "price": 1990}])
    theirs = avito.add_order(items=[{"avitoId": KET_LISTING, "price": 1990}])
    imported = poll_marketplace(world.uow(), clients(), "av").imported
    by_number = {order_service.get_order(world.uow(), i).order.external_id: i for i in imported}
    order_service.cancel_order(
        world.uow(), CancelOrder(order_id=by_number[mine], reason="no stock"), TESTER
    )
    avito.set_status(theirs, "canceled")

    outcome = poll_marketplace(world.uow(), clients(), "av")

    assert outcome.cancelled_there == [mine]
    assert (mine, "reject") in avito.transitions
    assert avito.orders[mine]["status"] == "canceled"
    assert outcome.cancelled == [by_number[theirs]]
    order = order_service.get_order(world.uow(), by_number[theirs]).order
    assert order.state is OrderState.CANCELLED


def test_a_stale_token_is_renewed_and_a_wrong_secret_turns_the_connection_red(
    world: Potok, avito: AvitoSimulator
) -> None:
    avito.add_order(items=[{"avitoId": KET_LISTING, "price": 1990}])
    client = clients()
    poll_marketplace(world.uow(), client, "av")
    avito.expire()
    avito.add_order(items=[{"avitoId": KET_LISTING, "price": 1990}])

    renewed = poll_marketplace(world.uow(), client, "av")
    avito.secret = "rotated"
    avito.expire()
    refused = poll_marketplace(world.uow(), client, "av")

    assert renewed.error is None
    assert len(renewed.imported) == 1
    assert refused.refused
    assert get_connection(world.uow(), "av").health is Health.REFUSED


def test_stock_goes_per_listing_never_above_what_the_channel_may_promise(
    world: Potok, avito: AvitoSimulator
) -> None:
    pushed = push_stock(world.uow(), clients(), "av")

    assert pushed.error is None
    # 'mp' keeps 2 units back: KET 5 at MSK -> 3, SHOE 5 -> 3
    assert avito.stocks == {KET_LISTING: 3, SHOE_LISTING: 3}
    [call] = avito.calls("/stock-management/1/stocks")
    assert call.method == "PUT"
