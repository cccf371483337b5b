"""1C's site exchange end to end: a simulated 1C (tests/simulators/onec.py) signs in with an
API key, uploads its catalogue and offers in parts (zipped when Potok asks) and imports
them; Potok's products, prices and stock follow, once, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from potok.domain.access import Permission
from potok.settings import OnecSettings
from tests.conftest import LiveServer, key_for
from tests.e2e.test_stock_api import levels, movements
from tests.factories import build_world, order_body
from tests.integration.test_file_imports import events
from tests.simulators.onec import (
    Exchange,
    Item,
    OfferLine,
    OneC,
    OrderNews,
    catalogue_xml,
    commerceml_schema_path,
    offers_xml,
    orders_in,
    schema_errors,
    send_order_news,
    take_orders,
)

WAREHOUSES = [("wh-msk", "Москва, основной склад"), ("wh-spb", "Санкт-Петербург")]
GROUPS = [("g-kitchen", "Кухня", None), ("g-kettles", "Чайники", "g-kitchen")]
PROPERTIES = [("prop-colour", "Цвет", {"c-red": "Красный", "c-white": "Белый"})]
ITEMS = [
    Item("b1a7-0001", "KET", "Чайник электрический", "4601234567893", groups=("g-kettles",)),
    Item(
        "b1a7-0002",
        "KT-200",
        "Чайник стеклянный",
        "4600000000015",
        groups=("g-kettles",),
        properties=(("prop-colour", "c-white"),),
    ),
    Item("b1a7-0003", "BOOK-1", "Азбука", vat="10", groups=("g-kitchen",)),
]
OFFERS = [
    OfferLine("b1a7-0001", "Чайник электрический", Decimal("2590.00"), (("wh-msk", 7),)),
    OfferLine("b1a7-0002", "Чайник стеклянный", Decimal("3100.50"), (("wh-msk", 4), ("wh-spb", 2))),
    OfferLine("b1a7-0003", "Азбука", Decimal("450.00"), (("wh-spb", 12),)),
]


@pytest.fixture
def onec(live: LiveServer) -> Iterator[OneC]:
    """A 1C that signs in with its own key, to a Potok whose warehouses 1C knows by Ид."""
    build_world(live.potok)
    saved = live.potok.settings.onec
    live.potok.settings.onec = OnecSettings(
        schema_file=commerceml_schema_path(),
        warehouses={"wh-msk": "MSK", "wh-spb": "SPB"},
        file_limit_bytes=2048,  # so that the files go in several parts
    )
    secret = key_for(live.potok, Permission.ERP_EXCHANGE, name="1c-trade")
    with OneC(live.url, "1c-trade", secret) as client:
        yield client
    live.potok.settings.onec = saved


def files() -> list[tuple[str, bytes]]:
    return [
        ("import.xml", catalogue_xml(ITEMS, groups=GROUPS, properties=PROPERTIES)),
        ("offers.xml", offers_xml(OFFERS, warehouses=WAREHOUSES)),
    ]


def product(api: httpx.Client, sku: str) -> dict[str, Any]:
    answer = api.get(f"/api/v1/products/{sku}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_1c_sends_its_catalogue_and_offers_and_potok_takes_them_once(
    onec: OneC, api: httpx.Client
) -> None:
    before = levels(api)
    exchange = onec.send_catalogue(files())
    assert onec.zip
    assert onec.file_limit == 2048
    assert sum(1 for step, _ in exchange.steps if step == "file") > 1  # sent in parts
    imported = [lines for step, lines in exchange.steps if step == "import"]
    assert imported[0][0] == "success", imported
    assert imported[1] == [
        "success",
        "offers.xml: 0 products created, 3 changed, 4 stock levels changed",
    ]

    kettle = product(api, "KET")  # known before: renamed, priced as 1C says
    assert (kettle["name"], kettle["price"], kettle["vat_rate"]) == (
        "Чайник электрический",
        "2590.00",
        "22.00",
    )
    glass = product(api, "KT-200")
    assert (glass["name"], glass["price"], glass["barcode"], glass["vat_rate"]) == (
        "Чайник стеклянный",
        "3100.50",
        "4600000000015",
        "22.00",
    )
    assert (product(api, "BOOK-1")["price"], product(api, "BOOK-1")["vat_rate"]) == (
        "450.00",
        "10.00",
    )
    after = levels(api)
    assert after[("MSK", "KET")][0] == 7
    assert after[("MSK", "KT-200")][0] == 4
    assert after[("SPB", "KT-200")][0] == 2
    assert after[("SPB", "BOOK-1")][0] == 12
    assert {k: v for k, v in after.items() if k[1] not in ("KT-200", "BOOK-1", "KET")} == {
        k: v for k, v in before.items() if k[1] not in ("KT-200", "BOOK-1", "KET")
    }
    moved = movements(api, sku="KT-200")
    assert {(m["warehouse"], m["type"], m["quantity"]) for m in moved} == {
        ("MSK", "import", 4),
        ("SPB", "import", 2),
    }

    again = onec.send_catalogue(files())  # the next scheduled exchange, nothing new in 1C
    assert again.last("import") == [
        "success",
        "offers.xml: 0 products created, 0 changed, 0 stock levels changed",
    ]
    assert [m["id"] for m in movements(api, sku="KT-200")] == [m["id"] for m in moved]


def categories(api: httpx.Client) -> list[tuple[str, str, list[str]]]:
    return [(c["code"], c["name"], c["path"]) for c in api.get("/api/v1/categories").json()]


def test_1c_groups_become_the_category_tree_and_products_go_into_them(
    onec: OneC, api: httpx.Client, live: LiveServer
) -> None:
    onec_potok = live.potok
    onec.send_catalogue(files())

    assert categories(api) == [
        ("g-kitchen", "Кухня", ["g-kitchen"]),
        ("g-kettles", "Чайники", ["g-kitchen", "g-kettles"]),
    ]
    assert [product(api, sku)["category"] for sku in ("KET", "KT-200", "BOOK-1")] == [
        "g-kettles",
        "g-kettles",
        "g-kitchen",
    ]
    assert events(onec_potok, "category.created") == 2
    renamed = [("g-kitchen", "Кухня и дом", None), ("g-kettles", "Электрочайники", None)]
    onec.send_catalogue(
        [("import.xml", catalogue_xml(ITEMS, groups=renamed, properties=PROPERTIES))]
    )
    assert categories(api) == [
        ("g-kettles", "Электрочайники", ["g-kettles"]),
        ("g-kitchen", "Кухня и дом", ["g-kitchen"]),
    ]
    onec.send_catalogue(
        [("import.xml", catalogue_xml(ITEMS, groups=renamed, properties=PROPERTIES))]
    )
    assert events(onec_potok, "category.updated") == 2  # the same groups again: no change


def test_an_upload_broken_off_is_sent_again_and_applied_once(onec: OneC, api: httpx.Client) -> None:
    broken = onec.send_catalogue(files(), broken_after=1)
    assert [step for step, _ in broken.steps] == ["checkauth", "init", "file"]
    # what arrived of the zip is not a zip: 1C is told, and nothing is applied
    half = onec.step(broken, "catalog", "import", filename="import.xml")
    assert half[0] == "failure"
    assert "import_files.zip" in half[1]
    with pytest.raises(AssertionError):
        product(api, "KT-200")

    exchange = onec.send_catalogue(files())  # 1C starts over: init forgets the broken parts
    assert exchange.last("import")[0] == "success"
    assert levels(api)[("SPB", "KT-200")][0] == 2
    assert len(movements(api, sku="KT-200")) == 2


def test_without_zip_each_file_is_sent_in_its_own_parts(
    onec: OneC, live: LiveServer, api: httpx.Client
) -> None:
    live.potok.settings.onec.zip = False
    exchange = onec.send_catalogue(files())
    assert not onec.zip
    assert exchange.last("import")[0] == "success"
    assert levels(api)[("MSK", "KET")][0] == 7


def refused(onec: OneC, name: str, content: bytes) -> list[str]:
    """Upload one file as 1C would, unzipped, and import it: the answer's lines."""
    exchange = Exchange()
    onec.start(exchange, "catalog")
    onec.upload(exchange, "catalog", name, content)
    return onec.step(exchange, "catalog", "import", filename=name)


