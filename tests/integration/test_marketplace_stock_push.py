"""Stock pushed to simulated Wildberries and Ozon (real HTTP servers checking every request
against the marketplaces' published documents): the figures each marketplace warehouse
may sell, a full re-sync on demand, and changes pushed after commit by the dispatcher,
gathered into one call per interval - on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients, StockLevel
from potok.connectors.marketplaces.ozon import Ozon
from potok.connectors.marketplaces.wildberries import Wildberries
from potok.domain.alerts import AlertKind
from potok.domain.errors import InvalidInput
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.marketplaces import ConnectionDraft, Credentials, ItemMapping, Marketplace
from potok.services import intake, inventory
from potok.services.alerts import list_alerts
from potok.services.marketplaces import (
    connect_marketplace,
    list_items,
    map_items,
    push_stock,
    push_stock_changes,
    read_journal,
)
from potok.services.unit_of_work import atomically
from potok.settings import MarketplaceSettings
from potok.worker.dispatcher import Dispatcher, new_client
from tests.factories import TESTER, build_world, order_command
from tests.simulators.ozon import OzonSimulator
from tests.simulators.wildberries import WildberriesSimulator

WB_WAREHOUSE = 658434
OZON_WAREHOUSE = 22_254_230_484_000
KET_CHRT, MUG_CHRT = 111_001, 111_002
KET_PRODUCT, MUG_PRODUCT = 900_001, 900_002


def clients(**settings: object) -> MarketplaceClients:
    return MarketplaceClients(MarketplaceSettings(**settings))  # type: ignore[arg-type]


def connect_wb(potok: Potok, simulator: WildberriesSimulator, code: str = "wb-main") -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code=code,
            marketplace=Marketplace.WILDBERRIES,
            channel="mp",
            credentials=Credentials(simulator.token),
            base_url=simulator.url,
            warehouses={str(WB_WAREHOUSE): "MSK"},
        ),
        TESTER,
    )
    map_items(
        potok.uow(),
        code,
        [
            ItemMapping("KET", str(KET_CHRT), product="12345678", barcode="4601234567893"),
            ItemMapping("MUG", str(MUG_CHRT)),
        ],
        TESTER,
    )


def connect_ozon(potok: Potok, simulator: OzonSimulator) -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="ozon-main",
            marketplace=Marketplace.OZON,
            channel="mp",
            credentials=Credentials(simulator.api_key, simulator.client_id),
            base_url=simulator.url,
            warehouses={str(OZON_WAREHOUSE): "MSK"},
        ),
        TESTER,
    )
    map_items(
        potok.uow(),
        "ozon-main",
        [
            ItemMapping("KET", "1480000001", product=str(KET_PRODUCT), article="KET"),
            ItemMapping("MUG", "1480000002", product=str(MUG_PRODUCT), article="MUG"),
            ItemMapping("TOY", "1480000003", product="900003", article="TOY"),
        ],
        TESTER,
    )
    simulator.products = {KET_PRODUCT, MUG_PRODUCT}  # TOY is not in the Ozon catalogue


@pytest.fixture
def world(potok: Potok) -> Potok:
    # the marketplace channel 'mp' keeps a safety buffer of 2 units back
    build_world(potok, {("MSK", "KET"): 20, ("MSK", "MUG"): 10, ("SPB", "MUG"): 1})
    return potok


@pytest.fixture
def dispatcher(world: Potok) -> Iterator[Dispatcher]:
    with new_client() as client:
        yield Dispatcher(world, client, name="stock-tests")


def receive(potok: Potok, warehouse: str, sku: str, quantity: int) -> None:
    inventory.receive_stock(potok.uow(), ReceiveStock(warehouse, sku, quantity), TESTER)


def sequence(potok: Potok) -> None:
    """Place committed events in commit order, as the dispatcher's round begins."""
    atomically(potok.uow(), lambda uow: uow.event_log.sequence(10_000))


# ---------------------------------------------------------------------- what is pushed


