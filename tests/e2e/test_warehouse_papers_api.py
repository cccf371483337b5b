"""Warehouse papers over HTTP: a shipment's pick list while it is picked, its packing slip
once packed (lines, parcels, marking codes, the sum in words), the barcode on both decoded
from the rasterised page; a slip before packing or without a seller refused with what to
do; warehouse staff reach their warehouses' papers only."""

from __future__ import annotations

from typing import Any

import httpx
import zxingcpp

from potok.domain.access import Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.documents_support import first_page_image, pdf_text
from tests.e2e.test_documents_api import SELLER
from tests.e2e.test_fulfilment_api import marking, world
from tests.e2e.test_stock_api import place
from tests.problems import problem


def flat(pdf: bytes) -> str:
    return " ".join(pdf_text(pdf).split())


def barcodes(pdf: bytes, name: str) -> list[str]:
    from PIL import Image

    image = Image.open(first_page_image(pdf, name, scale=3.0))
    return [c.text for c in zxingcpp.read_barcodes(image) if c.format.name == "Code128"]


def released(api: httpx.Client, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    order = place(api, lines, **extra)
    made = api.post(f"/api/v1/orders/{order['id']}/shipments", json={"warehouse": "MSK"})
    assert made.status_code == 201, made.text
    shipment: dict[str, Any] = made.json()[0]
    return shipment


def test_a_shipments_pick_list_then_its_packing_slip(api: httpx.Client) -> None:
    world(api)
    assert api.post("/api/v1/legal-entities", json=SELLER).status_code == 201
    shipment = released(api, [("SHOE", 2), ("MUG", 3), ("KET", 1)], external_id="WB-77")
    sid, number = shipment["id"], f"{shipment['order_id']}-1"

    pending = api.get(f"/api/v1/shipments/{sid}/pick-list/pdf")
    assert pending.status_code == 200, pending.text
    assert pending.headers["content-type"] == "application/pdf"
    assert f"pick-list-{number}.pdf" in pending.headers["content-disposition"]
    text = flat(pending.content)
    assert f"Лист подбора · отправление {number}" in text
    assert f"Заказ: № {shipment['order_id']} (WB-77)" in text
    assert "Статус: ждёт сборки" in text
    # the bins in walking order: A-01 (MUG), A-02 (SHOE), B-01 (KET)
    assert "1 A-01 A MUG Mug 3 2 A-02 A SHOE Кроссовки 2 3 B-01 A KET Kettle 1" in text
    assert "Всего: позиций 3, единиц 6, взято 0" in text
    assert barcodes(pending.content, "pick-list") == [number]

    problem(api.get(f"/api/v1/shipments/{sid}/packing-slip/pdf"), 409, "paper-not-ready")

    for code, quantity, bin_code in (("MUG", 3, "A-01"), ("SHOE", 2, "A-02"), ("KET", 1, "B-01")):
        picked = api.post(
            f"/api/v1/shipments/{sid}/picks",
            json={"code": code, "quantity": quantity, "bin": bin_code},
        )
        assert picked.status_code == 201, picked.text
    during = flat(api.get(f"/api/v1/shipments/{sid}/pick-list/pdf").content)
    assert "Статус: собирается" in during
    assert "Всего: позиций 3, единиц 6, взято 6" in during

    items = {i["sku"]: i["item_no"] for i in api.get(f"/api/v1/shipments/{sid}").json()["items"]}
    for body in (
        {
            "weight_g": 2100,
            "length_mm": 400,
            "width_mm": 300,
            "height_mm": 200,
            "items": [
                {"item_no": items["SHOE"], "quantity": 1, "marking_codes": [marking("pair-1")]},
                {"item_no": items["MUG"], "quantity": 3},
            ],
        },
        {
            "weight_g": 2000,
            "length_mm": 300,
            "width_mm": 300,
            "height_mm": 300,
            "items": [
                {"item_no": items["SHOE"], "quantity": 1, "marking_codes": [marking("pair-2")]},
                {"item_no": items["KET"], "quantity": 1},
            ],
        },
    ):
        packed = api.post(f"/api/v1/shipments/{sid}/parcels", json=body)
        assert packed.status_code == 201, packed.text
    assert packed.json()["status"] == "packed"

    slip = api.get(f"/api/v1/shipments/{sid}/packing-slip/pdf")
    assert slip.status_code == 200, slip.text
    text = flat(slip.content)
    assert f"Упаковочный лист · отправление {number}" in text
    assert "Отправитель: ООО «Поток», Москва Получатель:" in text
    assert "Получатель: Анна Смирнова, Тверь, ул. Советская, 1, тел. +79161234567" in text
    assert "Мест: 2 № 1: 2,100 кг, 400×300×200 мм; № 2: 2,000 кг, 300×300×300 мм" in text
    # order lines in their order: shoes in both parcels with both codes, GTIN and serial
    assert (
        "1 SHOE Кроссовки Коды маркировки: 010465000000001021pair-1; 010465000000001021pair-2 "
        "2 5 990,00 11 980,00 1: 1, 2: 1"
    ) in text
    assert "2 MUG Mug 3 390,00 1 170,00 1" in text
    assert "3 KET Kettle 1 2 490,00 2 490,00 2" in text
    assert "Итого: наименований 3, единиц 6, на сумму 15 640,00 руб., мест 2, вес 4,100 кг" in text
    assert "Всего мест: два. Сумма: Пятнадцать тысяч шестьсот сорок рублей 00 копеек" in text
    assert barcodes(slip.content, "packing-slip") == [number]
    assert api.get(f"/api/v1/shipments/{sid}/packing-slip/pdf").content == slip.content


def test_a_packing_slip_needs_a_seller_and_warehouse_staff_see_their_own(
    api: httpx.Client, live: LiveServer
) -> None:
    world(api)
    shipment = released(api, [("MUG", 1)])
    sid = shipment["id"]
    assert api.post(f"/api/v1/shipments/{sid}/picks", json={"code": "MUG"}).status_code == 201
    item = api.get(f"/api/v1/shipments/{sid}").json()["items"][0]["item_no"]
    packed = api.post(
        f"/api/v1/shipments/{sid}/parcels",
        json={
            "weight_g": 400,
            "length_mm": 100,
            "width_mm": 100,
            "height_mm": 100,
            "items": [{"item_no": item, "quantity": 1}],
        },
    )
    assert packed.status_code == 201, packed.text
    body = problem(api.get(f"/api/v1/shipments/{sid}/packing-slip/pdf"), 422, "seller-missing")
    assert body["channel"] == "web"

    make_user(live.potok, "spb-picker", Role.WAREHOUSE, warehouses=("SPB",))
    picker = sign_in(live.url, "spb-picker")
    for paper in ("pick-list", "packing-slip"):
        hidden = picker.request("GET", f"/api/v1/shipments/{sid}/{paper}/pdf")
        problem(hidden, 404, "shipment-not-found")
    make_user(live.potok, "msk-picker", Role.WAREHOUSE, warehouses=("MSK",))
    own = sign_in(live.url, "msk-picker").request("GET", f"/api/v1/shipments/{sid}/pick-list/pdf")
    assert own.status_code == 200
    problem(api.get("/api/v1/shipments/999999/pick-list/pdf"), 404, "shipment-not-found")


def test_bins_unknown_to_the_shipment_come_last_on_the_pick_list(api: httpx.Client) -> None:
    world(api)
    api.post(
        "/api/v1/products",
        json={"sku": "BAG", "name": "Пакет", "price": "10.00", "vat_rate": "22", "weight_g": 5},
    ).raise_for_status()
    api.post(
        "/api/v1/stock/receipts", json={"warehouse": "MSK", "sku": "BAG", "quantity": 3}
    ).raise_for_status()
    shipment = released(api, [("BAG", 1), ("KET", 1)])
    text = flat(api.get(f"/api/v1/shipments/{shipment['id']}/pick-list/pdf").content)
    assert "1 B-01 A KET Kettle 1 2 без ячейки BAG Пакет 1" in text
