"""УПД on paper: the universal transfer document, landscape A4, status 1 or 2.

The layout of the form recommended with the счёт-фактура of постановление Правительства
РФ № 1137 (as amended): the status box on the left, the счёт-фактура's lines (1)-(8) on
the right, the table of columns А and 1-13 with «Всего к оплате (9)», the signatures of
the head and the chief accountant (or the entrepreneur), and the transfer part [8]-[19]
with who handed over and who received. When the lines run over a page, each page closes
with its own sum and the running total, and the next page opens with that total carried
over («Перенос»). Marking codes are listed under their line's name.
"""

from __future__ import annotations

from potok.domain.documents import Heading, Line, Party, PartyKind, Subject, Totals, UpdStatus
from potok.renderers.fonts import BOLD, REGULAR
from potok.renderers.formats import money, quantity, quoted_date, short_date
from potok.renderers.pdf import LANDSCAPE, MM, Column, Grid, HeaderCell, Sheet, Span, paginate

LEFT = 9.5 * MM
WIDTH = 278 * MM
TOP = 7 * MM
BOTTOM = 203 * MM
STATUS_WIDTH = 30 * MM
FOOTER = 70 * MM
TRANSPORT_CAPTION = (
    "(транспортная накладная, поручение экспедитору, экспедиторская / складская расписка "
    "и др. / масса нетто/ брутто груза, если не приведены ссылки на транспортные документы, "
    "содержащие эти сведения)"
)

_COLUMNS = [
    (14, "left"),
    (7, "center"),
    (44, "left"),
    (11, "center"),
    (9, "center"),
    (11, "center"),
    (13, "right"),
    (17, "right"),
    (21, "right"),
    (12, "center"),
    (11, "center"),
    (18, "right"),
    (21, "right"),
    (10, "center"),
    (13, "center"),
    (16, "center"),
    (8, "center"),
    (9, "center"),
    (13, "right"),
]
_HEADER = [
    HeaderCell(0, 0, "Код товара/ работ, услуг", 0, 2),
    HeaderCell(1, 1, "№ п/п", 0, 2),
    HeaderCell(
        2,
        2,
        "Наименование товара (описание выполненных работ, оказанных услуг), имущественного права",
        0,
        2,
    ),
    HeaderCell(3, 3, "Код вида товара", 0, 2),
    HeaderCell(4, 5, "Единица измерения"),
    HeaderCell(4, 4, "код", 1),
    HeaderCell(5, 5, "условное обозначение (национальное)", 1),
    HeaderCell(6, 6, "Коли-чество (объем)", 0, 2),
    HeaderCell(7, 7, "Цена (тариф) за единицу измерения", 0, 2),
    HeaderCell(
        8, 8, "Стоимость товаров (работ, услуг), имущест-венных прав без налога - всего", 0, 2
    ),
    HeaderCell(9, 9, "В том числе сумма акциза", 0, 2),
    HeaderCell(10, 10, "Налоговая ставка", 0, 2),
    HeaderCell(11, 11, "Сумма налога, предъявляемая покупателю", 0, 2),
    HeaderCell(
        12, 12, "Стоимость товаров (работ, услуг), имущест-венных прав с налогом - всего", 0, 2
    ),
    HeaderCell(13, 14, "Страна происхождения товара"),
    HeaderCell(13, 13, "цифровой код", 1),
    HeaderCell(14, 14, "краткое наимено-вание", 1),
    HeaderCell(
        15,
        15,
        "Регистрационный номер декларации на товары или регистрационный номер партии товара, "
        "подлежащего прослеживаемости",
        0,
        2,
    ),
    HeaderCell(
        16,
        17,
        "Количественная единица измерения товара, используемая в целях осуществления "
        "прослеживаемости",
    ),
    HeaderCell(16, 16, "код", 1),
    HeaderCell(17, 17, "условное обозна-чение", 1),
    HeaderCell(
        18,
        18,
        "Количество товара, подлежащего прослеживаемости, в количественной единице измерения",
        0,
        2,
    ),
]
_NUMBERS = ["А", "1", "1а", "1б", "2", "2а", "3", "4", "5", "6", "7", "8", "9"]
_NUMBERS += ["10", "10а", "11", "12", "12а", "13"]


def _grid() -> Grid:
    return Grid(
        [Column(width * MM, align) for width, align in _COLUMNS],  # type: ignore[arg-type]
        _HEADER,
        [9 * MM, 13 * MM],
        numbers=_NUMBERS,
        header_size=5.5,
        body_size=6.5,
        x=LEFT,
    )