def test_a_full_resync_pushes_what_each_wb_warehouse_may_sell_keyed_by_chrt_id(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    connect_wb(world, wildberries)

    pushed = push_stock(world.uow(), clients(), "wb-main")

    # KET: 20 at MSK, the channel may promise 20 - 2 = 18; MUG: 10 at MSK, 11 - 2 = 9 in all
    assert wildberries.stocks == {WB_WAREHOUSE: {KET_CHRT: 18, MUG_CHRT: 9}}
    assert (pushed.positions, pushed.accepted, pushed.requests) == (2, 2, 1)
    assert pushed.refused == {}
    assert pushed.error is None
    [call] = wildberries.calls(f"/api/v3/stocks/{WB_WAREHOUSE}")
    assert call.method == "PUT"
    assert all(set(item) == {"chrtId", "amount"} for item in call.body["stocks"])


def test_the_safety_reserve_and_reservations_lower_what_is_pushed_never_below_zero(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    connect_wb(world, wildberries)
    intake.place_order(world.uow(), order_command([("MUG", 8)], channel="web"), TESTER)

    push_stock(world.uow(), clients(), "wb-main", reserve=3)

    # KET: min(20 - 3, 18); MUG: 10 - 8 reserved at MSK = 2, less 3 -> 0
    assert wildberries.stocks == {WB_WAREHOUSE: {KET_CHRT: 17, MUG_CHRT: 0}}


def test_an_unmapped_sku_is_reported_not_pushed(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    connect_wb(world, wildberries)

    pushed = push_stock(world.uow(), clients(), "wb-main", skus=["KET", "TOY"])

    assert pushed.unmapped == ["TOY"]
    assert wildberries.stocks == {WB_WAREHOUSE: {KET_CHRT: 18}}


def test_wb_refusing_a_size_with_409_keeps_the_rest_of_the_request(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    connect_wb(world, wildberries)
    wildberries.unknown_chrt = {MUG_CHRT}

    pushed = push_stock(world.uow(), clients(), "wb-main")

    assert wildberries.stocks == {WB_WAREHOUSE: {KET_CHRT: 18}}
    assert list(pushed.refused) == [f"{WB_WAREHOUSE}/MUG"]
    assert "NotFound" in pushed.refused[f"{WB_WAREHOUSE}/MUG"]
    assert (pushed.accepted, pushed.requests) == (1, 2)


def test_ozon_takes_stock_by_product_id_and_its_per_item_errors_are_read_one_by_one(
    world: Potok, ozon: OzonSimulator
) -> None:
    connect_ozon(world, ozon)

    first = push_stock(world.uow(), clients(), "ozon-main")
    again = push_stock(world.uow(), clients(), "ozon-main")  # within Ozon's 30 seconds

    assert ozon.stocks == {(OZON_WAREHOUSE, KET_PRODUCT): 18, (OZON_WAREHOUSE, MUG_PRODUCT): 9}
    assert first.accepted == 2
    assert list(first.refused) == [f"{OZON_WAREHOUSE}/TOY"]
    assert "NOT_FOUND" in first.refused[f"{OZON_WAREHOUSE}/TOY"]
    assert again.accepted == 0
    assert sorted(again.later) == [f"{OZON_WAREHOUSE}/KET", f"{OZON_WAREHOUSE}/MUG"]
    assert all("TOO_MANY_REQUESTS" in r for r in again.later.values())
    assert list(again.refused) == [f"{OZON_WAREHOUSE}/TOY"]  # too soon is not refused
    [request, _] = [c.body for c in ozon.calls("/v2/products/stocks")]
    assert request["stocks"][0] == {
        "product_id": KET_PRODUCT,
        "stock": 18,
        "warehouse_id": OZON_WAREHOUSE,
    }


def test_a_429_is_waited_out_as_wb_asks_and_the_push_completes(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    connect_wb(world, wildberries)
    wildberries.limit(1, retry_s=0.2)

    pushed = push_stock(world.uow(), clients(), "wb-main")

    assert pushed.rate_limit_waits == 1
    assert wildberries.stocks == {WB_WAREHOUSE: {KET_CHRT: 18, MUG_CHRT: 9}}


# ---------------------------------------------------------------------- batches and limits


def test_batches_keep_each_marketplace_size_and_two_clients_share_one_accounts_limit(
    wildberries: WildberriesSimulator, ozon: OzonSimulator
) -> None:
    ozon.products = set(range(1, 251))
    ozon.pair_interval_s = 0
    shared = clients()  # one per process: its pool holds each account's buckets
    wb_levels = [StockLevel(f"S{n}", str(n), n % 7) for n in range(1, 2501)]
    ozon_levels = [StockLevel(f"S{n}", str(n), 1) for n in range(1, 251)]

    wb = [Wildberries.connect(wildberries.url, Credentials(wildberries.token), pool=shared.pool)]
    wb.append(
        Wildberries.connect(wildberries.url, Credentials(wildberries.token), pool=shared.pool)
    )
    for _ in range(4):  # 2 clients x 4 pushes x 3 requests: beyond WB's burst of 20
        for client in wb:
            client.push_stock(str(WB_WAREHOUSE), wb_levels)
    oz = Ozon.connect(ozon.url, Credentials(ozon.api_key, ozon.client_id))
    outcome = oz.push_stock(str(OZON_WAREHOUSE), ozon_levels)

    sizes = [len(c.body["stocks"]) for c in wildberries.calls(f"/api/v3/stocks/{WB_WAREHOUSE}")]
    assert sizes == [1000, 1000, 500] * 8
    assert wildberries.rejected == 0  # the shared bucket kept WB's limit
    assert [len(c.body["stocks"]) for c in ozon.calls("/v2/products/stocks")] == [100, 100, 50]
    assert (outcome.accepted, outcome.requests) == (250, 3)
    for client in wb:
        client.close()
    oz.close()


# ---------------------------------------------------------------------- after commit


def test_stock_events_are_pushed_after_commit_by_the_dispatcher_gathered_into_one_call(
    world: Potok, wildberries: WildberriesSimulator, dispatcher: Dispatcher
) -> None:
    connect_wb(world, wildberries)
    now = datetime.now(UTC)
    path = f"/api/v3/stocks/{WB_WAREHOUSE}"
    dispatcher.clock = lambda: now
    dispatcher.run_round()  # a new cursor: every mapped SKU is pushed once
    assert [c.body for c in wildberries.calls(path)] == [
        {"stocks": [{"chrtId": KET_CHRT, "amount": 18}, {"chrtId": MUG_CHRT, "amount": 9}]}
    ]

    receive(world, "MSK", "KET", 5)
    receive(world, "MSK", "KET", 1)
    intake.place_order(world.uow(), order_command([("KET", 2)], channel="web"), TESTER)
    dispatcher.run_round()  # within 30 seconds of the last push: it waits
    assert len(wildberries.calls(path)) == 1

    dispatcher.clock = lambda: now + timedelta(seconds=31)
    dispatcher.run_round()
    assert wildberries.calls(path)[-1].body == {"stocks": [{"chrtId": KET_CHRT, "amount": 22}]}

    receive(world, "MSK", "MUG", 4)
    dispatcher.clock = lambda: now + timedelta(seconds=62)
    dispatcher.run_round()
    assert wildberries.calls(path)[-1].body == {"stocks": [{"chrtId": MUG_CHRT, "amount": 13}]}
    assert len(wildberries.calls(path)) == 3
    dispatcher.clock = lambda: now + timedelta(seconds=200)
    dispatcher.run_round()  # nothing moved since
    assert len(wildberries.calls(path)) == 3


def test_mapping_items_pushes_the_connections_stock_again(
    world: Potok, wildberries: WildberriesSimulator, dispatcher: Dispatcher
) -> None:
    connect_wb(world, wildberries)
    now = datetime.now(UTC)
    dispatcher.clock = lambda: now
    dispatcher.run_round()

    map_items(world.uow(), "wb-main", [ItemMapping("KET", "555")], TESTER)
    dispatcher.clock = lambda: now + timedelta(seconds=31)
    dispatcher.run_round()

    assert wildberries.stocks[WB_WAREHOUSE][555] == 18


def test_an_outage_keeps_the_cursor_and_the_push_catches_up_once_wb_answers(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    connect_wb(world, wildberries)
    now = datetime.now(UTC)
    fast = clients(attempts=2)
    sequence(world)
    push_stock_changes(world.uow(), fast, "wb-main", "w1", clock=lambda: now)
    receive(world, "MSK", "KET", 5)
    sequence(world)
    wildberries.fail(2, 503)

    soon = now + timedelta(seconds=31)  # the first push (everything) was at ``now``
    failed = push_stock_changes(world.uow(), fast, "wb-main", "w1", clock=lambda: soon)
    early = push_stock_changes(world.uow(), fast, "wb-main", "w1", clock=lambda: soon)
    later = push_stock_changes(
        world.uow(), fast, "wb-main", "w1", clock=lambda: soon + timedelta(minutes=15)
    )

    assert failed is not None
    assert failed.error is not None
    assert "503" in failed.error
    assert early is None  # backing off
    assert later is not None
    assert later.error is None
    assert wildberries.stocks == {WB_WAREHOUSE: {KET_CHRT: 23, MUG_CHRT: 9}}


def test_the_mapping_refuses_unknown_skus_and_bad_ids_and_keeps_one_item_per_sku(
    world: Potok, wildberries: WildberriesSimulator
) -> None:
    connect_wb(world, wildberries)

    with pytest.raises(InvalidInput) as refused:
        map_items(
            world.uow(),
            "wb-main",
            [ItemMapping("GHOST", "5"), ItemMapping("KET", "not-a-number")],
            TESTER,
        )
    map_items(world.uow(), "wb-main", [ItemMapping("KET", "777")], TESTER)

    assert {e.code for e in refused.value.errors} == {"unknown-sku", "bad-item"}
    assert [(m.sku, m.item) for m in list_items(world.uow(), "wb-main")] == [
        ("KET", "777"),
        ("MUG", str(MUG_CHRT)),
    ]


def test_an_item_the_marketplace_refuses_is_journaled_and_alerted_once_with_what_to_fix(
    world: Potok, ozon: OzonSimulator
) -> None:
    connect_ozon(world, ozon)  # TOY's product_id 900003 is not in the seller's Ozon catalogue
    ozon.pair_interval_s = 0

    push_stock(world.uow(), clients(), "ozon-main")
    push_stock(world.uow(), clients(), "ozon-main")

    [entry] = read_journal(world.uow(), "ozon-main")
    assert (entry.external_id, entry.kind.value, entry.times_seen) == (
        f"stock {OZON_WAREHOUSE}/TOY",
        "stock-refused",
        2,
    )
    assert "NOT_FOUND" in entry.detail
    assert "potok marketplaces match-catalogue" in entry.detail  # what to fix
    alerts = [
        a for a in list_alerts(world.uow()).items if a.kind is AlertKind.MARKETPLACE_STOCK_REFUSED
    ]
    assert [a.subject for a in alerts] == [f"ozon-main/{OZON_WAREHOUSE}/TOY"]  # once

    ozon.products.add(900_003)  # the product is restored on Ozon
    fixed = push_stock(world.uow(), clients(), "ozon-main")
    assert fixed.refused == {}
    assert read_journal(world.uow(), "ozon-main") == []


def test_figures_ozon_takes_only_later_are_pushed_again_with_their_latest_value(
    world: Potok, ozon: OzonSimulator
) -> None:
    connect_ozon(world, ozon)
    now = datetime.now(UTC)
    sequence(world)
    push_stock_changes(world.uow(), clients(), "ozon-main", "w1", every_s=0, clock=lambda: now)
    receive(world, "MSK", "KET", 5)
    sequence(world)

    soon = push_stock_changes(
        world.uow(), clients(), "ozon-main", "w1", every_s=0, clock=lambda: now
    )
    assert soon is not None
    assert list(soon.later) == [f"{OZON_WAREHOUSE}/KET"]  # set less than 30 seconds ago
    # not a refusal anyone must fix: only TOY (not on Ozon) is in the journal
    assert [e.external_id for e in read_journal(world.uow(), "ozon-main")] == [
        f"stock {OZON_WAREHOUSE}/TOY"
    ]
    receive(world, "MSK", "KET", 1)
    sequence(world)
    ozon.pair_interval_s = 0  # Ozon's 30 seconds have passed
    early = push_stock_changes(
        world.uow(),
        clients(),
        "ozon-main",
        "w1",
        every_s=0,
        clock=lambda: now + timedelta(seconds=5),
    )
    later = push_stock_changes(
        world.uow(),
        clients(),
        "ozon-main",
        "w1",
        every_s=0,
        clock=lambda: now + timedelta(seconds=31),
    )

    assert early is None  # waiting for Ozon
    assert later is not None
    assert later.later == {}
    assert ozon.stock_of(OZON_WAREHOUSE, KET_PRODUCT) == 24  # 20 + 5 + 1 less the buffer of 2


def test_a_slow_marketplace_holds_back_only_its_own_pushes(
    world: Potok,
    wildberries: WildberriesSimulator,
    ozon: OzonSimulator,
    dispatcher: Dispatcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """WB's stock method hangs (a slow host): Ozon still hears the change, and the reaction
    round is not held up by WB; once WB answers, its lane takes the next push."""
    connect_wb(world, wildberries)
    connect_ozon(world, ozon)
    now = datetime.now(UTC)
    dispatcher.clock = lambda: now
    dispatcher.run_round()  # new cursors: the full push to both
    dispatcher.clock = lambda: now + timedelta(seconds=31)  # the next push is due
    released = threading.Event()
    answer = wildberries.answer

    answered: list[str] = []

    def hanging(method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
        if target.startswith("/api/v3/stocks/"):
            released.wait(60)
            answered.append(target)
        return answer(method, target, headers, raw)

    monkeypatch.setattr(wildberries, "answer", hanging)
    heard = len(ozon.calls("/v2/products/stocks"))
    receive(world, "MSK", "KET", 5)
    try:
        dispatcher.delivery_round()
        dispatcher.reaction_round(wait_for_pushes=False)  # returns while WB still hangs
        for _ in range(600):  # Ozon's lane pushes on its own (up to a minute)
            if len(ozon.calls("/v2/products/stocks")) > heard:
                break
            threading.Event().wait(0.1)
        assert len(ozon.calls("/v2/products/stocks")) == heard + 1
        assert answered == []  # WB still had not answered when Ozon heard
        dispatcher.reaction_round(wait_for_pushes=False)  # WB's lane is busy: left alone
    finally:
        released.set()
    dispatcher.run_round()  # waits for every lane
    stocks = wildberries.calls(f"/api/v3/stocks/{WB_WAREHOUSE}")
    assert stocks[-1].body == {"stocks": [{"chrtId": KET_CHRT, "amount": 23}]}
    assert len(stocks) == 2  # the full push, then the change once
