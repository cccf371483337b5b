"""RetailCRM through the marketplace connector framework, against a simulated account (a
real HTTP server speaking RetailCRM API v5: history cursor, form-encoded ``order=`` JSON
bodies, its error envelope and its 503 over the limit), on SQLite and PostgreSQL: orders
made in the CRM come in once by the history cursor, a cancellation there cancels here,
packing / hand-over / a cancellation here set the CRM status, stock goes to its stores."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.domain.marketplaces import ConnectionDraft, Credentials, Health, Marketplace
from potok.domain.marketplaces.items import ItemMapping
from potok.domain.orders import Order, OrderState
from potok.domain.orders.commands import CancelOrder
from potok.services import orders as order_service
from potok.services.fulfilment import handover, reads
from potok.services.marketplaces import (
    connect_marketplace,
    get_connection,
    map_items,
    poll_marketplace,
    push_stock,
    read_journal,
)
from potok.services.read_models import OrderFilter
from potok.settings import MarketplaceSettings
from tests.factories import TESTER, build_world
from tests.integration.test_marketplace_fulfilment import fulfil
from tests.simulators.retailcrm import RetailCrmSimulator

KETTLE_BARCODE = "4601234567893"
KET_OFFER, MUG_OFFER, STRANGER = 1_867_352, 1_867_353, 1_999_999


def clients() -> MarketplaceClients:
    waits: list[float] = []
    return MarketplaceClients(MarketplaceSettings(), sleep=waits.append)


def kettle(quantity: int = 1, **extra: object) -> dict[str, object]:
    offer = {"id": KET_OFFER, "externalId": "KET", "xmlId": "1680c0a6", "name": "Чайник"}
    return {"offer": offer, "quantity": quantity, "initialPrice": 2490.5, **extra}


@pytest.fixture
def world(potok: Potok, retailcrm: RetailCrmSimulator) -> Potok:
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="crm",
            marketplace=Marketplace.RETAILCRM,
            channel="mp",
            credentials=Credentials(retailcrm.api_key, "shop"),
            base_url=retailcrm.url,
            warehouses={"main": "MSK"},
        ),
        TESTER,
    )
    return potok


def history_since(retailcrm: RetailCrmSimulator) -> list[str | None]:
    """The ``filter[sinceId]`` of every history request, in order."""
    return [
        parse_qs(r.query).get("filter[sinceId]", [None])[-1]
        for r in retailcrm.calls("/api/v5/orders/history")
    ]


def test_orders_made_in_the_crm_come_in_once_by_the_history_cursor(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    first = retailcrm.add_order([kettle(2, discountTotal=90.5)], store="main", comment="звонить")
    by_barcode = retailcrm.add_order(
        [
            {
                "offer": {"id": MUG_OFFER, "barcode": KETTLE_BARCODE},
                "quantity": 1,
                "initialPrice": 100,
            }
        ]
    )
    elsewhere = retailcrm.add_order([kettle()], site="other-shop")

    outcome = poll_marketplace(world.uow(), clients(), "crm")

    assert outcome.error is None
    assert len(outcome.imported) == 2
    last_record = retailcrm.history[-1]["id"]
    assert get_connection(world.uow(), "crm").cursor == str(last_record)
    listed = {
        o.external_id: o
        for o in order_service.list_orders(
            world.uow(), OrderFilter(channels=["mp"]), limit=10
        ).items
    }
    assert sorted(listed) == sorted([str(first), str(by_barcode)])  # not the other shop's
    order = order_service.get_order(world.uow(), listed[str(first)].id).order
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("KET", 2, Decimal("2400.00"))
    ]
    assert f"№{first}A" in order.comment
    assert "звонить" in order.comment
    address = order.delivery.address
    assert address is not None
    assert address.city == "Ростов-на-Дону"
    barcoded = order_service.get_order(world.uow(), listed[str(by_barcode)].id).order
    assert [line.sku for line in barcoded.lines] == ["KET"]  # its barcode is the kettle's

    again = poll_marketplace(world.uow(), clients(), "crm")
    later = retailcrm.add_order([kettle()], store="main")
    third = poll_marketplace(world.uow(), clients(), "crm")

    assert (again.imported, again.repeated) == ([], 0)
    assert [o.external_id for o in _orders(world, third.imported)] == [str(later)]
    assert history_since(retailcrm) == [None, str(last_record), str(last_record)]
    assert elsewhere not in {int(i) for i in listed}


def _orders(potok: Potok, ids: list[int]) -> list[Order]:
    return [order_service.get_order(potok.uow(), i).order for i in ids]


def test_an_order_kept_aside_is_read_again_though_the_cursor_moved_past_it(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    stranger = retailcrm.add_order(
        [{"offer": {"id": STRANGER, "externalId": "NOPE"}, "quantity": 1, "initialPrice": 10}]
    )

    first = poll_marketplace(world.uow(), clients(), "crm")
    second = poll_marketplace(world.uow(), clients(), "crm")

    assert first.kept_aside == [str(stranger)]
    assert second.kept_aside == [str(stranger)]  # offered again from the journal
    [entry] = read_journal(world.uow(), "crm")
    assert entry.kind.value == "unknown-sku"
    assert "1999999" in entry.detail

    map_items(world.uow(), "crm", [ItemMapping("MUG", str(STRANGER))], TESTER)
    third = poll_marketplace(world.uow(), clients(), "crm")

    [order] = _orders(world, third.imported)
    assert order.external_id == str(stranger)
    assert [line.sku for line in order.lines] == ["MUG"]
    assert read_journal(world.uow(), "crm") == []


def test_a_cancellation_in_the_crm_cancels_the_potok_order_and_cancelled_ones_stay_out(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    gone = retailcrm.add_order([kettle()], store="main")
    retailcrm.set_status(gone, "no-call")
    kept = retailcrm.add_order([kettle()], store="main")
    [order_id] = poll_marketplace(world.uow(), clients(), "crm").imported

    retailcrm.set_status(kept, "no-product")
    outcome = poll_marketplace(world.uow(), clients(), "crm")

    assert outcome.cancelled == [order_id]
    assert order_service.get_order(world.uow(), order_id).order.state is OrderState.CANCELLED


def test_packing_and_hand_over_in_potok_set_the_crm_status_by_its_id(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    crm_id = retailcrm.add_order([kettle()], store="main")
    [order_id] = poll_marketplace(world.uow(), clients(), "crm").imported

    fulfil(world, order_id, hand_over=False)
    packed = poll_marketplace(world.uow(), clients(), "crm")

    assert packed.packed == [str(crm_id)]
    assert retailcrm.status_of(crm_id) == "assembling-complete"
    [edit] = retailcrm.calls(f"/api/v5/orders/{crm_id}/edit")
    assert parse_qs(edit.query) == {"by": ["id"], "site": ["shop"]}
    assert json.loads(edit.body["order"]) == {"status": "assembling-complete"}

    (shipment,) = reads.order_shipments(world.uow(), order_id)
    handover.hand_over(world.uow(), shipment.id or 0, TESTER, carrier="СДЭК")
    left = poll_marketplace(world.uow(), clients(), "crm")
    again = poll_marketplace(world.uow(), clients(), "crm")

    assert left.handed_over == [str(crm_id)]
    assert retailcrm.status_of(crm_id) == "send-to-delivery"
    assert (again.packed, again.handed_over) == ([], [])  # each step told once
    assert len(retailcrm.calls(f"/api/v5/orders/{crm_id}/edit")) == 2


def test_cancelling_in_potok_sets_the_crm_cancel_status(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    crm_id = retailcrm.add_order([kettle()], store="main")
    [order_id] = poll_marketplace(world.uow(), clients(), "crm").imported

    order_service.cancel_order(world.uow(), CancelOrder(order_id, "out of stock"), TESTER)
    outcome = poll_marketplace(world.uow(), clients(), "crm")

    assert outcome.cancelled_there == [str(crm_id)]
    assert retailcrm.status_of(crm_id) == "cancel-other"


def test_a_status_the_account_does_not_have_is_refused_with_its_reason_in_the_journal(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    crm_id = retailcrm.add_order([kettle()], store="main")
    [order_id] = poll_marketplace(world.uow(), clients(), "crm").imported
    fulfil(world, order_id, hand_over=False)

    settings = MarketplaceSettings(retailcrm_packed_status="packed-by-potok")
    outcome = poll_marketplace(world.uow(), MarketplaceClients(settings), "crm")

    assert outcome.push_failed == [str(crm_id)]
    [entry] = read_journal(world.uow(), "crm")
    assert "Status with code 'packed-by-potok' does not exist" in entry.detail
    assert retailcrm.status_of(crm_id) == "new"


def test_stock_goes_to_the_crm_store_by_offer_id_and_unknown_offers_are_reported(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    map_items(
        world.uow(),
        "crm",
        [ItemMapping("KET", str(KET_OFFER)), ItemMapping("MUG", str(STRANGER))],
        TESTER,
    )
    retailcrm.offers = {KET_OFFER}

    pushed = push_stock(world.uow(), clients(), "crm")

    assert pushed.error is None
    assert retailcrm.inventory == {(KET_OFFER, "main"): 18}  # 20 less the channel's buffer of 2
    assert list(pushed.refused) == ["main/MUG"]
    [upload] = retailcrm.calls("/api/v5/store/inventories/upload")
    assert upload.body["site"] == "shop"
    assert {o["id"] for o in json.loads(upload.body["offers"])} == {KET_OFFER, STRANGER}


def test_the_crm_over_its_limit_is_waited_out_and_a_wrong_key_marks_the_connection_refused(
    world: Potok, retailcrm: RetailCrmSimulator
) -> None:
    crm_id = retailcrm.add_order([kettle()], store="main")
    retailcrm.throttle(2)

    outcome = poll_marketplace(world.uow(), clients(), "crm")

    assert outcome.error is None
    assert [o.external_id for o in _orders(world, outcome.imported)] == [str(crm_id)]
    assert outcome.requests >= 3

    retailcrm.api_key = "another-key"
    refused = poll_marketplace(world.uow(), clients(), "crm")

    assert refused.refused is True
    assert refused.error is not None
    assert 'Wrong "apiKey" value.' in refused.error
    connection = get_connection(world.uow(), "crm")
    assert connection.health is Health.REFUSED
    assert connection.cursor == str(retailcrm.history[-1]["id"])  # kept from the last success