def _row(line: Line) -> list[str]:
    name = line.name
    if line.marking_codes:
        codes = "\n".join(f"КМ {code.split(chr(29))[0]}" for code in line.marking_codes)
        name = f"{name}\n{codes}"
    charged = line.vat_rate is not None
    return [
        line.sku,
        str(line.no),
        name,
        "",
        line.unit.code,
        line.unit.name,
        quantity(line.quantity),
        money(line.net_price),
        money(line.net),
        "без акциза",
        line.rate_label,
        money(line.vat) if charged else "без НДС",
        money(line.total),
        "",
        "",
        "",
        "",
        "",
        "",
    ]


def _sum_row(caption: str, totals: Totals, *, charged: bool) -> list[Span]:
    return [
        Span(0, 7, caption, align="left"),
        Span(8, 8, money(totals.net)),
        Span(9, 10, "X", align="center"),
        Span(11, 11, money(totals.vat) if charged else "без НДС"),
        Span(12, 12, money(totals.total)),
        Span(13, 18, "", border=False),
    ]


def _header(sheet: Sheet, heading: Heading, subject: Subject) -> float:
    status = heading.upd_status or UpdStatus.INVOICE_AND_TRANSFER
    sheet.paragraph(
        LEFT + WIDTH - 95 * MM,
        TOP,
        95 * MM,
        "Приложение № 1 к постановлению Правительства Российской Федерации от 26 декабря "
        "2011 г. № 1137 (в редакции постановления Правительства Российской Федерации "
        "от 16 августа 2024 г. № 1096)",
        size=5,
        align="right",
    )
    top = TOP + 7 * MM
    sheet.paragraph(
        LEFT, top, STATUS_WIDTH - 2 * MM, "Универсальный передаточный документ", size=8, font=BOLD
    )
    sheet.text(LEFT, top + 14 * MM, "Статус:", size=7)
    sheet.box(
        LEFT + 12 * MM,
        top + 13 * MM,
        8 * MM,
        6 * MM,
        str(status.value),
        size=9,
        font=BOLD,
        align="center",
    )
    sheet.paragraph(
        LEFT,
        top + 21 * MM,
        STATUS_WIDTH - 2 * MM,
        "1 - счет-фактура и передаточный документ (акт)\n2 - передаточный документ (акт)",
        size=5.5,
    )
    x = LEFT + STATUS_WIDTH
    width = WIDTH - STATUS_WIDTH
    sheet.line(x - 1 * MM, top, x - 1 * MM, top + 52 * MM, width=1)
    correction = heading.correction_no
    buyer = subject.buyer
    consignee = subject.consignee or subject.buyer
    shipper = "он же" if subject.consignor is None else _with_address(subject.consignor)
    lines = [
        (
            "Счет-фактура №",
            f"{heading.number} от {short_date(heading.issued_on)}",
            "(1)",
            True,
        ),
        (
            "Исправление №",
            f"{correction} от {short_date(heading.correction_on)}"
            if correction and heading.correction_on
            else "-- от --",
            "(1а)",
            False,
        ),
        ("Продавец:", subject.seller.name, "(2)", True),
        ("Адрес:", subject.seller.address, "(2а)", False),
        ("ИНН/КПП продавца:", subject.seller.tax_ids, "(2б)", False),
        ("Грузоотправитель и его адрес:", shipper, "(3)", False),
        ("Грузополучатель и его адрес:", _with_address(consignee), "(4)", False),
        ("К платежно-расчетному документу №", "-- от --", "(5)", False),
        (
            "Документ об отгрузке",
            f"№ п/п 1-{len(subject.lines)} № {heading.number} от {short_date(heading.issued_on)}",
            "(5а)",
            False,
        ),
        ("Покупатель:", buyer.name, "(6)", True),
        ("Адрес:", buyer.address, "(6а)", False),
        ("ИНН/КПП покупателя:", buyer.tax_ids, "(6б)", False),
        ("Валюта: наименование, код", "Российский рубль, 643", "(7)", False),
        (
            "Идентификатор государственного контракта, договора (соглашения) (при наличии):",
            "",
            "(8)",
            False,
        ),
    ]
    y = top
    for label, value, number, bold in lines:
        start = sheet.label(x, y, label, size=6.5, bold=bold and label.startswith("Счет"))
        sheet.field(
            start,
            y,
            x + width - start - 9 * MM,
            value,
            "",
            size=6.5,
            font=BOLD if bold else REGULAR,
            align="left",
        )
        sheet.text(x + width, y, number, size=6.5, align="right")
        y += 3.7 * MM
    return y + 1.5 * MM


