"""Issue 22's story whole, on SQLite and PostgreSQL, against simulated Yandex Market and
Avito (real HTTP servers checking every request against the marketplaces' published
documents; the fixtures fail the test on any request the documents refuse): one Market order
arrives by Market's notification, another by the poll, an Avito order by the poll, the
simulators failing and limiting on purpose; each becomes one Potok order, reserved; the
stock goes back to both, never more than the channel may promise; the orders are picked,
packed with Честный ЗНАК codes and handed over; Market hears each order's boxes with its
codes and READY_TO_SHIP and its labels are fetched, Avito hears its codes, is asked for its
label and confirmed its order; Market's delivery comes back as a status, and a return of one
Market order becomes one Potok return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from potok.bootstrap import Potok
from potok.connectors.marketplaces.yandex_market_push import read_notification
from potok.domain.marketplaces import ConnectionDraft, Credentials, ItemMapping, Marketplace
from potok.domain.orders import OrderStatus
from potok.domain.returns import ReturnStatus
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.fulfilment import handover, reads
from potok.services.marketplaces import connect_marketplace, map_items
from potok.services.marketplaces.notifications import take_market_notification
from potok.services.marketplaces.stickers import sticker_of_shipment
from potok.services.read_models import OrderFilter
from potok.services.returns import requests as returns_service
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.jobs import run_due_jobs
from tests.factories import TESTER
from tests.integration.test_marketplace_fulfilment import clients, fulfil, marking, shoes_world
from tests.simulators.avito import AvitoSimulator
from tests.simulators.yandex_market import LABEL, YandexMarketSimulator

CAMPAIGN = 21_000_001
SHOE_LISTING, KET_LISTING = 4_100_000_002, 4_100_000_001


def connect_both(potok: Potok, market: YandexMarketSimulator, avito: AvitoSimulator) -> None:
    for code, marketplace, url, credentials, warehouse in (
        (
            "ym",
            Marketplace.YANDEX_MARKET,
            market.url,
            Credentials(market.api_key, market.business_id),
            str(CAMPAIGN),
        ),
        ("av", Marketplace.AVITO, avito.url, Credentials(avito.secret, avito.client_id), "avito"),
    ):
        connect_marketplace(
            potok.uow(),
            ConnectionDraft(
                code=code,
                marketplace=marketplace,
                channel="mp",
                credentials=credentials,
                base_url=url,
                warehouses={warehouse: "MSK"},
                poll_every_s=10,
            ),
            TESTER,
        )
    # Market's offers are named by the seller's offerId (the SKU here); Avito's by listing
    map_items(potok.uow(), "ym", [ItemMapping("SHOE", "SHOE"), ItemMapping("KET", "KET")], TESTER)
    map_items(
        potok.uow(),
        "av",
        [ItemMapping("SHOE", str(SHOE_LISTING)), ItemMapping("KET", str(KET_LISTING))],
        TESTER,
    )


def mp_orders(potok: Potok) -> dict[str, int]:
    page = order_service.list_orders(potok.uow(), OrderFilter(channels=["mp"]), limit=100)
    return {o.external_id or "": o.id for o in page.items}


def stock_of(potok: Potok, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of a SKU at MSK."""
    [msk] = [w for w in inventory.availability(potok.uow(), sku).warehouses if w.warehouse == "MSK"]
    return msk.on_hand, msk.reserved


