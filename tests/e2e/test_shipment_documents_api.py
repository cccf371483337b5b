"""A shipment's own ТОРГ-12 and УПД over HTTP: what it packed with each unit's marking
code; refused before packing, and (the УПД) while a marked unit lacks its code - naming
the product and how many codes are missing; the XML valid against the FNS schema with the
codes in it; an order's own УПД takes the codes its shipments captured."""

from __future__ import annotations

from typing import Any

import httpx

from potok.domain.access import Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.documents_support import fns_schema, pdf_text, xsd_errors
from tests.e2e.test_documents_api import BUYER, SELLER
from tests.e2e.test_fulfilment_api import marking, world
from tests.e2e.test_stock_api import place
from tests.problems import problem


def flat(pdf: bytes) -> str:
    return " ".join(pdf_text(pdf).split())


def sold_and_picked(api: httpx.Client) -> tuple[int, int, dict[str, int]]:
    """An order of two marked shoes and a mug, sold to the buyer, picked at MSK."""
    world(api)
    for body in (SELLER, BUYER):
        assert api.post("/api/v1/legal-entities", json=body).status_code == 201
    order = place(api, [("SHOE", 2), ("MUG", 1)])
    etag = api.get(f"/api/v1/orders/{order['id']}").headers["ETag"]
    sold = api.put(
        f"/api/v1/orders/{order['id']}/buyer",
        json={"legal_entity": "yandex"},
        headers={"If-Match": etag},
    )
    assert sold.status_code == 200, sold.text
    made = api.post(f"/api/v1/orders/{order['id']}/shipments", json={"warehouse": "MSK"})
    sid: int = made.json()[0]["id"]
    for code, quantity in (("SHOE", 2), ("MUG", 1)):
        picked = api.post(
            f"/api/v1/shipments/{sid}/picks", json={"code": code, "quantity": quantity}
        )
        assert picked.status_code == 201, picked.text
    items = {i["sku"]: i["item_no"] for i in api.get(f"/api/v1/shipments/{sid}").json()["items"]}
    return order["id"], sid, items


def pack(api: httpx.Client, sid: int, items: dict[str, int], codes: list[str]) -> None:
    body: dict[str, Any] = {
        "weight_g": 2000,
        "length_mm": 400,
        "width_mm": 300,
        "height_mm": 200,
        "items": [
            {"item_no": items["SHOE"], "quantity": 2, "marking_codes": codes},
            {"item_no": items["MUG"], "quantity": 1},
        ],
    }
    packed = api.post(f"/api/v1/shipments/{sid}/parcels", json=body)
    assert packed.status_code == 201, packed.text


def test_a_shipments_upd_carries_every_marking_code_and_waits_for_all_of_them(
    api: httpx.Client,
) -> None:
    order_id, sid, items = sold_and_picked(api)
    early = api.post(f"/api/v1/shipments/{sid}/documents", json={"kind": "upd"})
    problem(early, 409, "paper-not-ready")

    pack(api, sid, items, [marking("pair-1")])  # one shoe's code is not scanned
    body = problem(
        api.post(f"/api/v1/shipments/{sid}/documents", json={"kind": "upd"}),
        422,
        "requisites-missing",
    )
    assert len(body["missing"]) == 1
    assert body["missing"][0].startswith("the marking codes of SHOE: 1 of 2 not captured")
    order_upd = api.post(f"/api/v1/orders/{order_id}/documents", json={"kind": "upd"})
    assert problem(order_upd, 422, "requisites-missing")["missing"] == body["missing"]

    # a ТОРГ-12 has no place for codes: it is issued for what was packed
    torg12 = api.post(f"/api/v1/shipments/{sid}/documents", json={"kind": "torg12"})
    assert torg12.status_code == 201, torg12.text
    assert torg12.json()["shipment_id"] == sid
    assert torg12.json()["order_id"] == order_id
    assert torg12.json()["number"] == 1
    text = flat(api.get(torg12.json()["links"]["pdf"]).content)
    assert (
        "1 Кроссовки КМ 010465000000001021pair-1 SHOE шт 796 1,600 2 4 909,84 9 819,67 22 "
        "2 160,33 11 980,00 2 Mug MUG шт 796 0,330 1 319,67 319,67 22 70,33 390,00"
    ) in text
    assert "Всего по накладной 1,930 3 X 10 139,34 X 2 230,66 12 370,00" in text
    assert "Всего мест Одно" in text  # the shipment's one parcel

    assert api.delete(f"/api/v1/shipments/{sid}/parcels/1").status_code == 200
    pack(api, sid, items, [marking("pair-1"), marking("pair-2")])
    upd = api.post(
        f"/api/v1/shipments/{sid}/documents",
        json={"kind": "upd"},
        headers={"Idempotency-Key": "upd-1"},
    )
    assert upd.status_code == 201, upd.text
    document = upd.json()
    assert (document["kind"], document["number"], document["upd_status"]) == ("upd", 1, 1)
    assert document["total"] == "12370.00"  # 2 x 5990 + 390, no delivery on a shipment
    again = api.post(f"/api/v1/shipments/{sid}/documents", json={"kind": "upd"})
    assert again.status_code == 200
    assert again.json()["id"] == document["id"]

    xml = api.get(document["links"]["xml"])
    assert xml.status_code == 200, xml.text
    assert xsd_errors(fns_schema(), xml.content) == []
    content = xml.content.decode("cp1251")
    assert content.count("<КИЗ>") == 2
    assert "<КИЗ>010465000000001021pair-1</КИЗ>" in content
    assert "<КИЗ>010465000000001021pair-2</КИЗ>" in content

    # the order's own УПД now finds the codes its shipment captured
    whole = api.post(f"/api/v1/orders/{order_id}/documents", json={"kind": "upd"})
    assert whole.status_code == 201, whole.text
    assert whole.json()["shipment_id"] is None
    assert whole.json()["number"] == 2
    listed = api.get("/api/v1/documents", params={"shipment_id": sid}).json()["items"]
    assert [(d["kind"], d["shipment_id"]) for d in listed] == [("upd", sid), ("torg12", sid)]

    fixed = api.post(f"/api/v1/documents/{document['id']}/corrections")
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["shipment_id"] == sid
    assert fixed.json()["correction_no"] == 1


def test_a_shipment_has_no_invoice_and_warehouse_staff_issue_their_own(
    api: httpx.Client, live: LiveServer
) -> None:
    _, sid, items = sold_and_picked(api)
    pack(api, sid, items, [marking("pair-1"), marking("pair-2")])
    invoice = api.post(f"/api/v1/shipments/{sid}/documents", json={"kind": "invoice"})
    assert problem(invoice, 422, "invalid-input")["errors"][0]["field"] == "kind"

    make_user(live.potok, "spb-clerk", Role.WAREHOUSE, warehouses=("SPB",))
    other = sign_in(live.url, "spb-clerk")
    hidden = other.request("POST", f"/api/v1/shipments/{sid}/documents", json={"kind": "upd"})
    problem(hidden, 404, "shipment-not-found")
    make_user(live.potok, "msk-clerk", Role.WAREHOUSE, warehouses=("MSK",))
    own = sign_in(live.url, "msk-clerk")
    issued = own.request("POST", f"/api/v1/shipments/{sid}/documents", json={"kind": "torg12"})
    assert issued.status_code == 201, issued.text
    assert own.request("GET", issued.json()["links"]["pdf"]).status_code == 200