def _with_address(party: Party) -> str:
    return ", ".join(part for part in (party.name, party.address) if part)


def render_upd(heading: Heading, subject: Subject) -> bytes:
    """The УПД as PDF bytes."""
    sheet = Sheet(
        pagesize=LANDSCAPE,
        title=f"УПД № {heading.number} от {short_date(heading.issued_on)}",
        author=subject.seller.display_name,
        subject=str(subject.basis),
    )
    grid = _grid()
    rows = [_row(line) for line in subject.lines]
    heights = [grid.row_height(row) for row in rows]
    charged = any(line.vat_rate is not None for line in subject.lines)
    sum_row = grid.spans_height()
    top = _header(sheet, heading, subject)
    pages = paginate(
        heights,
        first=BOTTOM - top - grid.header_height - 2 * sum_row,
        rest=BOTTOM - TOP - 5 * MM - grid.header_height - 3 * sum_row,
        last_extra=FOOTER,
    )
    carried = Totals()
    for number, page in enumerate(pages, start=1):
        if number > 1:
            sheet.next_page()
            top = TOP
            sheet.text(
                LEFT + WIDTH,
                top,
                f"Универсальный передаточный документ № {heading.number} от "
                f"{short_date(heading.issued_on)}. Лист {number}",
                size=7,
                align="right",
            )
            top += 5 * MM
        top = grid.draw_header(sheet, top)
        if number > 1:
            top = grid.draw_spans(
                sheet, top, _sum_row(f"Перенос с листа {number - 1}", carried, charged=charged)
            )
        for index in page:
            top = grid.draw_row(sheet, top, rows[index], heights[index])
        page_totals = Totals.of(subject.lines[index] for index in page)
        carried = carried + page_totals
        if len(pages) > 1:
            top = grid.draw_spans(
                sheet, top, _sum_row(f"Итого по листу {number}", page_totals, charged=charged)
            )
            if number < len(pages):
                top = grid.draw_spans(
                    sheet,
                    top,
                    _sum_row(f"Итого с переносом на лист {number + 1}", carried, charged=charged),
                )
    top = grid.draw_spans(
        sheet, top, _sum_row("Всего к оплате (9)", subject.totals, charged=charged)
    )
    _footer(sheet, top + 1.5 * MM, heading, subject, len(pages))
    return sheet.finish()


def _signer(sheet: Sheet, x: float, top: float, width: float, label: str, name: str) -> float:
    sheet.paragraph(x, top, width * 0.38, label, size=6)
    start = x + width * 0.4
    sheet.field(start, top, width * 0.25, "", "(подпись)", size=6.5)
    return sheet.field(start + width * 0.28, top, width * 0.32, name, "(ф.и.о.)", size=6.5)


