"""Yandex Market orders through fulfilment and back: packed with marking codes in Potok,
Market told the box layout (``setOrderBoxLayout``, the codes as ``instances[].cis``) and
then ``READY_TO_SHIP``, the order's labels fetched and kept; a customer's request to cancel
accepted or refused by where the Potok order stands; stock pushed per campaign. The
simulator checks every request against Market's document; SQLite and PostgreSQL."""

from __future__ import annotations

from potok.bootstrap import Potok
from potok.domain.marketplaces import ConnectionDraft, Credentials, ItemMapping, Marketplace
from potok.domain.orders import OrderState
from potok.services import orders as order_service
from potok.services.fulfilment import reads
from potok.services.marketplaces import (
    connect_marketplace,
    map_items,
    poll_marketplace,
    push_stock,
)
from potok.services.marketplaces.stickers import sticker_of_shipment
from tests.factories import TESTER, build_world
from tests.integration.test_marketplace_fulfilment import clients, fulfil, marking, shoes_world
from tests.simulators.yandex_market import LABEL, YandexMarketSimulator

CAMPAIGN, OTHER = 21_000_001, 21_000_002


def connect(potok: Potok, market: YandexMarketSimulator, *campaigns: int) -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="ym",
            marketplace=Marketplace.YANDEX_MARKET,
            channel="mp",
            credentials=Credentials(market.api_key, market.business_id),
            base_url=market.url,
            warehouses={str(c): "MSK" for c in campaigns or (CAMPAIGN,)},
        ),
        TESTER,
    )


def market_shoes(potok: Potok, market: YandexMarketSimulator) -> tuple[int, int]:
    shoes_world(potok)
    connect(potok, market)
    number = market.add_order(items=[{"offerId": "SHOE", "count": 2, "price": 5990}], marked=True)
    [order_id] = poll_marketplace(potok.uow(), clients(), "ym").imported
    return number, order_id


def test_market_hears_the_boxes_with_each_units_code_then_ready_to_ship_and_the_label_is_kept(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number, order_id = market_shoes(potok, yandex_market)
    fulfil(potok, order_id, marking("ym-unit-1"), marking("ym-unit-2"), hand_over=False)

    outcome = poll_marketplace(potok.uow(), clients(), "ym")

    assert outcome.error is None, outcome.error
    assert outcome.packed == [str(number)]
    [boxes] = yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/orders/{number}/boxes")
    [item] = yandex_market.orders[number]["items"]
    assert boxes.body["boxes"] == [
        {
            "items": [
                {
                    "id": item["id"],
                    "fullCount": 2,
                    "instances": [{"cis": marking("ym-unit-1")}, {"cis": marking("ym-unit-2")}],
                }
            ]
        }
    ]
    [ready] = yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/orders/status-update")
    assert ready.body == {
        "orders": [{"id": number, "status": "PROCESSING", "substatus": "READY_TO_SHIP"}]
    }
    assert (yandex_market.orders[number]["substatus"]) == "READY_TO_SHIP"
    assert outcome.stickers == [str(number)]
    (shipment,) = reads.order_shipments(potok.uow(), order_id)
    label = sticker_of_shipment(potok.uow(), shipment.id or 0)
    assert (label.media_type, label.file) == ("application/pdf", LABEL)
    again = poll_marketplace(potok.uow(), clients(), "ym")
    assert (again.packed, again.stickers) == ([], [])  # each step told once
    assert len(yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/orders/{number}/boxes")) == 1


def test_cancelling_in_potok_cancels_on_market_as_the_shop_failing(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    from potok.domain.orders.commands import CancelOrder

    number, order_id = market_shoes(potok, yandex_market)
    order_service.cancel_order(potok.uow(), CancelOrder(order_id=order_id, reason="no"), TESTER)

    outcome = poll_marketplace(potok.uow(), clients(), "ym")

    assert outcome.cancelled_there == [str(number)]
    [call] = yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/orders/{number}/status")
    assert call.body == {"order": {"status": "CANCELLED", "substatus": "SHOP_FAILED"}}
    assert yandex_market.orders[number]["status"] == "CANCELLED"


def test_a_request_to_cancel_is_accepted_while_the_order_is_in_the_warehouse(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number, order_id = market_shoes(potok, yandex_market)
    yandex_market.request_cancellation(number)

    poll_marketplace(potok.uow(), clients(), "ym")

    assert yandex_market.cancellation_answers == {number: {"accepted": True}}
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.state is OrderState.CANCELLED
    assert order.open_reservations == []
    assert yandex_market.orders[number]["status"] == "CANCELLED"
    assert yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/orders/{number}/status") == []


def test_a_request_to_cancel_after_the_parcel_left_is_refused(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    number, order_id = market_shoes(potok, yandex_market)
    fulfil(potok, order_id, marking("ym-unit-1"), marking("ym-unit-2"), hand_over=True)
    poll_marketplace(potok.uow(), clients(), "ym")
    yandex_market.request_cancellation(number)

    poll_marketplace(potok.uow(), clients(), "ym")

    assert yandex_market.cancellation_answers == {
        number: {"accepted": False, "reason": "ORDER_IN_DELIVERY"}
    }
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.state is not OrderState.CANCELLED


def test_stock_goes_per_campaign_by_offer_id_never_above_what_the_channel_may_promise(
    potok: Potok, yandex_market: YandexMarketSimulator
) -> None:
    # 'mp' keeps 2 units back: KET 20 at MSK -> 18 for the channel, MUG 10 -> 8
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10})
    connect(potok, yandex_market, CAMPAIGN, OTHER)
    map_items(
        potok.uow(),
        "ym",
        [ItemMapping("KET", "KET-offer"), ItemMapping("MUG", "MUG-offer")],
        TESTER,
    )

    pushed = push_stock(potok.uow(), clients(), "ym")

    assert pushed.error is None
    # both campaigns ship from MSK: together they are never told more than the channel has
    assert yandex_market.stocks == {
        (CAMPAIGN, "KET-offer"): 18,
        (CAMPAIGN, "MUG-offer"): 8,
        (OTHER, "KET-offer"): 0,
        (OTHER, "MUG-offer"): 0,
    }
    [first, _] = [c for c in yandex_market.received if c.path.endswith("/offers/stocks")]
    assert first.method == "PUT"
    assert [s["sku"] for s in first.body["skus"]] == ["KET-offer", "MUG-offer"]
