"""The renderers: PDFs read back by their text (amounts, totals in words, requisites), the
invoice's payment QR decoded from the rasterised page, every УПД XML validated against
the official XSD. The first page of each PDF is kept as a PNG artifact."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image

from potok.domain.documents import (
    PIECE,
    SERVICE_UNIT,
    Corrected,
    DocumentKind,
    Heading,
    Line,
    Party,
    Reference,
    Shipping,
    Subject,
    UpdStatus,
)
from potok.renderers import render_pdf, render_xml
from potok.renderers.upd_xml import identification_code
from tests.documents_support import (
    BUYER,
    ENTREPRENEUR,
    SELLER,
    first_page_image,
    fns_schema,
    pdf_pages,
    pdf_text,
    xsd_errors,
)

ISSUED_AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)  # 12:30 in Moscow
GUID = "8d0f6f7e-1c2b-4a3d-9e8f-0a1b2c3d4e5f"
GS = "\x1d"
KET_CODES = (
    f"0104601234567893215Kq9ZtHd0aB{GS}91EE10{GS}92Dk2mQ0yR7v==",
    f"0104601234567893215Lm3XpWq7cD{GS}91EE10{GS}92Jh4nW8sT1u==",
)


def lines() -> tuple[Line, ...]:
    return (
        Line(1, "KET", "Чайник электрический", 2, Decimal("2490.00"), Decimal("22"),
             gtin="4601234567893", weight_g=1200, marking_codes=KET_CODES),
        Line(2, "MUG", "Кружка фарфоровая", 3, Decimal("390.00"), Decimal("22"), weight_g=330),
        Line(3, "TOY", "Игрушка «Мишка»", 1, Decimal("990.00"), Decimal("10"), weight_g=300),
        Line(4, "DELIVERY", "Доставка", 1, Decimal("300.00"), Decimal("22"),
             unit=SERVICE_UNIT, service=True),
    )  # fmt: skip


def subject(**changes: object) -> Subject:
    base = Subject(
        seller=Party.of_entity(SELLER),
        buyer=Party.of_entity(BUYER),
        lines=lines(),
        basis=Reference("Заказ", "42", date(2026, 12, 1)),
        consignor=Party.of_entity(SELLER, address="г. Москва, Рязанский пр-т, д. 2 (склад MSK)"),
        shipping=Shipping(warehouse="Moscow DC"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def heading(kind: DocumentKind, **changes: object) -> Heading:
    base = Heading(
        kind=kind,
        number="7",
        issued_on=date(2026, 12, 6),
        issued_at=ISSUED_AT,
        time_zone="Europe/Moscow",
        upd_status=UpdStatus.INVOICE_AND_TRANSFER if kind is DocumentKind.UPD else None,
        file_guid=GUID,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


MONEY = re.compile(r"\d{1,3}(?: \d{3})*,\d{2}")


def flat(text: str) -> str:
    return " ".join(text.split())


def last_amount(page: str, label: str) -> Decimal:
    """The last amount on the line that starts with ``label`` (a total row's «с НДС»)."""
    rows = [row for row in page.splitlines() if row.startswith(label)]
    assert len(rows) == 1, (label, page)
    return Decimal(MONEY.findall(rows[0])[-1].replace(" ", "").replace(",", "."))


# ---------------------------------------------------------------------- the invoice


def test_invoice_prints_bank_block_lines_vat_per_rate_and_total_in_words() -> None:
    pdf = render_pdf(heading(DocumentKind.INVOICE), subject())
    first_page_image(pdf, "invoice")
    text = flat(pdf_text(pdf))
    assert "Счёт на оплату № 7 от 6 декабря 2026 г." in text
    for requisite in (
        "ПАО Сбербанк", "БИК 044525225", "30101810400000000225", "40702810883800000000",
        "ИНН 7707083893", "КПП 773601001", "ИНН 7736207543", "КПП 770401001",
    ):  # fmt: skip
        assert requisite in text
    assert "Основание: Заказ № 42 от 01.12.2026" in text
    assert "Чайник электрический 2 шт 2 490,00 4 980,00" in text
    assert "Итого: 7 440,00" in text
    assert "В том числе НДС 22%: 1 163,11" in text  # 898,03 + 210,98 + 54,10
    assert "В том числе НДС 10%: 90,00" in text
    assert "Всего к оплате: 7 440,00" in text
    assert "Всего наименований 4, на сумму 7 440,00 руб." in text
    assert "Семь тысяч четыреста сорок рублей 00 копеек" in text
    assert "Иванов И. И." in text
    assert "Петрова А. С." in text


def test_invoice_qr_code_is_the_gost_payment_payload(tmp_path: object) -> None:
    pdf = render_pdf(heading(DocumentKind.INVOICE), subject())
    image = Image.open(first_page_image(pdf, "invoice-qr", scale=3))
    codes = [c for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1
    fields = codes[0].text.split("|")
    assert fields[0] == "ST00012"
    pairs = dict(field.split("=", 1) for field in fields[1:])
    assert pairs == {
        "Name": "Общество с ограниченной ответственностью «Поток»",
        "PersonalAcc": "40702810883800000000",
        "BankName": "ПАО Сбербанк",
        "BIC": "044525225",
        "CorrespAcc": "30101810400000000225",
        "Sum": "744000",
        "Purpose": "Оплата по счёту № 7 от 06.12.2026. В т.ч. НДС 1 253,11 руб.",
        "PayeeINN": "7707083893",
        "KPP": "773601001",
    }


def test_invoice_without_vat_says_so() -> None:
    seller = Party.of_entity(ENTREPRENEUR)
    no_vat = tuple(replace(line, vat_rate=None) for line in lines())
    text = flat(
        pdf_text(render_pdf(heading(DocumentKind.INVOICE), subject(seller=seller, lines=no_vat)))
    )
    assert "Без налога (НДС) -" in text
    assert "НДС 22%" not in text
    assert "Предприниматель" in text


# ---------------------------------------------------------------------- ТОРГ-12


def test_torg12_lists_goods_only_with_totals_words_weight_and_signatures() -> None:
    pdf = render_pdf(heading(DocumentKind.TORG12), subject(shipping=Shipping(places=2)))
    first_page_image(pdf, "torg12")
    text = flat(pdf_text(pdf))
    assert "Унифицированная форма № ТОРГ-12" in text
    assert "Форма по ОКУД 0330212" in text
    assert "ТОВАРНАЯ НАКЛАДНАЯ 7 06.12.2026" in text
    assert "Доставка" not in text  # a service is not goods
    # KET: 4 980,00 with 898,03 VAT inside, 4 081,97 without; 2 × 1,200 kg
    assert "SKU" not in text
    assert "KET шт 796 2,400 2 2 040,99 4 081,97 22 898,03 4 980,00" in text
    assert "Итого 3,690 6 X 5 940,99 X 1 199,01 7 140,00" in text
    assert "Всего по накладной 3,690 6 X 5 940,99 X 1 199,01 7 140,00" in text
    assert "содержит три" in text  # three numbered lines
    assert "Всего мест Два" in text
    assert "Три килограмма 690 граммов" in text
    assert "Семь тысяч сто сорок рублей 00 копеек" in text
    assert "ИНН 7707083893, КПП 773601001" in text
    assert "КМ 0104601234567893215Kq9ZtHd0aB" in text  # the code without its crypto tail
    assert "Иванов И. И." in text
    assert "Сидоров П." in text


def test_torg12_over_many_pages_closes_every_page_and_the_sums_add_up() -> None:
    many = tuple(
        Line(n, f"MUG-{n}", f"Кружка № {n}", 1, Decimal("390.00"), Decimal("22"))
        for n in range(1, 61)
    )
    pdf = render_pdf(heading(DocumentKind.TORG12), subject(lines=many))
    pages = pdf_pages(pdf)
    assert len(pages) >= 2
    page_totals = [last_amount(page, "Итого ") for page in pages]  # one under every page
    assert sum(page_totals) == Decimal("23400.00")  # 60 × 390,00
    assert last_amount(pages[-1], "Всего по накладной") == Decimal("23400.00")
    assert "Всего по накладной" in pages[-1]
    assert "Всего по накладной" not in pages[0]
    assert "шестьдесят" in flat(pages[-1])
    assert "Страница 2" in pages[1]


# ---------------------------------------------------------------------- УПД on paper


def test_upd_status_1_prints_the_invoice_lines_the_table_and_both_sides() -> None:
    pdf = render_pdf(heading(DocumentKind.UPD), subject())
    first_page_image(pdf, "upd")
    text = flat(pdf_text(pdf))
    assert "Универсальный передаточный документ" in text
    assert "Статус: 1" in text
    assert "Счет-фактура № 7 от 06.12.2026 (1)" in text
    assert "ИНН/КПП продавца: 7707083893/773601001 (2б)" in text
    assert "ИНН/КПП покупателя: 7736207543/770401001 (6б)" in text
    assert "Валюта: наименование, код Российский рубль, 643 (7)" in text
    assert "Документ об отгрузке № п/п 1-4 № 7 от 06.12.2026 (5а)" in text
    assert "Всего к оплате (9) 6 186,89 X 1 253,11 7 440,00" in text
    assert "Основание передачи (сдачи) / получения (приемки) Заказ № 42 от 01.12.2026" in text
    assert "«06» декабря 2026 г." in text  # the shipping date on the seller's side
    assert "Генеральный директор" in text
    assert "Кладовщик" in text


def test_upd_status_2_and_a_correction() -> None:
    pdf = render_pdf(
        heading(
            DocumentKind.UPD,
            upd_status=UpdStatus.TRANSFER,
            correction_no=1,
            correction_on=date(2026, 12, 8),
        ),
        subject(),
    )
    text = flat(pdf_text(pdf))
    assert "Статус: 2" in text
    assert "Исправление № 1 от 08.12.2026 (1а)" in text


def test_upd_over_pages_carries_the_running_total_over() -> None:
    many = tuple(
        Line(n, f"MUG-{n}", f"Кружка № {n}", 1, Decimal("390.00"), Decimal("22"))
        for n in range(1, 71)
    )
    pages = pdf_pages(render_pdf(heading(DocumentKind.UPD), subject(lines=many)))
    assert len(pages) >= 2
    running = Decimal(0)
    for number in range(1, len(pages)):
        running += last_amount(pages[number - 1], f"Итого по листу {number}")
        closing = last_amount(pages[number - 1], f"Итого с переносом на лист {number + 1}")
        opening = last_amount(pages[number], f"Перенос с листа {number}")
        assert closing == opening == running  # carried over is what the pages before add up to
    # 70 lines of 390,00: VAT 70 × 70,33 = 4 923,10 (390 × 22 / 122 = 70,328 each)
    assert "Всего к оплате (9) 22 376,90 X 4 923,10 27 300,00" in flat(pages[-1])


def test_the_same_subject_renders_the_same_bytes() -> None:
    for kind in DocumentKind:
        assert render_pdf(heading(kind), subject()) == render_pdf(heading(kind), subject())


def test_pdfs_embed_their_fonts() -> None:
    pdf = render_pdf(heading(DocumentKind.UPD), subject())
    assert b"/FontFile2" in pdf  # TrueType programs inside: nothing depends on the reader
    assert b"PTSans" in pdf


# ---------------------------------------------------------------------- УПД XML 5.03


@pytest.fixture(scope="module")
def schema():  # type: ignore[no-untyped-def]
    return fns_schema()


def test_upd_xml_status_1_is_valid_and_says_what_the_paper_says(schema) -> None:  # type: ignore[no-untyped-def]
    name, xml = render_xml(heading(DocumentKind.UPD), subject())
    assert xsd_errors(schema, xml) == []
    assert name == f"ON_NSCHFDOPPR_2BE-7736207543_2BM-7707083893-773601001_20261206_{GUID}.xml"
    assert xml.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    text = xml.decode("windows-1251")
    assert f'ИдФайл="{name[:-4]}"' in text
    assert 'КНД="1115131"' in text
    assert 'Функция="СЧФДОП"' in text
    assert 'ВерсФорм="5.03"' in text
    assert 'ДатаИнфПр="06.12.2026" ВремИнфПр="12.30.00"' in text  # Moscow time
    assert 'НомерДок="7" ДатаДок="06.12.2026"' in text
    assert 'СтТовБезНДСВсего="6186.89" СтТовУчНалВсего="7440.00"' in text
    assert "<СумНал>1253.11</СумНал>" in text
    assert 'НалСт="10%"' in text
    assert 'НалСт="22%"' in text
    assert 'ГТИН="04601234567893"' in text
    assert "<КИЗ>0104601234567893215Kq9ZtHd0aB</КИЗ>" in text
    assert "<КИЗ>0104601234567893215Lm3XpWq7cD</КИЗ>" in text
    assert "91EE10" not in text  # the crypto tail stays out


def test_upd_xml_status_2_of_an_entrepreneur_without_vat_is_valid(schema) -> None:  # type: ignore[no-untyped-def]
    no_vat = tuple(replace(line, vat_rate=None) for line in lines())
    status2 = heading(DocumentKind.UPD, upd_status=UpdStatus.TRANSFER)
    _, xml = render_xml(status2, subject(seller=Party.of_entity(ENTREPRENEUR), lines=no_vat))
    assert xsd_errors(schema, xml) == []
    text = xml.decode("windows-1251")
    assert 'Функция="ДОП"' in text
    assert 'НалСт="без НДС"' in text
    assert "<БезНДС>без НДС</БезНДС>" in text
    assert '<СвИП ИННФЛ="500100732259" ОГРНИП="304500116000157">' in text
    assert '<ФИО Фамилия="Кузнецов" Имя="Олег" Отчество="Петрович"' in text


def test_upd_xml_correction_is_valid_and_names_the_correction(schema) -> None:  # type: ignore[no-untyped-def]
    corrected = heading(
        DocumentKind.UPD,
        correction_no=2,
        correction_on=date(2026, 12, 9),
        corrects=Corrected("7", date(2026, 12, 6)),
    )
    _, xml = render_xml(corrected, subject())
    assert xsd_errors(schema, xml) == []
    assert '<ИспрДок НомИспр="2" ДатаИспр="09.12.2026"' in xml.decode("windows-1251")


def test_upd_xml_keeps_characters_windows_1251_lacks(schema) -> None:  # type: ignore[no-untyped-def]
    odd = (replace(lines()[0], name="Чайник ☕ «Ü» & <new>"),)
    _, xml = render_xml(heading(DocumentKind.UPD), subject(lines=odd))
    assert xsd_errors(schema, xml) == []
    assert "&#9749;" in xml.decode("windows-1251")  # a character reference, not a '?'


def test_identification_code_drops_the_crypto_tail() -> None:
    assert identification_code(KET_CODES[0]) == "0104601234567893215Kq9ZtHd0aB"
    assert identification_code("0104601234567893215Kq9ZtHd0aB") == "0104601234567893215Kq9ZtHd0aB"


def test_a_line_unit_code_is_okei() -> None:
    assert (PIECE.code, SERVICE_UNIT.code) == ("796", "876")
