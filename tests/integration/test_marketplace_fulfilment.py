"""Marketplace orders through fulfilment: imported, picked, packed with marking codes and
handed over in Potok, and the marketplaces told - WB: codes as sgtin meta, the task into a
supply, the supply to delivery; Ozon: the posting collected and read back. Cancelling in
Potok cancels there too. Simulators on real ports check every request against the
marketplaces' documents; SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.domain.alerts import AlertKind
from potok.domain.catalogue import ProductDraft
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.fulfilment.identifiers import UnitIdentifier
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
from potok.domain.orders.commands import CancelOrder
from potok.services import catalogue, inventory
from potok.services import orders as order_service
from potok.services.alerts import list_alerts
from potok.services.fulfilment import handover, packing, picking, reads, release
from potok.services.fulfilment.picking import ScanInput
from potok.services.marketplaces import connect_marketplace, poll_marketplace, read_journal
from potok.settings import MarketplaceSettings
from tests.factories import TESTER, build_world
from tests.simulators.ozon import OzonSimulator
from tests.simulators.wildberries import WildberriesSimulator

SHOE = ProductDraft(
    "SHOE",
    "Кроссовки",
    Decimal("5990.00"),
    Decimal("22"),
    "4650000000010",
    800,
    unit_identifiers=frozenset({UnitIdentifier.MARKING}),
)


def marking(serial: str, gtin: str = "04650000000010") -> str:
    """A Честный ЗНАК code as a scanner gives it, with GS separators."""
    return f"01{gtin}21{serial}\x1d91EE10\x1d92" + "A" * 44


def clients() -> MarketplaceClients:
    return MarketplaceClients(MarketplaceSettings())


def shoes_world(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    catalogue.create_product(potok.uow(), SHOE)
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "SHOE", 5), TESTER)


def connect(
    potok: Potok, code: str, marketplace: Marketplace, url: str, creds: Credentials, warehouse: int
) -> None:
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code=code,
            marketplace=marketplace,
            channel="mp",
            credentials=creds,
            base_url=url,
            warehouses={str(warehouse): "MSK"},
        ),
        TESTER,
    )


def fulfil(potok: Potok, order_id: int, *codes: str, hand_over: bool = True) -> None:
    """Release, pick, pack (with ``codes``) and hand over the order's one shipment."""
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
    shipment_id = shipment.id or 0
    _, lines = reads.pick_list(potok.uow(), shipment_id)
    for line in lines:
        picking.pick(potok.uow(), shipment_id, ScanInput(line.sku, line.left), TESTER)
    items = [
        ParcelLine(
            item.item_no,
            item.quantity,
            tuple((UnitIdentifier.MARKING, c) for c in codes) if item.sku == "SHOE" else (),
        )
        for item in reads.get_shipment(potok.uow(), shipment_id).shipment.items
    ]
    packing.pack_parcel(
        potok.uow(), shipment_id, ParcelDraft(900, 330, 200, 120, tuple(items)), TESTER
    )
    if hand_over:
        handover.hand_over(potok.uow(), shipment_id, TESTER, carrier="Wildberries")


