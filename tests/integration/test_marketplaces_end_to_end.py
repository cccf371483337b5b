"""Issue 16's story whole, on SQLite and PostgreSQL, against simulated Wildberries and Ozon
(real HTTP servers checking every request against the marketplaces' published documents):
orders appear on both marketplaces and arrive in Potok by themselves (the worker's timed
jobs poll them, the simulators failing, limiting and repeating on purpose), once each; they
are reserved, picked, packed with Честный ЗНАК codes and handed over; the codes, the supply
and the collected postings go back; a cancellation by the customer releases stock; the
dispatcher pushes the stock back to both marketplaces after each change, never more than
the channel may promise; nothing is oversold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from potok.bootstrap import Potok
from potok.domain.marketplaces import ConnectionDraft, Credentials, ItemMapping, Marketplace
from potok.domain.orders import OrderStatus
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.fulfilment import handover, reads
from potok.services.marketplaces import connect_marketplace, list_items, map_items
from potok.services.read_models import OrderFilter
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.jobs import run_due_jobs
from tests.factories import TESTER
from tests.integration.test_marketplace_fulfilment import fulfil, marking, shoes_world
from tests.simulators.ozon import OzonSimulator
from tests.simulators.wildberries import WildberriesSimulator

WB_WAREHOUSE = 658434
OZON_WAREHOUSE = 22_254_230_484_000
SHOE_CHRT, KET_CHRT = 501, 502
SHOE_SKU, KET_SKU = 2_200_000_001, 1_146_425_151  # Ozon's SKUs (what postings name)
SHOE_PRODUCT, KET_PRODUCT = 700_001, 700_002  # Ozon's product_ids (what stock names)


def connect_both(potok: Potok, wb: WildberriesSimulator, ozon: OzonSimulator) -> None:
    for code, marketplace, url, credentials, warehouse in (
        ("wb", Marketplace.WILDBERRIES, wb.url, Credentials(wb.token), WB_WAREHOUSE),
        (
            "oz",
            Marketplace.OZON,
            ozon.url,
            Credentials(ozon.api_key, ozon.client_id),
            OZON_WAREHOUSE,
        ),
    ):
        connect_marketplace(
            potok.uow(),
            ConnectionDraft(
                code=code,
                marketplace=marketplace,
                channel="mp",
                credentials=credentials,
                base_url=url,
                warehouses={str(warehouse): "MSK"},
                poll_every_s=10,
            ),
            TESTER,
        )
    # WB's sizes are mapped by the integrator; Ozon's map fills itself from its catalogue
    map_items(
        potok.uow(),
        "wb",
        [ItemMapping("SHOE", str(SHOE_CHRT)), ItemMapping("KET", str(KET_CHRT))],
        TESTER,
    )
    ozon.list_product("SHOE", SHOE_SKU, SHOE_PRODUCT)
    ozon.list_product("KET", KET_SKU, KET_PRODUCT, barcodes=("4601234567893",))


def mp_orders(potok: Potok) -> dict[str, int]:
    page = order_service.list_orders(potok.uow(), OrderFilter(channels=["mp"]), limit=100)
    return {o.external_id or "": o.id for o in page.items}


def stock_of(potok: Potok, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of a SKU at MSK."""
    [msk] = [w for w in inventory.availability(potok.uow(), sku).warehouses if w.warehouse == "MSK"]
    return msk.on_hand, msk.reserved


