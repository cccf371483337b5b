"""Stock KPIs and the stored forecast over HTTP: the stock report a page at a time, the
newest run with one SKU's days, and reorder suggestions read from the stored run (not
forecast again) against the stock now; 404 before any run, a problem when the run does
not reach far enough, nothing for a key bound to a channel.

The history (tests.integration.test_forecasting): KET 40 on hand, two sold a day for 14
days; TOY none until day 5, then 10, one sold a day. Figures worked out there by hand."""

from __future__ import annotations

from datetime import date

import httpx

from potok.domain.inventory.commands import ReceiveStock
from potok.services import forecasting, inventory
from tests.conftest import LiveServer, key_for
from tests.factories import TESTER
from tests.integration.test_forecasting import _history

SUGGESTIONS = "/api/v1/forecasts/latest/reorder-suggestions"


def test_the_stock_report_a_page_at_a_time(live: LiveServer, api: httpx.Client) -> None:
    _history(live.potok)
    inventory.receive_stock(live.potok.uow(), ReceiveStock("MSK", "MUG", 5), TESTER)
    params = {"until": "2026-11-14", "days": 14, "limit": 2}
    first = api.get("/api/v1/reports/stock", params=params)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [(i["warehouse"], i["sku"]) for i in body["items"]] == [("MSK", "KET"), ("MSK", "MUG")]
    ket = body["items"][0]
    assert (ket["sold"], ket["turnover"], ket["days_of_cover"], ket["value"]) == (
        28,
        0.7,
        6.0,
        "99600.00",
    )
    second = api.get("/api/v1/reports/stock", params={**params, "cursor": body["next_cursor"]})
    assert [i["sku"] for i in second.json()["items"]] == ["TOY"]
    assert second.json()["next_cursor"] is None
    dead = api.get("/api/v1/reports/stock", params={**params, "dead": "true"}).json()
    assert [(i["sku"], i["dead"]) for i in dead["items"]] == [("MUG", True)]
    bad = api.get("/api/v1/reports/stock", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"
    shop = live.client(
        headers={"Authorization": f"Bearer {key_for(live.potok, channel='web', name='shop')}"}
    )
    assert shop.get("/api/v1/reports/stock", params=params).json()["items"] == []


def test_reorder_suggestions_read_the_stored_run(live: LiveServer, api: httpx.Client) -> None:
    _history(live.potok)
    before = api.get(SUGGESTIONS)
    assert before.status_code == 200  # no run stored yet: nothing to suggest
    assert (before.json()["run"], before.json()["items"]) == (None, [])
    stored = forecasting.run_forecast(live.potok.uow(), date(2026, 11, 14), days=14)

    found = api.get(SUGGESTIONS)
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["run"]["id"], body["run"]["until"], body["run"]["horizon"]) == (
        stored.id,
        "2026-11-14",
        28,
    )
    assert body["run"]["series"] == 2
    assert [
        (i["sku"], i["reorder_point"], i["order_up_to"], i["position"], i["suggested_quantity"])
        for i in body["items"]
    ] == [("KET", 14, 28, 12, 16), ("TOY", 7, 14, 1, 13)]

    # the stock moves, the stored run does not: KET's position 12 + 20 covers its point
    inventory.receive_stock(live.potok.uow(), ReceiveStock("MSK", "KET", 20), TESTER)
    again = api.get(SUGGESTIONS).json()
    assert [i["sku"] for i in again["items"]] == ["TOY"]
    every = api.get(SUGGESTIONS, params={"all": "true"}).json()["items"]
    assert [(i["sku"], i["position"], i["suggested_quantity"]) for i in every] == [
        ("KET", 32, 0),
        ("TOY", 1, 13),
    ]

    too_far = api.get(SUGGESTIONS, params={"lead_days": 30})
    assert too_far.status_code == 422
    assert too_far.json()["code"] == "forecast-too-short"
    bad_level = api.get(SUGGESTIONS, params={"service_level": "0.5"})
    assert bad_level.status_code == 422

    shop = live.client(
        headers={"Authorization": f"Bearer {key_for(live.potok, channel='web', name='shop')}"}
    )
    assert shop.get(SUGGESTIONS).json()["items"] == []


def test_the_newest_run_with_one_skus_days(live: LiveServer, api: httpx.Client) -> None:
    _history(live.potok)
    assert api.get("/api/v1/forecasts/latest").json() == {"run": None, "series": []}
    forecasting.run_forecast(live.potok.uow(), date(2026, 11, 14), days=14)
    head = api.get("/api/v1/forecasts/latest").json()
    assert (head["run"]["series"], head["series"]) == (2, [])
    assert "too few for a backtest" in head["run"]["notes"][0]
    toy = api.get("/api/v1/forecasts/latest", params={"sku": "TOY"}).json()
    (series,) = toy["series"]
    assert (series["warehouse"], series["method"], len(series["days"])) == (
        "MSK",
        "seasonal_naive",
        28,
    )
    assert series["days"][0] == {"day": "2026-11-15", "units": 1.0, "low": 1.0, "high": 1.0}
    assert series["note"] == "9 days of known demand: the baseline, not a fitted method"