def test_a_refused_file_names_its_line_and_element_and_changes_nothing(
    onec: OneC, live: LiveServer, api: httpx.Client
) -> None:
    live.potok.settings.onec.zip = False
    onec.send_catalogue(files())
    before = levels(api)
    unknown = offers_xml(
        [*OFFERS[:2], OfferLine("no-such-id", "Неизвестный", Decimal("1.00"), (("wh-msk", 1),))],
        warehouses=WAREHOUSES,
    )
    assert refused(onec, "offers.xml", unknown) == [
        "failure",
        "offers.xml, line 6, <Ид>: no product with Ид no-such-id came in import.xml; "
        "send the catalogue first",
    ]
    far = offers_xml(
        [OfferLine("b1a7-0001", "Чайник", Decimal("1.00"), (("wh-ekb", 1),))],
        warehouses=[("wh-ekb", "Екатеринбург")],
    )
    answer = refused(onec, "offers.xml", far)
    assert answer[0] == "failure"
    assert "line 4, <Склад>: warehouse wh-ekb" in answer[1]
    by_weight = catalogue_xml([Item("b1a7-0009", "SUGAR", "Сахар", unit="166")])
    answer = refused(onec, "import.xml", by_weight)
    assert answer[0] == "failure"
    assert answer[1].startswith("import.xml, line 5, <БазоваяЕдиница>: unit '166'")
    torn = files()[0][1][:700]
    answer = refused(onec, "import.xml", torn)
    assert answer[0] == "failure"
    assert "not well-formed XML" in answer[1]
    nameless = catalogue_xml(ITEMS).replace("<Наименование>Азбука</Наименование>".encode(), b"")
    answer = refused(onec, "import.xml", nameless)
    assert answer[0] == "failure"
    assert "does not match CommerceML 2.10" in answer[1]
    assert "<БазоваяЕдиница>" in answer[1]  # the element found where the name should be
    assert levels(api) == before
    assert product(api, "BOOK-1")["name"] == "Азбука"


