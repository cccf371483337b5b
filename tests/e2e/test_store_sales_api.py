"""A store's till sends a day of receipts, then (after an outage) sends them all again:
the store's stock and what the web may promise from it follow exactly once, on SQLite and
PostgreSQL, and the store's counter sales read back as their own channel."""

from __future__ import annotations

from typing import Any

import httpx

from potok.services import events
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import levels, movements
from tests.factories import build_world

STORE = "MSK-S"


def receipt(number: int, lines: list[tuple[str, int, str]], kind: str = "sale") -> dict[str, Any]:
    return {
        "id": f"T2-{number:06d}",
        "kind": kind,
        "sold_at": f"2026-12-06T{9 + number // 10:02d}:{number % 60:02d}:00+03:00",
        "till": "till-2",
        "lines": [{"sku": s, "quantity": q, "price": p} for s, q, p in lines],
    }


def day_of_receipts() -> list[dict[str, Any]]:
    """Twenty sales of kettles and mugs and one mug brought back."""
    sales = [
        receipt(n, [("KET", 1, "2490.00")] + ([("MUG", 1, "390.00")] if n % 4 == 0 else []))
        for n in range(1, 21)
    ]
    back = receipt(21, [("MUG", 1, "390.00")], kind="return")
    return [*sales, back]


def available_at_store(api: httpx.Client, sku: str) -> int:
    answer = api.get(f"/api/v1/products/{sku}/availability")
    assert answer.status_code == 200, answer.text
    (found,) = [w for w in answer.json()["warehouses"] if w["warehouse"] == STORE]
    return int(found["available"])


def test_a_day_of_receipts_sent_twice_moves_the_store_stock_once(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world(live.potok, stock={(STORE, "KET"): 30, (STORE, "MUG"): 12, ("MSK", "KET"): 5})
    day = day_of_receipts()
    morning, afternoon = day[:12], day[12:]
    first = api.post(f"/api/v1/stores/{STORE}/receipts", json={"receipts": morning})
    assert first.status_code == 201, first.text
    assert first.json()["recorded"] == [r["id"] for r in morning]
    assert first.json()["duplicates"] == []
    second = api.post(f"/api/v1/stores/{STORE}/receipts", json={"receipts": afternoon})
    assert second.status_code == 201, second.text
    assert {p["sku"]: p["on_hand"] for p in second.json()["positions"]} == {"KET": 10, "MUG": 8}

    # the till was offline and lost its acknowledgements: it sends its whole backlog again
    backlog = api.post(f"/api/v1/stores/{STORE}/receipts", json={"receipts": day})
    assert backlog.status_code == 201, backlog.text
    assert backlog.json()["recorded"] == []
    assert backlog.json()["duplicates"] == [r["id"] for r in day]

    stock = levels(api)
    assert stock[(STORE, "KET")][0] == 30 - 20
    assert stock[(STORE, "MUG")][0] == 12 - 5 + 1
    assert stock[("MSK", "KET")][0] == 5
    assert available_at_store(api, "KET") == 10
    moved = [
        (m["type"], m["quantity"])
        for m in movements(api, warehouse=STORE)
        if m["type"].startswith("store_")
    ]
    # one movement per product and batch; the afternoon's mug return nets with its sales
    assert sorted(moved) == [
        ("store_sale", -12),
        ("store_sale", -8),
        ("store_sale", -3),
        ("store_sale", -1),
    ]

    report = api.get(
        "/api/v1/stores/sales",
        params={"since": "2026-12-06T00:00:00+03:00", "until": "2026-12-07T00:00:00+03:00"},
    )
    assert report.status_code == 200, report.text
    assert report.json() == [
        {
            "store": STORE,
            "channel": f"store:{STORE}",
            "sales": 20,
            "returns": 1,
            "units_sold": 25,
            "units_returned": 1,
            "revenue": "51360.00",  # 20 x 2490 + 5 x 390 - 390
        }
    ]
    events.sequence_events(live.potok.uow(), 1000)
    feed = api.get("/api/v1/events", params={"after": "0", "type": "store.*", "limit": 100})
    assert feed.status_code == 200, feed.text
    assert [e["data"]["receipt_id"] for e in feed.json()["items"]] == [r["id"] for r in day]


def test_a_receipt_is_never_changed_and_only_stores_have_tills(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world(live.potok, stock={(STORE, "KET"): 3, ("MSK", "KET"): 3})
    sale = receipt(1, [("KET", 1, "2490.00")])
    assert (
        api.post(f"/api/v1/stores/{STORE}/receipts", json={"receipts": [sale]}).status_code == 201
    )
    edited = {**sale, "lines": [{"sku": "KET", "quantity": 2, "price": "2490.00"}]}
    answer = api.post(f"/api/v1/stores/{STORE}/receipts", json={"receipts": [edited]})
    assert answer.status_code == 409
    assert answer.json()["code"] == "receipt-changed"
    answer = api.post(
        "/api/v1/stores/MSK/receipts", json={"receipts": [receipt(2, [("KET", 1, "1.00")])]}
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "not-a-store"
    unknown = receipt(3, [("NOPE", 1, "1.00")])
    answer = api.post(f"/api/v1/stores/{STORE}/receipts", json={"receipts": [unknown]})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "receipts[0].lines[0].sku"
    # sold over the counter beyond what Potok counted: on-hand stops at zero, and says why
    over = receipt(4, [("KET", 5, "2490.00")])
    answer = api.post(f"/api/v1/stores/{STORE}/receipts", json={"receipts": [over]})
    assert answer.status_code == 201, answer.text
    assert answer.json()["positions"][0]["on_hand"] == 0
    (last,) = [m for m in movements(api, warehouse=STORE, sku="KET") if m["quantity"] == -2]
    assert last["reason"] == "till receipts at MSK-S (3 sold beyond the books)"
    assert levels(api)[("MSK", "KET")][0] == 3


RECEIPTS_CSV = """магазин;чек;вид;время;касса;артикул;количество;цена
MSK-S;K1-0001;продажа;06.12.2026 10:15;касса 1;KET;1;2490,00
MSK-S;K1-0001;продажа;06.12.2026 10:15;касса 1;MUG;2;390,00
MSK-S;K1-0002;возврат;06.12.2026 11:40;касса 1;MUG;1;390,00
"""


def test_a_store_without_a_connected_till_sends_its_receipts_as_a_file(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world(live.potok, stock={(STORE, "KET"): 4, (STORE, "MUG"): 6})
    headers = {"Content-Type": "text/csv"}
    answer = api.put("/api/v1/files/store-receipts", content=RECEIPTS_CSV.encode(), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "kind": "store-receipts",
        "rows": 3,
        "changed": 2,
        "created": 2,
        "unchanged": 1,
    }
    again = api.put("/api/v1/files/store-receipts", content=RECEIPTS_CSV.encode(), headers=headers)
    assert again.json()["changed"] == 0
    stock = levels(api)
    assert (stock[(STORE, "KET")][0], stock[(STORE, "MUG")][0]) == (3, 5)

    bad = RECEIPTS_CSV.replace("K1-0002;возврат", "K1-0003;обмен").replace(";MUG;2;", ";NOPE;2;")
    refused = api.put("/api/v1/files/store-receipts", content=bad.encode(), headers=headers)
    assert refused.status_code == 422
    assert [(p["row"], p["column"]) for p in refused.json()["problems"]] == [
        (3, "sku"),
        (4, "kind"),
    ]
    stock = levels(api)
    assert (stock[(STORE, "KET")][0], stock[(STORE, "MUG")][0]) == (3, 5)
