"""``potok marketplaces`` through typer's CliRunner against a simulated Wildberries: connect
(the token asked for unseen), poll now, health and journal as JSON, bad input refused."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.settings import get_settings
from tests.factories import build_world
from tests.simulators.ozon import OzonSimulator
from tests.simulators.wildberries import WildberriesSimulator
from tests.simulators.yandex_market import ACT, YandexMarketSimulator, days_from_now

runner = CliRunner()


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def potok_cli(url: str, *args: str, given: str | None = None) -> Result:
    return runner.invoke(
        app, ["--db", url, *args], input=given, env={"COLUMNS": "200", "USER": "integrator"}
    )


def test_connect_poll_and_read_health_and_journal(
    potok: Potok, database_url: str, wildberries: WildberriesSimulator
) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    wildberries.add_order(article="KET", barcodes=["4601234567893"], price=249_000)
    wildberries.add_order(article="GHOST", barcodes=["2000000000008"], price=100_00)

    connected = potok_cli(
        database_url,
        "marketplaces",
        "connect",
        "wb-main",
        "-m",
        "wildberries",
        "--channel",
        "mp",
        "-w",
        "658434=MSK",
        "--url",
        wildberries.url,
        given=wildberries.token + "\n",
    )
    assert connected.exit_code == 0, connected.output
    assert wildberries.token not in connected.output

    polled = potok_cli(database_url, "marketplaces", "poll", "wb-main")
    assert polled.exit_code == 0, polled.output
    assert "1 imported" in polled.output
    assert "1 kept aside" in polled.output

    listed = potok_cli(database_url, "marketplaces", "list", "-o", "json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert (row["code"], row["health"], row["imported"], row["journal"]) == ("wb-main", "ok", 1, 1)
    assert wildberries.token not in listed.output

    journal = potok_cli(database_url, "marketplaces", "journal", "wb-main", "-o", "json")
    [entry] = json.loads(journal.output)
    assert entry["kind"] == "unknown-sku"


def test_bad_input_is_a_plain_message_and_a_non_zero_exit(
    potok: Potok, database_url: str, wildberries: WildberriesSimulator
) -> None:
    build_world(potok)
    bad_map = potok_cli(
        database_url,
        "marketplaces",
        "connect",
        "wb",
        "-m",
        "wildberries",
        "--channel",
        "mp",
        "-w",
        "658434",
        given="t\n",
    )
    assert bad_map.exit_code == 3
    assert "THEIRS=OURS" in bad_map.output

    unknown_location = potok_cli(
        database_url,
        "marketplaces",
        "connect",
        "wb",
        "-m",
        "wildberries",
        "--channel",
        "mp",
        "-w",
        "1=NOWHERE",
        given="t\n",
    )
    assert unknown_location.exit_code == 3
    assert "NOWHERE" in unknown_location.output

    missing = potok_cli(database_url, "marketplaces", "poll", "nope")
    assert missing.exit_code == 4


def test_update_replaces_the_token_and_pauses(
    potok: Potok, database_url: str, wildberries: WildberriesSimulator
) -> None:
    build_world(potok)
    connect = ["marketplaces", "connect", "wb", "-m", "wildberries", "--channel", "mp"]
    assert potok_cli(database_url, *connect, "--url", wildberries.url, given="old\n").exit_code == 0
    refused = potok_cli(database_url, "marketplaces", "poll", "wb")
    assert refused.exit_code == 3  # WB refuses the token

    renewed = potok_cli(
        database_url, "marketplaces", "update", "wb", "--new-token", given=wildberries.token + "\n"
    )
    assert renewed.exit_code == 0, renewed.output
    assert potok_cli(database_url, "marketplaces", "poll", "wb").exit_code == 0
    paused = potok_cli(database_url, "marketplaces", "update", "wb", "--paused")
    assert "changed active" in paused.output
    nothing = potok_cli(database_url, "marketplaces", "update", "wb")
    assert nothing.exit_code == 3


def test_push_stock_resyncs_every_mapped_sku_and_names_what_was_refused(
    potok: Potok, database_url: str, wildberries: WildberriesSimulator
) -> None:
    from potok.domain.marketplaces import ItemMapping
    from potok.services.marketplaces import map_items
    from tests.factories import TESTER

    build_world(potok, {("MSK", "KET"): 7})
    connect = ["marketplaces", "connect", "wb", "-m", "wildberries", "--channel", "mp"]
    given = wildberries.token + "\n"
    connected = potok_cli(
        database_url, *connect, "-w", "658434=MSK", "--url", wildberries.url, given=given
    )
    assert connected.exit_code == 0, connected.output
    map_items(potok.uow(), "wb", [ItemMapping("KET", "501"), ItemMapping("MUG", "502")], TESTER)
    wildberries.unknown_chrt = {502}

    pushed = potok_cli(database_url, "marketplaces", "push-stock", "wb", "-o", "json")

    assert pushed.exit_code == 0, pushed.output
    assert "2 figures sent in 2 requests, 1 taken, 1 refused" in pushed.output
    assert "658434/MUG" in pushed.output
    assert wildberries.stocks == {658434: {501: 5}}  # 7 less the channel's buffer of 2

    missing = potok_cli(database_url, "marketplaces", "push-stock", "nope")
    assert missing.exit_code == 4


def test_items_are_mapped_one_by_one_and_from_a_csv_file_naming_bad_lines(
    potok: Potok, database_url: str, wildberries: WildberriesSimulator, tmp_path: Path
) -> None:
    build_world(potok)
    connect = ["marketplaces", "connect", "wb", "-m", "wildberries", "--channel", "mp"]
    assert potok_cli(database_url, *connect, given="t\n").exit_code == 0
    one = potok_cli(database_url, "marketplaces", "map", "wb", "KET", "501", "--product", "9")
    assert one.exit_code == 0, one.output
    good = tmp_path / "items.csv"
    good.write_text("sku,item,article\nMUG,502,mug-wb\nTOY,503,\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("item,sku\n504,BKS\n505,GHOST\nx,KET\n", encoding="utf-8")

    imported = potok_cli(database_url, "marketplaces", "import-items", "wb", str(good))
    refused = potok_cli(database_url, "marketplaces", "import-items", "wb", str(bad))
    removed = potok_cli(database_url, "marketplaces", "unmap", "wb", "TOY")
    listed = potok_cli(database_url, "marketplaces", "items", "wb", "-o", "json")

    assert "2 SKUs mapped" in imported.output
    assert refused.exit_code == 3
    assert "line 3" in refused.output
    assert "line 4" in refused.output
    assert "1 SKUs no longer mapped" in removed.output
    assert [(r["sku"], r["item"], r["article"]) for r in json.loads(listed.output)] == [
        ("KET", "501", None),
        ("MUG", "502", "mug-wb"),
    ]


def test_match_catalogue_fills_the_ozon_map_and_names_what_matched_nothing(
    potok: Potok, database_url: str, ozon: OzonSimulator
) -> None:
    build_world(potok)
    connect = ["marketplaces", "connect", "oz", "-m", "ozon", "--channel", "mp"]
    connected = potok_cli(
        database_url,
        *connect,
        "--client-id",
        ozon.client_id,
        "-w",
        "22254230484000=MSK",
        "--url",
        ozon.url,
        given=ozon.api_key + "\n",
    )
    assert connected.exit_code == 0, connected.output
    ozon.list_product("KET", 1_480_000_001, 700_001)
    ozon.list_product("NOPE", 1_480_000_002, 700_002)

    matched = potok_cli(database_url, "marketplaces", "match-catalogue", "oz", "-o", "csv")
    listed = potok_cli(database_url, "marketplaces", "items", "oz", "-o", "json")

    assert matched.exit_code == 0, matched.output
    assert "2 items listed, 1 mapped now, 0 already mapped, 1 match no SKU" in matched.output
    assert "1480000002 (NOPE),no SKU has its article or barcode" in matched.output
    assert [(r["sku"], r["item"], r["product"]) for r in json.loads(listed.output)] == [
        ("KET", "1480000001", "700001")
    ]
    assert potok_cli(database_url, "marketplaces", "match-catalogue", "nope").exit_code == 4


def test_push_url_prints_the_address_ozon_is_given(
    potok: Potok, database_url: str, ozon: OzonSimulator
) -> None:
    from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
    from potok.services.marketplaces import connect_marketplace
    from potok.services.marketplaces.notifications import push_path
    from tests.factories import TESTER

    build_world(potok, {})
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="ozon-main",
            marketplace=Marketplace.OZON,
            channel="mp",
            credentials=Credentials(ozon.api_key, ozon.client_id),
            base_url=ozon.url,
            warehouses={"22254230484000": "MSK"},
        ),
        TESTER,
    )

    shown = potok_cli(
        database_url, "marketplaces", "push-url", "ozon-main", "--base", "https://potok.example/"
    )
    unknown = potok_cli(
        database_url, "marketplaces", "push-url", "nope", "--base", "https://potok.example"
    )
    bad = potok_cli(database_url, "marketplaces", "push-url", "ozon-main", "--base", "potok")

    assert shown.exit_code == 0, shown.output
    path = push_path(potok.protector, "ozon-main")
    assert shown.stdout.strip() == "https://potok.example" + path
    assert path.startswith("/api/v1/marketplaces/ozon-main/ozon-notifications?secret=")
    assert len(path.split("secret=")[1]) == 32
    assert unknown.exit_code != 0
    assert bad.exit_code == 2
    assert "--base" in bad.output


def test_push_url_prints_the_address_yandex_market_is_given(
    potok: Potok, database_url: str
) -> None:
    from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
    from potok.services.marketplaces import connect_marketplace
    from potok.services.marketplaces.notifications import push_path
    from tests.factories import TESTER

    build_world(potok, {})
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="ym-main",
            marketplace=Marketplace.YANDEX_MARKET,
            channel="mp",
            credentials=Credentials("ACMA:key", "8880001"),
            base_url="https://api.partner.market.yandex.ru",
            warehouses={"21000001": "MSK"},
        ),
        TESTER,
    )

    shown = potok_cli(
        database_url, "marketplaces", "push-url", "ym-main", "--base", "https://potok.example"
    )

    assert shown.exit_code == 0, shown.output
    path = push_path(potok.protector, "ym-main", Marketplace.YANDEX_MARKET)
    assert shown.stdout.strip() == "https://potok.example" + path
    assert path.startswith("/api/v1/marketplaces/ym-main/yandex-market/")
    assert path != push_path(potok.protector, "ym-main")  # not Ozon's secret


def test_market_shipments_are_listed_confirmed_printed_and_orders_moved(
    potok: Potok, database_url: str, tmp_path: Path, yandex_market: YandexMarketSimulator
) -> None:
    from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
    from potok.services.marketplaces import connect_marketplace
    from tests.factories import TESTER

    build_world(potok, {})
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="ym-main",
            marketplace=Marketplace.YANDEX_MARKET,
            channel="mp",
            credentials=Credentials(yandex_market.api_key, yandex_market.business_id),
            base_url=yandex_market.url,
            warehouses={"21000001": "MSK"},
        ),
        TESTER,
    )
    day = days_from_now(1).isoformat()
    order = yandex_market.add_order(items=[{"offerId": "KET", "count": 1, "price": 2490}])
    shipment = yandex_market.add_shipment([order])

    listed = potok_cli(
        database_url, "marketplaces", "shipments", "ym-main", "--since", day, "-o", "json"
    )
    moved = potok_cli(
        database_url,
        "marketplaces",
        "transfer-orders",
        "ym-main",
        "21000001",
        str(shipment),
        str(order),
    )
    confirmed = potok_cli(
        database_url, "marketplaces", "confirm-shipment", "ym-main", "21000001", str(shipment)
    )
    act = tmp_path / "act.pdf"
    printed = potok_cli(
        database_url,
        "marketplaces",
        "shipment-document",
        "ym-main",
        "21000001",
        str(shipment),
        "-o",
        str(act),
    )
    wrong = potok_cli(database_url, "marketplaces", "shipments", "ym-main", "--since", "8 dec")

    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["status"], row["orders"]) == (
        shipment,
        "OUTBOUND_READY_FOR_CONFIRMATION",
        1,
    )
    assert moved.exit_code == 0, moved.output
    assert "1 orders moved to the next shipment; Potok orders noted: none" in moved.stdout
    assert confirmed.exit_code == 0, confirmed.output
    assert f"shipment {shipment}: OUTBOUND_CONFIRMED; may now: DOWNLOAD_ACT" in confirmed.stdout
    assert printed.exit_code == 0, printed.output
    assert act.read_bytes() == ACT
    assert wrong.exit_code == 2
    assert "--since and --until are days: YYYY-MM-DD" in wrong.output
    assert yandex_market.invalid == []
