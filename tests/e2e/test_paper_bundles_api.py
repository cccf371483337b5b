"""Warehouse papers of many orders in one PDF: what can be printed is, in the order given;
what cannot is left out and named, in the request's language; another warehouse's orders
are not there for warehouse staff."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx

from potok.domain.access import Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.documents_support import pdf_pages
from tests.e2e.test_documents_api import SELLER
from tests.e2e.test_fulfilment_api import world
from tests.e2e.test_stock_api import place
from tests.e2e.test_warehouse_papers_api import released
from tests.problems import problem


def left_out(answer: httpx.Response) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(unquote(answer.headers["potok-left-out"]))
    return found


def test_pick_lists_of_several_orders_in_one_pdf_and_what_was_left_out(
    api: httpx.Client,
) -> None:
    world(api)
    assert api.post("/api/v1/legal-entities", json=SELLER).status_code == 201
    first = released(api, [("MUG", 1)])
    second = released(api, [("KET", 1)])
    waiting = place(api, [("MUG", 1)])["id"]  # not sent to a warehouse yet

    order_ids = [second["order_id"], waiting, first["order_id"], 999_999]
    answer = api.post("/api/v1/papers/pick-lists", json={"order_ids": order_ids})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    pages = [" ".join(p.split()) for p in pdf_pages(answer.content)]
    assert len(pages) == 2
    assert f"отправление {second['order_id']}-1" in pages[0]  # in the order given
    assert f"отправление {first['order_id']}-1" in pages[1]
    reasons = {(r["order_id"], r["code"]) for r in left_out(answer)}
    assert reasons == {(waiting, "no-shipment-yet"), (999_999, "order-not-found")}

    # in Russian, the reasons are in Russian
    russian = api.post(
        "/api/v1/papers/pick-lists",
        json={"order_ids": [waiting, first["order_id"]]},
        headers={"Accept-Language": "ru"},
    )
    assert left_out(russian)[0]["title"] == "У заказа ещё нет отправления"

    # nothing packed yet: no packing slip to print, each order says why
    body = problem(
        api.post("/api/v1/papers/packing-slips", json={"order_ids": [first["order_id"]]}),
        422,
        "nothing-to-print",
    )
    assert [(r["order_id"], r["code"]) for r in body["left_out"]] == [
        (first["order_id"], "paper-not-ready")
    ]
    assert body["left_out"][0]["shipment"] == f"{first['order_id']}-1"
    too_many = api.post("/api/v1/papers/labels", json={"order_ids": list(range(1, 202))})
    problem(too_many, 422, "invalid-input")


def test_warehouse_staff_print_only_their_warehouses_orders(
    api: httpx.Client, live: LiveServer
) -> None:
    world(api)
    shipment = released(api, [("MUG", 1)])
    make_user(live.potok, "spb-picker", Role.WAREHOUSE, warehouses=("SPB",))
    spb = sign_in(live.url, "spb-picker")
    hidden = spb.request(
        "POST", "/api/v1/papers/pick-lists", json={"order_ids": [shipment["order_id"]]}
    )
    body = problem(hidden, 422, "nothing-to-print")
    assert [r["code"] for r in body["left_out"]] == ["order-not-found"]
    make_user(live.potok, "msk-picker", Role.WAREHOUSE, warehouses=("MSK",))
    msk = sign_in(live.url, "msk-picker")
    own = msk.request(
        "POST", "/api/v1/papers/pick-lists", json={"order_ids": [shipment["order_id"]]}
    )
    assert own.status_code == 200, own.text
    assert "potok-left-out" not in own.headers