def test_market_and_avito_orders_go_round_once_and_stock_flows_back_never_oversold(
    potok: Potok, yandex_market: YandexMarketSimulator, avito: AvitoSimulator
) -> None:
    shoes_world(potok)  # MSK: 5 KET, 5 SHOE (SHOE needs a marking code per unit)
    connect_both(potok, yandex_market, avito)
    t0 = datetime.now(UTC)
    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="e2e-22")

        # -- one Market order told by Market's notification, before any poll
        told = yandex_market.add_order(items=[{"offerId": "KET", "count": 1, "price": 2490}])
        notified = take_market_notification(
            potok.uow(),
            clients(),
            "ym",
            read_notification(yandex_market.notification("ORDER_CREATED", told)),
        )
        assert (len(notified.imported), notified.error) == (1, None)

        # -- another Market order and an Avito one wait for the poll; the simulators fail
        polled = yandex_market.add_order(
            items=[{"offerId": "SHOE", "count": 2, "price": 5990}], marked=True
        )
        bought = avito.add_order(items=[{"avitoId": SHOE_LISTING, "price": 5990}])
        yandex_market.fail(1, 500)
        yandex_market.limit(1, retry_s=0.2)
        avito.fail(1, 503)
        avito.limit(1)

        first = run_due_jobs(potok, clock=lambda: t0)
        again = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=11))

        assert {p.connection: (len(p.imported), p.error) for p in first.marketplaces} == {
            "ym": (1, None),
            "av": (1, None),
        }
        assert sum(len(p.imported) for p in again.marketplaces) == 0
        orders = mp_orders(potok)
        assert sorted(orders) == sorted([str(told), str(polled), bought])
        statuses = {order_service.get_order(potok.uow(), i).order.status for i in orders.values()}
        assert statuses == {OrderStatus.RESERVED}
        assert stock_of(potok, "SHOE") == (5, 3)
        assert stock_of(potok, "KET") == (5, 1)
        assert avito.transitions == [(bought, "confirm")]  # the seller took it, once
        assert avito.orders[bought]["status"] == "ready_to_ship"

        # -- stock goes back to both: what MSK can promise the channel, less its buffer of 2
        dispatcher.clock = lambda: t0 + timedelta(seconds=12)
        dispatcher.run_round()
        assert yandex_market.stocks == {(CAMPAIGN, "KET"): 2, (CAMPAIGN, "SHOE"): 0}
        assert avito.stocks == {KET_LISTING: 2, SHOE_LISTING: 0}

        # -- picked and packed, every shoe with its code; the marketplaces hear it
        fulfil(potok, orders[str(told)], hand_over=False)
        fulfil(
            potok, orders[str(polled)], marking("ym-shoe-1"), marking("ym-shoe-2"), hand_over=False
        )
        fulfil(potok, orders[bought], marking("av-shoe-1"), hand_over=False)
        packed = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=33))

        assert {p.connection: sorted(p.packed) for p in packed.marketplaces} == {
            "ym": sorted([str(told), str(polled)]),
            "av": [bought],
        }
        [boxes] = yandex_market.calls(f"/v2/campaigns/{CAMPAIGN}/orders/{polled}/boxes")
        [item] = boxes.body["boxes"][0]["items"]
        assert item["instances"] == [{"cis": marking("ym-shoe-1")}, {"cis": marking("ym-shoe-2")}]
        assert {yandex_market.orders[n]["substatus"] for n in (told, polled)} == {"READY_TO_SHIP"}
        assert avito.markings == {(bought, str(SHOE_LISTING)): [marking("av-shoe-1")]}
        for order_id in orders.values():
            (shipment,) = reads.order_shipments(potok.uow(), order_id)
            label = sticker_of_shipment(potok.uow(), shipment.id or 0)
            assert label.media_type == "application/pdf"
        (shipment,) = reads.order_shipments(potok.uow(), orders[str(polled)])
        assert sticker_of_shipment(potok.uow(), shipment.id or 0).file == LABEL
        assert len(avito.calls("/order-management/1/orders/labels")) == 1

        # -- handed over: stock leaves MSK
        for order_id in orders.values():
            (shipment,) = reads.order_shipments(potok.uow(), order_id)
            handover.hand_over(potok.uow(), shipment.id or 0, TESTER, carrier="marketplace")
        left = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=44))
        assert {p.connection: sorted(p.handed_over) for p in left.marketplaces} == {
            "ym": sorted([str(told), str(polled)]),
            "av": [bought],
        }
        assert stock_of(potok, "SHOE") == (2, 0)
        assert stock_of(potok, "KET") == (4, 0)

        # -- Market delivers; its status comes back; a return of the kettle is one return
        for number in (told, polled):
            yandex_market.set_status(number, "DELIVERED", "DELIVERY_SERVICE_DELIVERED")
        back = yandex_market.add_return(told, shipment_status="IN_TRANSIT")
        delivered = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=55))
        returned = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=66))
        [ym_poll] = [p for p in delivered.marketplaces if p.connection == "ym"]
        assert ym_poll.followed == 2
        assert len(ym_poll.returns_opened) == 1
        assert [p.returns_opened for p in returned.marketplaces] == [[], []]
        [ret] = returns_service.returns_of_order(potok.uow(), orders[str(told)])
        assert ret.status is ReturnStatus.APPROVED  # Market has the parcel on its way back
        assert ret.comment.startswith(f"Yandex Market return {back} ")

        # -- the last figures reach both; nothing was ever promised beyond what MSK had
        dispatcher.clock = lambda: t0 + timedelta(seconds=90)
        dispatcher.run_round()
        assert yandex_market.stocks == {(CAMPAIGN, "KET"): 2, (CAMPAIGN, "SHOE"): 0}
        assert avito.stocks == {KET_LISTING: 2, SHOE_LISTING: 0}
    pushed = [
        i["count"]
        for c in yandex_market.received
        if c.path.endswith("/offers/stocks")
        for s in c.body["skus"]
        for i in s["items"]
    ] + [s["quantity"] for c in avito.calls("/stock-management/1/stocks") for s in c.body["stocks"]]
    assert max(pushed) <= 2
    assert inventory.reconcile(potok.uow()).drifts == []
    assert len(mp_orders(potok)) == 3  # each marketplace order once