def test_orders_from_both_marketplaces_go_round_once_and_stock_flows_back_never_oversold(
    potok: Potok, wildberries: WildberriesSimulator, ozon: OzonSimulator
) -> None:
    shoes_world(potok)  # MSK: 5 KET, 5 SHOE (SHOE needs a marking code per unit)
    connect_both(potok, wildberries, ozon)
    t0 = datetime.now(UTC)
    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="e2e")

        # -- orders appear on both marketplaces; the simulators fail, limit and repeat
        wb_shoe = wildberries.add_order(
            article="SHOE", barcodes=[], price=599_000, chrt_id=SHOE_CHRT, required_meta=["sgtin"]
        )
        wb_ket = wildberries.add_order(
            article="KET", barcodes=["4601234567893"], price=249_000, chrt_id=KET_CHRT
        )
        wb_regret = wildberries.add_order(
            article="KET", barcodes=["4601234567893"], price=249_000, chrt_id=KET_CHRT
        )
        oz_shoes = ozon.add_posting(
            products=[{"offer_id": "SHOE", "sku": SHOE_SKU, "quantity": 2, "price": "5990.00"}],
            mandatory_mark=True,
        )
        oz_ket = ozon.add_posting(
            products=[{"offer_id": "KET", "sku": KET_SKU, "quantity": 1, "price": "2490.00"}]
        )
        wildberries.repeat_in_answer = True
        wildberries.fail(1, 500)
        wildberries.limit(1, retry_s=0.2)
        ozon.fail(1, 503)
        ozon.limit(1)

        first = run_due_jobs(potok, clock=lambda: t0)
        again = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=11))

        assert {p.connection: (len(p.imported), p.error) for p in first.marketplaces} == {
            "wb": (3, None),
            "oz": (2, None),
        }
        assert sum(len(p.imported) for p in again.marketplaces) == 0
        # sent again (WB: each new task twice in its answer, until confirmed), taken once
        assert {p.connection: p.repeated for p in again.marketplaces} == {"wb": 6, "oz": 2}
        orders = mp_orders(potok)
        assert sorted(orders) == sorted(
            [str(wb_shoe), str(wb_ket), str(wb_regret), oz_shoes, oz_ket]
        )
        statuses = {order_service.get_order(potok.uow(), i).order.status for i in orders.values()}
        assert statuses == {OrderStatus.RESERVED}
        assert stock_of(potok, "SHOE") == (5, 3)
        assert stock_of(potok, "KET") == (5, 3)
        assert [(i.sku, i.item, i.product) for i in list_items(potok.uow(), "oz")] == [
            ("KET", str(KET_SKU), str(KET_PRODUCT)),
            ("SHOE", str(SHOE_SKU), str(SHOE_PRODUCT)),
        ]

        # -- stock goes back to both: what MSK can promise the channel, less its buffer of 2
        dispatcher.clock = lambda: t0 + timedelta(seconds=12)
        dispatcher.run_round()
        assert wildberries.stocks == {WB_WAREHOUSE: {SHOE_CHRT: 0, KET_CHRT: 0}}
        assert ozon.stocks == {(OZON_WAREHOUSE, SHOE_PRODUCT): 0, (OZON_WAREHOUSE, KET_PRODUCT): 0}

        # -- the customer declines one WB task: the order is cancelled, its kettle released
        wildberries.set_status(wb_regret, "new", "declined_by_client")
        declined = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=22))
        assert {p.connection: p.cancelled for p in declined.marketplaces} == {
            "wb": [orders[str(wb_regret)]],
            "oz": [],
        }
        assert stock_of(potok, "KET") == (5, 2)
        ozon.pair_interval_s = 0  # Ozon's 30 seconds between two figures of one item passed
        dispatcher.clock = lambda: t0 + timedelta(seconds=45)
        dispatcher.run_round()
        assert wildberries.stocks[WB_WAREHOUSE][KET_CHRT] == 1  # 5 - 2 reserved - 2 buffer
        assert ozon.stocks[(OZON_WAREHOUSE, KET_PRODUCT)] == 1

        # -- picked and packed, every shoe with its code; the marketplaces hear it
        fulfil(potok, orders[str(wb_shoe)], marking("wb-shoe-1"), hand_over=False)
        fulfil(potok, orders[str(wb_ket)], hand_over=False)
        fulfil(potok, orders[oz_shoes], marking("oz-shoe-1"), marking("oz-shoe-2"), hand_over=False)
        fulfil(potok, orders[oz_ket], hand_over=False)
        packed = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=33))

        assert {p.connection: sorted(p.packed) for p in packed.marketplaces} == {
            "wb": sorted([str(wb_shoe), str(wb_ket)]),
            "oz": sorted([oz_shoes, oz_ket]),
        }
        assert wildberries.meta[wb_shoe]["sgtin"] == [marking("wb-shoe-1")]
        [(supply_id, supply)] = wildberries.supplies.items()
        assert sorted(supply["orders"]) == sorted([wb_shoe, wb_ket])
        [units] = ozon.exemplars[oz_shoes]
        assert [m["mark"] for u in units["exemplars"] for m in u["marks"]] == [
            marking("oz-shoe-1"),
            marking("oz-shoe-2"),
        ]
        assert {ozon.postings[n]["status"] for n in (oz_shoes, oz_ket)} == {"awaiting_deliver"}

        # -- handed over: WB's supply goes to delivery; stock leaves MSK
        for order_id in (
            orders[str(wb_shoe)],
            orders[str(wb_ket)],
            orders[oz_shoes],
            orders[oz_ket],
        ):
            (shipment,) = reads.order_shipments(potok.uow(), order_id)
            handover.hand_over(potok.uow(), shipment.id or 0, TESTER, carrier="marketplace")
        left = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=44))
        assert {p.connection: sorted(p.handed_over) for p in left.marketplaces} == {
            "wb": sorted([str(wb_shoe), str(wb_ket)]),
            "oz": sorted([oz_shoes, oz_ket]),
        }
        assert wildberries.supplies[supply_id]["done"] is True
        assert stock_of(potok, "SHOE") == (2, 0)
        assert stock_of(potok, "KET") == (3, 0)

        # -- the marketplaces deliver; their statuses come back and close the links
        for task in (wb_shoe, wb_ket):
            wildberries.set_status(task, "complete", "sold")
        for number in (oz_shoes, oz_ket):
            ozon.set_status(number, "delivered")
        delivered = run_due_jobs(potok, clock=lambda: t0 + timedelta(seconds=55))
        assert {p.connection: p.followed for p in delivered.marketplaces} == {"wb": 2, "oz": 2}

        # -- the last figures reach both; nothing was ever promised beyond what MSK had
        dispatcher.clock = lambda: t0 + timedelta(seconds=90)
        dispatcher.run_round()
        assert wildberries.stocks == {WB_WAREHOUSE: {SHOE_CHRT: 0, KET_CHRT: 1}}
        assert ozon.stocks == {(OZON_WAREHOUSE, SHOE_PRODUCT): 0, (OZON_WAREHOUSE, KET_PRODUCT): 1}
    pushed = [
        s["amount"]
        for c in wildberries.received
        if c.path.startswith("/api/v3/stocks/")
        for s in c.body["stocks"]
    ] + [s["stock"] for c in ozon.calls("/v2/products/stocks") for s in c.body["stocks"]]
    assert max(pushed) <= 1
    assert inventory.reconcile(potok.uow()).drifts == []
    assert len(mp_orders(potok)) == 5  # each marketplace order once
    # every request went through the documents: the fixtures fail the test otherwise