def _footer(sheet: Sheet, top: float, heading: Heading, subject: Subject, pages: int) -> None:
    seller = subject.seller
    sheet.text(
        LEFT, top, f"Документ составлен на {pages} {'листе' if pages == 1 else 'листах'}", size=6.5
    )
    top += 4 * MM
    half = (WIDTH - STATUS_WIDTH) / 2 - 3 * MM
    x = LEFT + STATUS_WIDTH
    head = (
        seller.head.name.short if seller.head and seller.kind is not PartyKind.ENTREPRENEUR else ""
    )
    accountant = seller.accountant.name.short if seller.accountant else ""
    _signer(sheet, x, top, half, "Руководитель организации или иное уполномоченное лицо", head)
    _signer(
        sheet,
        x + half + 6 * MM,
        top,
        half,
        "Главный бухгалтер или иное уполномоченное лицо",
        accountant if seller.kind is not PartyKind.ENTREPRENEUR else "",
    )
    top += 7 * MM
    entrepreneur = (
        seller.head.name.short if seller.head and seller.kind is PartyKind.ENTREPRENEUR else ""
    )
    _signer(
        sheet,
        x,
        top,
        half,
        "Индивидуальный предприниматель или иное уполномоченное лицо",
        entrepreneur,
    )
    sheet.field(
        x + half + 6 * MM,
        top,
        half,
        seller.ogrn or "" if seller.kind is PartyKind.ENTREPRENEUR else "",
        "(реквизиты свидетельства о государственной регистрации индивидуального предпринимателя)",
        size=6.5,
    )
    top += 8 * MM
    sheet.line(LEFT, top, LEFT + WIDTH, top, width=1)
    top += 1.5 * MM
    shipping = subject.shipping
    transport = ", ".join(
        part
        for part in (
            shipping.carrier,
            f"трек-номер {shipping.tracking_number}" if shipping.tracking_number else "",
            f"мест {shipping.places}" if shipping.places else "",
        )
        if part
    )
    for label, value, caption, number in (
        (
            "Основание передачи (сдачи) / получения (приемки)",
            str(subject.basis),
            "(договор; доверенность и др.)",
            "[8]",
        ),
        (
            "Данные о транспортировке и грузе",
            transport,
            TRANSPORT_CAPTION,
            "[9]",
        ),
    ):
        start = sheet.label(LEFT, top, label, size=6.5)
        sheet.field(
            start, top, LEFT + WIDTH - start - 8 * MM, value, caption, size=6.5, caption_size=4.5
        )
        sheet.text(LEFT + WIDTH, top, number, size=6.5, align="right")
        top += 7 * MM
    half = WIDTH / 2 - 3 * MM
    right = LEFT + WIDTH / 2 + 3 * MM
    dispatcher = seller.dispatcher
    left_top = _party_side(
        sheet,
        LEFT,
        top,
        half,
        [
            ("Товар (груз) передал / услуги, результаты работ, права сдал", "[10]"),
            ("Дата отгрузки, передачи (сдачи)", "[11]"),
            ("Иные сведения об отгрузке, передаче", "[12]"),
            ("Ответственный за правильность оформления факта хозяйственной жизни", "[13]"),
            (
                "Наименование экономического субъекта - составителя документа "
                "(в т.ч. комиссионера / агента)",
                "[14]",
            ),
        ],
        handed=(dispatcher.position, dispatcher.name.short) if dispatcher else ("", ""),
        responsible=(seller.head.position, seller.head.name.short) if seller.head else ("", ""),
        when=quoted_date(shipping.shipped_on or heading.issued_on),
        party=seller,
    )
    _party_side(
        sheet,
        right,
        top,
        half,
        [
            ("Товар (груз) получил / услуги, результаты работ, права принял", "[15]"),
            ("Дата получения (приемки)", "[16]"),
            ("Иные сведения о получении, приемке", "[17]"),
            ("Ответственный за правильность оформления факта хозяйственной жизни", "[18]"),
            ("Наименование экономического субъекта - составителя документа", "[19]"),
        ],
        handed=("", ""),
        responsible=("", ""),
        when="«___» ____________ 20___ г.",
        party=subject.buyer,
    )
    del left_top


def _party_side(
    sheet: Sheet,
    x: float,
    top: float,
    width: float,
    labels: list[tuple[str, str]],
    *,
    handed: tuple[str, str],
    responsible: tuple[str, str],
    when: str,
    party: Party,
) -> float:
    def person(y: float, label: str, number: str, who: tuple[str, str]) -> float:
        sheet.paragraph(x, y, width - 8 * MM, label, size=6)
        sheet.text(x + width, y, number, size=6, align="right")
        y += 3 * MM
        sheet.field(x, y, width * 0.3, who[0], "(должность)", size=6.5, caption_size=4.5)
        sheet.field(x + width * 0.33, y, width * 0.25, "", "(подпись)", size=6.5, caption_size=4.5)
        return sheet.field(
            x + width * 0.61, y, width * 0.39, who[1], "(ф.и.о.)", size=6.5, caption_size=4.5
        )

    top = person(top, labels[0][0], labels[0][1], handed) + 0.5 * MM
    start = sheet.label(x, top, labels[1][0], size=6)
    sheet.text(start, top, when, size=6.5)
    sheet.text(x + width, top, labels[1][1], size=6, align="right")
    top += 3.5 * MM
    sheet.paragraph(x, top, width - 8 * MM, labels[2][0], size=6)
    sheet.text(x + width, top, labels[2][1], size=6, align="right")
    top = sheet.field(
        x,
        top + 3 * MM,
        width,
        "",
        "(ссылки на неотъемлемые приложения, сопутствующие документы, иные документы и т.п.)",
        size=6.5,
        caption_size=4.5,
    )
    top = person(top + 0.5 * MM, labels[3][0], labels[3][1], responsible) + 0.5 * MM
    sheet.paragraph(x, top, width - 8 * MM, labels[4][0], size=6)
    sheet.text(x + width, top, labels[4][1], size=6, align="right")
    composer = ", ".join(
        part for part in (party.name, f"ИНН/КПП {party.tax_ids}" if party.tax_ids else "") if part
    )
    top = sheet.field(
        x,
        top + 3 * MM,
        width,
        composer,
        "(может не заполняться при проставлении печати в М.П., может быть указан ИНН / КПП)",
        size=6.5,
        caption_size=4.5,
    )
    sheet.text(x, top + 0.5 * MM, "М.П.", size=6.5)
    return top
