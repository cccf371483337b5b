"""The Ozon item map filling itself from the seller's catalogue (``/v3/product/list`` and
``/v3/product/info/list`` on a simulated Ozon checking every request against Ozon's
document): offer_id or barcode names the SKU, a person's mapping is never overwritten, items
no SKU matches still reach the operators when ordered; SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from potok.bootstrap import Potok
from potok.connectors.marketplaces import MarketplaceClients
from potok.domain.alerts import AlertKind
from potok.domain.catalogue import ProductDraft
from potok.domain.marketplaces import ConnectionDraft, Credentials, ItemMapping, Marketplace
from potok.services import catalogue
from potok.services.alerts import list_alerts
from potok.services.marketplaces import (
    connect_marketplace,
    list_items,
    map_from_catalogue,
    map_items,
    poll_marketplace,
    push_stock,
    read_journal,
)
from potok.settings import MarketplaceSettings
from tests.factories import TESTER, build_world
from tests.simulators.ozon import OzonSimulator
from tests.simulators.wildberries import WildberriesSimulator

OZON_WAREHOUSE = 22_254_230_484_000


def clients() -> MarketplaceClients:
    return MarketplaceClients(MarketplaceSettings())


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
    ozon.list_product("KET", 1_480_000_001, 700_001)  # offer_id is the Potok SKU
    ozon.list_product("mug-white", 1_480_000_002, 700_002, barcodes=("MUG-BAR", "4600000000008"))
    ozon.list_product("ALIEN", 1_480_000_009, 700_009)  # nothing in Potok is called so
    ozon.list_product("TOY", 1_480_000_003, 700_003, archived=True)  # not sold any more
    return potok


def mapped(potok: Potok) -> list[tuple[str, str, str | None, str | None]]:
    return [(m.sku, m.item, m.product, m.article) for m in list_items(potok.uow(), "ozon-main")]


def add_mug_barcode(potok: Potok) -> None:
    """Potok knows the mug by the barcode Ozon lists for 'mug-white'."""
    mug = catalogue.get_product(potok.uow(), "MUG")
    draft = ProductDraft(mug.sku, mug.name, mug.price, mug.vat_rate, "4600000000008", mug.weight_g)
    catalogue.replace_product(potok.uow(), "MUG", draft)


def test_the_catalogue_maps_items_by_article_and_by_barcode(
    world: Potok, ozon: OzonSimulator
) -> None:
    add_mug_barcode(world)

    outcome = map_from_catalogue(world.uow(), clients(), "ozon-main", TESTER)

    assert outcome.error is None
    assert (outcome.listed, outcome.mapped, outcome.unmatched) == (3, 2, 1)
    assert outcome.unmatched_items == ["1480000009 (ALIEN)"]
    assert mapped(world) == [
        ("KET", "1480000001", "700001", "KET"),
        ("MUG", "1480000002", "700002", "mug-white"),
    ]
    again = map_from_catalogue(world.uow(), clients(), "ozon-main", TESTER)
    assert (again.mapped, again.unchanged) == (0, 2)
    # the stock push now names Ozon's product_id without anyone having typed it
    pushed = push_stock(world.uow(), clients(), "ozon-main")
    assert pushed.accepted == 2
    assert ozon.stock_of(OZON_WAREHOUSE, 700_001) == 18  # 20 less the channel's buffer of 2


def test_a_mapping_made_by_a_person_is_kept_and_reported(world: Potok, ozon: OzonSimulator) -> None:
    map_items(world.uow(), "ozon-main", [ItemMapping("KET", "555", product="777")], TESTER)

    outcome = map_from_catalogue(world.uow(), clients(), "ozon-main", TESTER)

    assert outcome.conflicts == 1
    assert outcome.conflict_notes == ["KET: mapped to 555, the catalogue lists 1480000001 - kept"]
    assert ("KET", "555", "777", None) in mapped(world)


def test_the_first_poll_fills_the_map_and_an_unmatched_item_still_alerts(
    world: Potok, ozon: OzonSimulator
) -> None:
    number = ozon.add_posting(
        products=[{"offer_id": "ALIEN", "sku": 1_480_000_009, "quantity": 1, "price": "10.00"}]
    )

    outcome = poll_marketplace(world.uow(), clients(), "ozon-main")

    assert outcome.catalogue_mapped == 1  # KET (the mug's barcode is not Potok's yet)
    assert mapped(world) == [("KET", "1480000001", "700001", "KET")]
    assert outcome.kept_aside == [number]
    [entry] = read_journal(world.uow(), "ozon-main")
    assert entry.kind.value == "unknown-sku"
    alerts = [
        a for a in list_alerts(world.uow()).items if a.kind is AlertKind.MARKETPLACE_ITEM_NOT_MAPPED
    ]
    assert [a.subject for a in alerts] == ["ozon-main/1480000009"]
    second = poll_marketplace(world.uow(), clients(), "ozon-main")
    assert second.catalogue_mapped == 0  # only before the first poll; the worker re-reads it
    assert len(ozon.calls("/v3/product/list")) == 1


def test_a_catalogue_of_many_pages_is_read_whole(world: Potok, ozon: OzonSimulator) -> None:
    for n in range(1, 1_200):
        ozon.list_product(f"OTHER-{n}", 1_500_000_000 + n, 800_000 + n)

    outcome = map_from_catalogue(world.uow(), clients(), "ozon-main", TESTER)

    assert outcome.listed == 3 + 1_199
    assert len(ozon.calls("/v3/product/list")) == 2
    assert [len(c.body["product_id"]) for c in ozon.calls("/v3/product/info/list")] == [1000, 202]
    assert outcome.mapped == 1  # KET


def test_wildberries_says_its_catalogue_is_not_read(
    potok: Potok, wildberries: WildberriesSimulator
) -> None:
    build_world(potok)
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="wb-main",
            marketplace=Marketplace.WILDBERRIES,
            channel="mp",
            credentials=Credentials(wildberries.token),
            base_url=wildberries.url,
            warehouses={"658434": "MSK"},
        ),
        TESTER,
    )

    outcome = map_from_catalogue(potok.uow(), clients(), "wb-main", TESTER)

    assert outcome.error is not None
    assert "potok marketplaces map" in outcome.error
    assert wildberries.received == []