def test_wb_hears_the_marking_code_the_supply_and_the_hand_over(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    shoes_world(potok)
    connect(
        potok,
        "wb",
        Marketplace.WILDBERRIES,
        wildberries.url,
        Credentials(wildberries.token),
        658434,
    )
    task = wildberries.add_order(
        article="SHOE", barcodes=["4650000000010"], price=599_000, required_meta=["sgtin"]
    )
    [order_id] = poll_marketplace(potok.uow(), clients(), "wb").imported

    fulfil(potok, order_id, marking("wb-unit-1"), hand_over=False)
    packed = poll_marketplace(potok.uow(), clients(), "wb")

    assert packed.packed == [str(task)]
    assert wildberries.meta[task]["sgtin"] == [marking("wb-unit-1")]
    [(supply_id, supply)] = wildberries.supplies.items()
    assert supply["orders"] == [task]
    assert supply["done"] is False
    assert wildberries.statuses[task] == ("confirm", "waiting")

    (shipment,) = reads.order_shipments(potok.uow(), order_id)
    handover.hand_over(potok.uow(), shipment.id or 0, TESTER, carrier="Wildberries")
    left = poll_marketplace(potok.uow(), clients(), "wb")

    assert left.handed_over == [str(task)]
    assert wildberries.supplies[supply_id]["done"] is True
    assert wildberries.statuses[task] == ("complete", "sorted")
    again = poll_marketplace(potok.uow(), clients(), "wb")
    assert (again.packed, again.handed_over) == ([], [])  # each step told once
    assert len(wildberries.calls(f"/api/v3/supplies/{supply_id}/deliver")) == 1


def test_wb_hears_the_gtin_of_a_task_that_asks_for_one_after_it_joined_the_supply(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    """Goods marked in Belarus: WB lists ``gtin`` in the task's meta and takes it (like every
    meta) only from a task on assembly (``confirm``), i.e. after it joined the supply; the
    GTIN is the task's own 13-digit barcode."""
    shoes_world(potok)
    connect(
        potok,
        "wb",
        Marketplace.WILDBERRIES,
        wildberries.url,
        Credentials(wildberries.token),
        658434,
    )
    asks = wildberries.add_order(
        article="SHOE",
        barcodes=["2000000000008", "4650000000010"],
        price=599_000,
        required_meta=["sgtin"],
        optional_meta=["gtin"],
    )
    quiet = wildberries.add_order(article="KET", barcodes=["4601234567893"], price=249_000)
    first, second = poll_marketplace(potok.uow(), clients(), "wb").imported

    fulfil(potok, first, marking("wb-unit-7"), hand_over=False)
    fulfil(potok, second, hand_over=False)
    packed = poll_marketplace(potok.uow(), clients(), "wb")

    assert sorted(packed.packed) == sorted([str(asks), str(quiet)])
    assert packed.push_failed == []
    assert wildberries.meta[asks] == {"sgtin": [marking("wb-unit-7")], "gtin": ["4650000000010"]}
    assert quiet not in wildberries.meta
    [supply] = wildberries.supplies.values()
    assert sorted(supply["orders"]) == sorted([asks, quiet])
    adds = [c.at for c in wildberries.received if c.path.endswith("/orders")]
    metas = [c.at for c in wildberries.received if "/meta/" in c.path]
    assert max(adds) < min(metas)  # meta only once the tasks are on assembly


def test_cancelling_in_potok_cancels_the_wb_task(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    shoes_world(potok)
    connect(
        potok,
        "wb",
        Marketplace.WILDBERRIES,
        wildberries.url,
        Credentials(wildberries.token),
        658434,
    )
    task = wildberries.add_order(article="KET", barcodes=["4601234567893"], price=249_000)
    [order_id] = poll_marketplace(potok.uow(), clients(), "wb").imported

    order_service.cancel_order(potok.uow(), CancelOrder(order_id, "out of stock"), TESTER)
    outcome = poll_marketplace(potok.uow(), clients(), "wb")

    assert outcome.cancelled_there == [str(task)]
    assert wildberries.statuses[task] == ("cancel", "canceled")


def test_ozon_collects_the_packed_posting_and_potok_reads_it_back(
    potok: Potok, ozon: OzonSimulator
) -> None:
    shoes_world(potok)
    connect(
        potok,
        "oz",
        Marketplace.OZON,
        ozon.url,
        Credentials(ozon.api_key, ozon.client_id),
        22_254_230_484_000,
    )
    number = ozon.add_posting(
        products=[{"offer_id": "KET", "sku": 1_146_425_151, "quantity": 2, "price": "2490.00"}]
    )
    [order_id] = poll_marketplace(potok.uow(), clients(), "oz").imported

    fulfil(potok, order_id)
    outcome = poll_marketplace(potok.uow(), clients(), "oz")

    assert outcome.packed == [number]
    assert outcome.handed_over == [number]
    [ship] = ozon.calls("/v4/posting/fbs/ship")
    assert ship.body["packages"] == [{"products": [{"product_id": 1_146_425_151, "quantity": 2}]}]
    assert len(ozon.calls("/v3/posting/fbs/get")) == 1
    assert ozon.postings[number]["status"] == "awaiting_deliver"


def test_an_ozon_200_that_changed_nothing_is_kept_aside_and_tried_again(
    potok: Potok, ozon: OzonSimulator
) -> None:
    shoes_world(potok)
    connect(
        potok,
        "oz",
        Marketplace.OZON,
        ozon.url,
        Credentials(ozon.api_key, ozon.client_id),
        22_254_230_484_000,
    )
    number = ozon.add_posting(
        products=[{"offer_id": "KET", "sku": 1_146_425_151, "quantity": 1, "price": "2490.00"}]
    )
    [order_id] = poll_marketplace(potok.uow(), clients(), "oz").imported
    fulfil(potok, order_id, hand_over=False)
    ozon.ship_quietly_fails = True

    failed = poll_marketplace(potok.uow(), clients(), "oz")

    assert failed.push_failed == [number]
    [entry] = read_journal(potok.uow(), "oz")
    assert entry.kind.value == "push-failed"
    assert "still awaiting_packaging" in entry.detail

    ozon.ship_quietly_fails = False
    retried = poll_marketplace(potok.uow(), clients(), "oz")
    assert retried.packed == [number]
    assert read_journal(potok.uow(), "oz") == []


def test_cancelling_in_potok_cancels_the_ozon_posting_with_a_reason_from_its_list(
    potok: Potok, ozon: OzonSimulator
) -> None:
    shoes_world(potok)
    connect(
        potok,
        "oz",
        Marketplace.OZON,
        ozon.url,
        Credentials(ozon.api_key, ozon.client_id),
        22_254_230_484_000,
    )
    number = ozon.add_posting(
        products=[{"offer_id": "KET", "sku": 1_146_425_151, "quantity": 1, "price": "2490.00"}]
    )
    [order_id] = poll_marketplace(potok.uow(), clients(), "oz").imported

    order_service.cancel_order(potok.uow(), CancelOrder(order_id, "out of stock"), TESTER)
    outcome = poll_marketplace(potok.uow(), clients(), "oz")

    assert outcome.cancelled_there == [number]
    [cancel] = ozon.calls("/v2/posting/fbs/cancel")
    assert cancel.body["cancel_reason_id"] == 352
    assert ozon.postings[number]["status"] == "cancelled"


def ozon_shoes(potok: Potok, ozon: OzonSimulator, quantity: int = 2) -> tuple[str, int]:
    """An Ozon posting of marked shoes, imported; (posting number, order id)."""
    shoes_world(potok)
    connect(
        potok,
        "oz",
        Marketplace.OZON,
        ozon.url,
        Credentials(ozon.api_key, ozon.client_id),
        22_254_230_484_000,
    )
    number = ozon.add_posting(
        products=[
            {"offer_id": "SHOE", "sku": 2_200_000_001, "quantity": quantity, "price": "5990.00"}
        ],
        mandatory_mark=True,
    )
    [order_id] = poll_marketplace(potok.uow(), clients(), "oz").imported
    return number, order_id


def test_ozon_hears_each_units_marking_code_before_the_posting_is_collected(
    potok: Potok, ozon: OzonSimulator
) -> None:
    number, order_id = ozon_shoes(potok, ozon)
    fulfil(potok, order_id, marking("oz-unit-1"), marking("oz-unit-2"), hand_over=False)

    outcome = poll_marketplace(potok.uow(), clients(), "oz")

    assert outcome.packed == [number]
    [units] = ozon.exemplars[number]
    assert [[m["mark"] for m in u["marks"]] for u in units["exemplars"]] == [
        [marking("oz-unit-1")],
        [marking("oz-unit-2")],
    ]
    assert {m["check_status"] for u in units["exemplars"] for m in u["marks"]} == {"passed"}
    [sent] = ozon.calls("/v6/fbs/posting/product/exemplar/set")
    assert sent.body["products"][0]["product_id"] == 2_200_000_001
    assert [e["marks"][0]["mark_type"] for e in sent.body["products"][0]["exemplars"]] == [
        "mandatory_mark",
        "mandatory_mark",
    ]
    order = [r.path for r in ozon.received if "posting" in r.path and "list" not in r.path]
    assert order == [
        "/v6/fbs/posting/product/exemplar/create-or-get",
        "/v6/fbs/posting/product/exemplar/set",
        "/v5/fbs/posting/product/exemplar/status",
        "/v4/posting/fbs/ship",
        "/v3/posting/fbs/get",
    ]
    assert ozon.postings[number]["status"] == "awaiting_deliver"


def test_a_marking_code_ozon_refuses_is_reported_and_the_posting_is_not_collected(
    potok: Potok, ozon: OzonSimulator
) -> None:
    number, order_id = ozon_shoes(potok, ozon)
    fulfil(potok, order_id, marking("oz-unit-1"), marking("oz-unit-2"), hand_over=False)
    ozon.refused_marks[marking("oz-unit-2")] = ["NOT_IN_CIRCULATION"]

    refused = poll_marketplace(potok.uow(), clients(), "oz")

    assert refused.push_failed == [number]
    assert ozon.calls("/v4/posting/fbs/ship") == []
    [entry] = read_journal(potok.uow(), "oz")
    assert entry.kind.value == "push-failed"
    # the code as people compare it: GTIN and serial, without the crypto tail
    assert (
        "mandatory_mark 010465000000001021oz-unit-2 of SKU 2200000001: NOT_IN_CIRCULATION"
        in entry.detail
    )
    assert "oz-unit-1" not in entry.detail
    again = poll_marketplace(potok.uow(), clients(), "oz")
    assert again.push_failed == [number]
    alerts = list_alerts(potok.uow()).items
    assert [a.subject for a in alerts if a.kind is AlertKind.MARKETPLACE_UPDATE_REFUSED] == [
        f"oz/{number}/pack"  # once, however often the poll tries again
    ]

    del ozon.refused_marks[marking("oz-unit-2")]  # the code entered circulation
    retried = poll_marketplace(potok.uow(), clients(), "oz")
    assert retried.packed == [number]
    assert read_journal(potok.uow(), "oz") == []
    assert ozon.postings[number]["status"] == "awaiting_deliver"


def test_codes_ozon_is_still_checking_wait_for_the_next_poll_without_a_journal_entry(
    potok: Potok, ozon: OzonSimulator
) -> None:
    number, order_id = ozon_shoes(potok, ozon, quantity=1)
    fulfil(potok, order_id, marking("oz-unit-1"), hand_over=False)
    ozon.checking_rounds = 1

    first = poll_marketplace(potok.uow(), clients(), "oz")

    assert (first.packed, first.push_failed, first.waiting) == ([], [], [number])
    assert ozon.calls("/v4/posting/fbs/ship") == []
    assert read_journal(potok.uow(), "oz") == []
    second = poll_marketplace(potok.uow(), clients(), "oz")
    assert second.packed == [number]
    assert len(ozon.calls("/v6/fbs/posting/product/exemplar/set")) == 2  # the full set again


def test_a_posting_that_needs_codes_is_not_collected_without_them(
    potok: Potok, ozon: OzonSimulator
) -> None:
    shoes_world(potok)
    connect(
        potok,
        "oz",
        Marketplace.OZON,
        ozon.url,
        Credentials(ozon.api_key, ozon.client_id),
        22_254_230_484_000,
    )
    number = ozon.add_posting(
        products=[{"offer_id": "KET", "sku": 1_146_425_151, "quantity": 1, "price": "2490.00"}],
        mandatory_mark=True,  # Ozon says so; Potok's kettle asks for no codes at packing
    )
    [order_id] = poll_marketplace(potok.uow(), clients(), "oz").imported
    fulfil(potok, order_id, hand_over=False)

    outcome = poll_marketplace(potok.uow(), clients(), "oz")

    assert outcome.push_failed == [number]
    [entry] = read_journal(potok.uow(), "oz")
    assert "EXEMPLARS_NOT_VALIDATED" in entry.detail
    assert ozon.postings[number]["status"] == "awaiting_packaging"