def test_a_file_with_a_doctype_is_refused_before_any_entity_is_read(
    onec: OneC, live: LiveServer, tmp_path: Any
) -> None:
    live.potok.settings.onec.zip = False
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = catalogue_xml(ITEMS).decode()
    head, rest = body.split("\n", 1)
    evil = (
        f'{head}\n<!DOCTYPE x [<!ENTITY leak SYSTEM "file://{secret}">]>\n'
        + rest.replace("Азбука", "&leak;")
    ).encode()
    answer = refused(onec, "import.xml", evil)
    assert answer[0] == "failure"
    assert "DOCTYPE" in answer[1]
    assert "TOP-SECRET" not in "\n".join(answer)


def test_1c_signs_in_with_a_key_that_has_the_exchange_scope(onec: OneC, live: LiveServer) -> None:
    path = "/api/v1/exchange/1c"
    with live.client(auth=("1c-trade", "pk_wrong_secret")) as wrong:
        answer = wrong.get(path, params={"type": "catalog", "mode": "checkauth"})
    assert answer.status_code == 401
    assert answer.json()["code"] == "bad-credentials"
    other = key_for(live.potok, Permission.STOCK_WRITE, name="stock-only")
    with live.client(auth=("stock-only", other)) as stock_only:
        answer = stock_only.get(path, params={"type": "catalog", "mode": "checkauth"})
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"
    answer = onec.call("catalog", "init")  # no cookie: checkauth first
    assert answer.text.splitlines() == [
        "failure",
        "Start the exchange with mode=checkauth and send its cookie.",
    ]
    answer = onec.call("catalog", "checkauth")
    assert answer.text.splitlines()[:2] == ["success", "potok_1c"]


def place(api: httpx.Client, lines: list[tuple[str, int]], channel: str = "web") -> dict[str, Any]:
    answer = api.post("/api/v1/orders", json=order_body(lines, channel=channel))
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_orders_go_to_1c_and_count_as_taken_only_after_its_success(
    onec: OneC, live: LiveServer, api: httpx.Client
) -> None:
    onec.send_catalogue(files())
    first = place(api, [("KET", 1), ("MUG", 2)])
    second = place(api, [("KT-200", 1)], channel="app")

    _, unconfirmed = take_orders(onec, confirm=False)  # 1C breaks off before `success`
    assert schema_errors(unconfirmed) == []
    sent = orders_in(unconfirmed)
    assert [o["id"] for o in sent] == [str(first["id"]), str(second["id"])]
    assert sent[0]["lines"] == [
        ("b1a7-0001", "KET", "1", "2590.00"),  # 1C's own Ид for what came from 1C
        ("MUG", "MUG", "2", "390.00"),
    ]
    assert sent[0]["sum"] == first["totals"]["total"]
    assert sent[0]["buyer"] == f"Покупатель заказа {first['id']}"  # no personal_data:read
    assert sent[1]["requisites"]["Заказ оплачен"] == "false"

    _, again = take_orders(onec)  # the success never came: the same orders go again
    assert [o["id"] for o in orders_in(again)] == [str(first["id"]), str(second["id"])]
    _, nothing = take_orders(onec)
    assert orders_in(nothing) == []

    news = [
        OrderNews(first["id"], Decimal(first["totals"]["total"]), cancelled=True),
        OrderNews(second["id"], Decimal(second["totals"]["total"]), paid_on="2026-12-06T12:30:00"),
    ]
    assert send_order_news(onec, news) == [
        "success",
        "orders-1c.xml: 1 orders cancelled, 1 paid",
    ]
    assert api.get(f"/api/v1/orders/{first['id']}").json()["status"] == "cancelled"
    assert api.get(f"/api/v1/orders/{second['id']}").json()["payment_status"] == "paid"
    _, nothing = take_orders(onec)  # 1C made those changes itself: nothing to take back
    assert orders_in(nothing) == []
    assert send_order_news(onec, news) == [  # the same file again changes nothing
        "success",
        "orders-1c.xml: 0 orders cancelled, 0 paid",
    ]

    changed = api.post(
        f"/api/v1/orders/{second['id']}/cancellation", json={"reason": "customer called"}
    )
    assert changed.status_code == 200, changed.text
    _, news_of_potok = take_orders(onec)
    sent = orders_in(news_of_potok)
    assert [o["id"] for o in sent] == [str(second["id"])]
    assert sent[0]["requisites"]["Отменен"] == "true"

    unknown = send_order_news(onec, [OrderNews(999999, Decimal("1.00"), cancelled=True)])
    assert unknown == [
        "failure",
        "orders-1c.xml, line 3, <Ид>: 999999 is not an order Potok sent",
    ]