POS = "/api/v1/forecasts/latest/purchase-orders"
TRANSFERS = "/api/v1/forecasts/latest/transfers"


def test_a_purchase_order_from_the_suggestions_once(live: LiveServer, api: httpx.Client) -> None:
    """KET wants 16 (up to 28 from 12), TOY 13 (up to 14 from 1): one order for both; the
    same again finds them ordered; the same key answers with the first order."""
    _history(live.potok)
    body = {"supplier": "ООО Чайники", "warehouse": "MSK"}
    assert api.post(POS, json=body).json()["code"] == "no-forecast-run"
    forecasting.run_forecast(live.potok.uow(), date(2026, 11, 14), days=14)

    made = api.post(POS, json=body, headers={"Idempotency-Key": "po-1"})
    assert made.status_code == 201, made.text
    order = made.json()
    assert (order["supplier"], order["warehouse"]) == ("ООО Чайники", "MSK")
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [
        ("KET", 16),
        ("TOY", 13),
    ]
    replay = api.post(POS, json=body, headers={"Idempotency-Key": "po-1"})
    assert replay.status_code == 201
    assert replay.json()["number"] == order["number"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    again = api.post(POS, json=body)
    assert again.status_code == 422
    assert again.json()["code"] == "nothing-to-reorder"
    listed = api.get("/api/v1/purchase-orders", params={"warehouse": "MSK"}).json()["items"]
    assert [o["number"] for o in listed] == [order["number"]]
    # what the order brings now counts in the suggestions: nothing left to order
    assert api.get(SUGGESTIONS).json()["items"] == []


def test_a_transfer_from_the_suggestions_moves_what_the_source_has(
    live: LiveServer, api: httpx.Client
) -> None:
    """SPB holds 10 KET and no TOY: the transfer to MSK asks for 10 of KET's 16, and says
    the rest and TOY's 13 were lacking; asked again, the requested transfer counts."""
    _history(live.potok)
    inventory.receive_stock(live.potok.uow(), ReceiveStock("SPB", "KET", 10), TESTER)
    forecasting.run_forecast(live.potok.uow(), date(2026, 11, 14), days=14)
    body = {"warehouse": "MSK", "from_warehouse": "SPB"}
    made = api.post(TRANSFERS, json=body)
    assert made.status_code == 201, made.text
    transfer = made.json()
    assert (transfer["from_warehouse"], transfer["to_warehouse"], transfer["status"]) == (
        "SPB",
        "MSK",
        "requested",
    )
    assert [(line["sku"], line["quantity"]) for line in transfer["lines"]] == [("KET", 10)]
    assert transfer["comment"] == "from reorder suggestions; SPB lacked: KET 6, TOY 13"
    again = api.post(TRANSFERS, json={**body, "skus": ["KET"]})
    assert again.status_code == 422  # 16 wanted, 10 requested: 6 more, and SPB has none
    assert again.json()["code"] == "nothing-to-reorder"
    same = api.post(TRANSFERS, json={"warehouse": "MSK", "from_warehouse": "MSK"})
    assert same.status_code == 422
    assert same.json()["errors"][0]["field"] == "from_warehouse"
    twice = api.post(TRANSFERS, json={**body, "skus": ["KET", "KET"]})
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["field"] == "skus[1]"


def test_a_transfer_from_the_suggestions_never_takes_the_source_below_its_reorder_point(
    live: LiveServer, api: httpx.Client
) -> None:
    """SPB holds 10 KET and keeps at least 6 (its min/max rule): 4 go, and the comment
    says why the rest stayed."""
    from potok.domain.inventory.replenishment import SetStockRule
    from potok.services import replenishment

    _history(live.potok)
    inventory.receive_stock(live.potok.uow(), ReceiveStock("SPB", "KET", 10), TESTER)
    replenishment.set_rule(live.potok.uow(), SetStockRule("SPB", "KET", 6, 20), TESTER)
    forecasting.run_forecast(live.potok.uow(), date(2026, 11, 14), days=14)

    made = api.post(TRANSFERS, json={"warehouse": "MSK", "from_warehouse": "SPB"})

    assert made.status_code == 201, made.text
    assert [(line["sku"], line["quantity"]) for line in made.json()["lines"]] == [("KET", 4)]
    assert made.json()["comment"] == (
        "from reorder suggestions; SPB lacked: KET 12, TOY 13; SPB keeps its reorder point: KET 6"
    )
    again = api.post(TRANSFERS, json={"warehouse": "MSK", "from_warehouse": "SPB"})
    assert again.json()["code"] == "nothing-to-reorder"  # the 4 requested count as promised
