"""Legal entities and documents over HTTP: register, sell an order to a buyer, issue,
download the same bytes, correct; bad requisites and missing ones answered as problems;
callers limited to a channel or warehouses see only what is theirs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from potok.domain.access import Permission, Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer, key_for
from tests.documents_support import fns_schema, pdf_text, xsd_errors
from tests.factories import build_world_api, order_body
from tests.problems import problem

SELLER: dict[str, Any] = {
    "code": "potok",
    "role": "seller",
    "name": "Общество с ограниченной ответственностью «Поток»",
    "short_name": "ООО «Поток»",
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
    "address": "101000, г. Москва, ул. Мясницкая, д. 1",
    "bank_accounts": [
        {
            "bank_name": "ПАО Сбербанк",
            "bik": "044525225",
            "correspondent_account": "30101810400000000225",
            "account": "40702810883800000000",
        }
    ],
    "signatories": [
        {
            "role": "head",
            "last_name": "Иванов",
            "first_name": "Иван",
            "middle_name": "Иванович",
            "position": "Генеральный директор",
        }
    ],
    "edo_id": "2BM-7707083893-773601001",
    "is_default": True,
}
BUYER: dict[str, Any] = {
    "code": "yandex",
    "role": "buyer",
    "name": "Общество с ограниченной ответственностью «Яндекс»",
    "inn": "7736207543",
    "kpp": "770401001",
    "address": "119021, г. Москва, ул. Льва Толстого, д. 16",
    "edo_id": "2BE-7736207543",
}


def setup(api: httpx.Client) -> int:
    build_world_api(api, {("MSK", "KET"): 20, ("MSK", "MUG"): 20})
    for body in (SELLER, BUYER):
        assert api.post("/api/v1/legal-entities", json=body).status_code == 201
    created = api.post("/api/v1/orders", json=order_body([("KET", 2), ("MUG", 3)]))
    assert created.status_code == 201, created.text
    order_id: int = created.json()["id"]
    return order_id


def test_an_order_documents_from_issue_to_correction(api: httpx.Client) -> None:
    order_id = setup(api)
    order = api.get(f"/api/v1/orders/{order_id}")
    buyer = api.put(
        f"/api/v1/orders/{order_id}/buyer",
        json={"legal_entity": "yandex"},
        headers={"If-Match": order.headers["ETag"]},
    )
    assert buyer.status_code == 200, buyer.text
    assert buyer.json()["history"][-1]["action"] == "buyer_set"

    issued = api.post(f"/api/v1/orders/{order_id}/documents", json={"kind": "upd"})
    assert issued.status_code == 201, issued.text
    document = issued.json()
    assert (document["kind"], document["number"], document["upd_status"]) == ("upd", 1, 1)
    assert document["total"] == "6150.00"
    assert document["buyer"] == "Общество с ограниченной ответственностью «Яндекс»"

    pdf = api.get(document["links"]["pdf"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "upd-" in pdf.headers["content-disposition"]
    text = " ".join(pdf_text(pdf.content).split())
    assert "Всего к оплате (9) 5 040,99 X 1 109,01 6 150,00" in text

    again = api.post(f"/api/v1/orders/{order_id}/documents", json={"kind": "upd"})
    assert again.status_code == 200
    assert again.json()["id"] == document["id"]
    assert api.get(document["links"]["pdf"]).content == pdf.content

    xml = api.get(document["links"]["xml"])
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-type"].startswith("application/xml")
    assert (
        "ON_NSCHFDOPPR_2BE-7736207543_2BM-7707083893-773601001_"
        in xml.headers["content-disposition"]
    )
    assert xsd_errors(fns_schema(), xml.content) == []

    fixed = api.post(
        f"/api/v1/documents/{document['id']}/corrections", headers={"Idempotency-Key": "fix-1"}
    )
    assert fixed.status_code == 201, fixed.text
    replay = api.post(
        f"/api/v1/documents/{document['id']}/corrections", headers={"Idempotency-Key": "fix-1"}
    )
    assert replay.status_code == 201
    assert replay.json() == fixed.json()
    assert fixed.json()["corrects"] == document["id"]
    assert fixed.json()["correction_no"] == 1
    listed = api.get("/api/v1/documents", params={"order_id": order_id}).json()["items"]
    assert [d["id"] for d in listed] == [fixed.json()["id"], document["id"]]
    assert listed[1]["corrected_by"] == fixed.json()["id"]


def test_wrong_requisites_are_refused_on_entry_each_named(api: httpx.Client) -> None:
    bad = {
        **BUYER,
        "inn": "7736207544",
        "bank_accounts": [
            {
                "bank_name": "ПАО Сбербанк",
                "bik": "044525225",
                "correspondent_account": "30101810400000000225",
                "account": "40702810883800000001",
            }
        ],
    }
    answer = api.post("/api/v1/legal-entities", json=bad)
    body = problem(answer, 422, "invalid-input")
    assert {e["field"]: e["code"] for e in body["errors"]} == {
        "inn": "bad-inn",
        "bank_accounts[0].account": "bad-account",
    }
    strict = api.post("/api/v1/legal-entities", json={**BUYER, "vat_payer": "yes"})
    problem(strict, 422, "invalid-input")
    assert api.get("/api/v1/legal-entities").json()["items"] == []


def test_documents_refused_with_what_to_fill_in(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order_id = api.post("/api/v1/orders", json=order_body([("KET", 1)])).json()["id"]
    in_russian = problem(
        api.post(
            f"/api/v1/orders/{order_id}/documents",
            json={"kind": "invoice"},
            headers={"Accept-Language": "ru"},
        ),
        422,
        "seller-missing",
    )
    assert in_russian["title"] == "У заказа нет продавца для документов"
    assert in_russian["channel"] == "web"
    assert api.post("/api/v1/legal-entities", json=SELLER).status_code == 201
    assert (
        api.post(
            "/api/v1/legal-entities", json={"code": "noinn", "role": "buyer", "name": "ООО «Б»"}
        ).status_code
        == 201
    )
    api.put(f"/api/v1/orders/{order_id}/buyer", json={"legal_entity": "noinn"}).raise_for_status()
    refused = problem(
        api.post(f"/api/v1/orders/{order_id}/documents", json={"kind": "torg12"}),
        422,
        "requisites-missing",
    )
    assert refused["missing"] == ["legal entity 'noinn': its ИНН (inn)"]
    problem(
        api.post(f"/api/v1/orders/{order_id}/documents", json={"kind": "invoice", "upd_status": 1}),
        422,
        "invalid-input",
    )
    problem(api.get("/api/v1/documents/999999/pdf"), 404, "document-not-found")


def test_a_channel_bound_key_sees_only_its_channels_documents(
    live: LiveServer, api: httpx.Client
) -> None:
    setup(api)
    phone_order = api.post("/api/v1/orders", json=order_body([("MUG", 1)], channel="phone")).json()[
        "id"
    ]
    web_doc = api.get("/api/v1/documents").json()["items"]
    assert web_doc == []
    web_order = api.get("/api/v1/orders", params={"channel": "web"}).json()["items"][0]["id"]
    mine = api.post(f"/api/v1/orders/{web_order}/documents", json={"kind": "invoice"}).json()
    theirs = api.post(f"/api/v1/orders/{phone_order}/documents", json={"kind": "invoice"}).json()
    secret = key_for(
        live.potok,
        Permission.ORDERS_READ,
        Permission.CATALOGUE_READ,
        channel="web",
        name="web-only",
    )
    with live.client(headers={"Authorization": f"Bearer {secret}"}) as web:
        assert [d["id"] for d in web.get("/api/v1/documents").json()["items"]] == [mine["id"]]
        assert web.get(f"/api/v1/documents/{mine['id']}/pdf").status_code == 200
        problem(web.get(f"/api/v1/documents/{theirs['id']}"), 404, "document-not-found")
        problem(web.get(f"/api/v1/documents/{theirs['id']}/pdf"), 404, "document-not-found")
        assert [e["code"] for e in web.get("/api/v1/legal-entities").json()["items"]] == ["potok"]
        problem(web.get("/api/v1/legal-entities/yandex"), 404, "legal-entity-not-found")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_warehouse_staff_see_documents_of_their_warehouses_orders(
    live: LiveServer, api: httpx.Client
) -> None:
    order_id = setup(api)
    document = api.post(f"/api/v1/orders/{order_id}/documents", json={"kind": "torg12"}).json()
    make_user(live.potok, "spb", Role.WAREHOUSE, warehouses=("SPB",))
    make_user(live.potok, "msk", Role.WAREHOUSE, warehouses=("MSK",))
    problem(
        sign_in(live.url, "spb").request("GET", f"/api/v1/documents/{document['id']}"),
        404,
        "document-not-found",
    )
    seen = sign_in(live.url, "msk").request("GET", f"/api/v1/documents/{document['id']}")
    assert seen.status_code == 200
