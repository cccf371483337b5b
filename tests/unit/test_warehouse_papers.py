"""Warehouse papers drawn from their data alone: a long pick list over pages, each page
with the shipment's barcode; a packing slip's lines, codes, parcels and words; what a
packing slip waits for. The first page of each is kept as a PNG artifact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
import zxingcpp

from potok.domain.documents.errors import PaperNotReady
from potok.domain.documents.papers import (
    PackingSlip,
    PickRow,
    PickSheet,
    Place,
    SlipLine,
    SlipParcel,
    check_packed,
)
from potok.renderers.packing_slip import render_packing_slip
from potok.renderers.pick_list import render_pick_list
from tests.documents_support import first_page_image, pdf_pages, pdf_text

GS = "\x1d"
WAREHOUSE = Place("Moscow DC (MSK)", "Москва, Рязанский пр-т, д. 2")


def flat(text: str) -> str:
    return " ".join(text.split())


def code128_on_every_page(pdf: bytes) -> list[list[str]]:
    document = pdfium.PdfDocument(pdf)
    try:
        images = [page.render(scale=3.0).to_pil() for page in document]
    finally:
        document.close()
    return [
        [c.text for c in zxingcpp.read_barcodes(image) if c.format.name == "Code128"]
        for image in images
    ]


def pick_sheet(rows: int) -> PickSheet:
    return PickSheet(
        shipment="42-1",
        order_id=42,
        order_ref="WB-1001",
        channel="wildberries",
        warehouse=WAREHOUSE,
        status="picking",
        released_on=date(2026, 12, 6),
        rows=tuple(
            PickRow(
                location=f"A-{n:03d}",
                zone="A",
                sku=f"SKU-{n}",
                name=f"Товар {n}",
                lot="L-7" if n == 2 else None,
                quantity=2,
                picked=1 if n == 1 else 0,
                serials=("SN-1", "SN-2") if n == 3 else (),
            )
            for n in range(1, rows + 1)
        ),
        wave="W-12",
    )


def test_a_long_pick_list_runs_over_pages_with_the_barcode_on_each() -> None:
    pdf = render_pick_list(pick_sheet(120))
    first_page_image(pdf, "pick-list-long")
    pages = pdf_pages(pdf)
    assert len(pages) == 3
    first = flat(pages[0])
    assert "Лист подбора · отправление 42-1" in first
    assert "Заказ: № 42 (WB-1001) Волна: W-12 Канал: wildberries" in first
    assert "Склад: Moscow DC (MSK) (Москва, Рязанский пр-т, д. 2)" in first
    assert "1 A-001 A SKU-1 Товар 1 2 1 2 A-002 A SKU-2 Товар 2 L-7 2" in first
    assert "3 A-003 A SKU-3 Товар 3 с/н: SN-1, SN-2 2" in first
    assert "лист 1 из 3" in first
    assert "лист 3 из 3" in flat(pages[2])
    assert "Всего: позиций 120, единиц 240, взято 1" in flat(pages[2])
    assert "120 A-120 A SKU-120" in flat(pages[2])
    assert code128_on_every_page(pdf) == [["42-1"], ["42-1"], ["42-1"]]
    assert render_pick_list(pick_sheet(120)) == pdf


def slip() -> PackingSlip:
    return PackingSlip(
        shipment="42-2",
        order_id=42,
        order_ref="",
        order_on=date(2026, 12, 1),
        packed_on=date(2026, 12, 6),
        sender=Place("ООО «Поток»", "Москва, Рязанский пр-т, д. 2", "+7 495 000-00-00"),
        recipient=Place("Анна Смирнова", "170100, Тверь, ул. Советская, 1", "+79161234567"),
        warehouse=WAREHOUSE,
        lines=(
            SlipLine(
                1,
                "SHOE",
                "Кроссовки",
                2,
                Decimal("5990.00"),
                ((1, 1), (2, 1)),
                (
                    f"0104650000000010215pair-1{GS}91EE10{GS}92" + "A" * 44,
                    f"0104650000000010215pair-2{GS}93abcd",
                ),
            ),
            SlipLine(2, "MUG", "Кружка фарфоровая", 1, Decimal("390.00"), ((2, 1),)),
        ),
        parcels=(SlipParcel(1, 1500, (400, 300, 200)), SlipParcel(2, 521, (200, 200, 100))),
    )


def test_a_packing_slip_lists_lines_codes_parcels_and_the_sum_in_words() -> None:
    pdf = render_packing_slip(slip())
    first_page_image(pdf, "packing-slip")
    text = flat(pdf_text(pdf))
    assert "Упаковочный лист · отправление 42-2" in text
    assert "Отправитель: ООО «Поток», Москва, Рязанский пр-т, д. 2, тел. +7 495 000-00-00" in text
    assert "Получатель: Анна Смирнова, 170100, Тверь, ул. Советская, 1, тел. +79161234567" in text
    assert "Заказ: № 42 от 01.12.2026" in text
    assert "Мест: 2 № 1: 1,500 кг, 400×300×200 мм; № 2: 0,521 кг, 200×200×100 мм" in text
    # the crypto tail of each marking code stays off the paper
    assert (
        "Кроссовки Коды маркировки: 0104650000000010215pair-1; 0104650000000010215pair-2 "
        "2 5 990,00 11 980,00 1: 1, 2: 1"
    ) in text
    assert "EE10" not in text
    assert "2 MUG Кружка фарфоровая 1 390,00 390,00 2" in text
    assert "Итого: наименований 2, единиц 3, на сумму 12 370,00 руб., мест 2, вес 2,021 кг" in text
    assert "Всего мест: два. Сумма: Двенадцать тысяч триста семьдесят рублей 00 копеек" in text
    assert code128_on_every_page(pdf) == [["42-2"]]


@pytest.mark.parametrize(
    ("status", "parcels"), [("pending", 0), ("picking", 1), ("cancelled", 0), ("packed", 0)]
)
def test_a_packing_slip_waits_for_packed_parcels(status: str, parcels: int) -> None:
    with pytest.raises(PaperNotReady) as caught:
        check_packed("42-1", status, parcels)
    assert caught.value.code == "paper-not-ready"
