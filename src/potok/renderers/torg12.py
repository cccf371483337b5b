"""ТОРГ-12, the consignment note (унифицированная форма, ОКУД 0330212), landscape A4.

The form of постановление Госкомстата России от 25.12.98 № 132: consignor, consignee,
supplier, payer and basis with their codes; the note's number and date; the fifteen
columns; an «Итого» under every page's rows and «Всего по накладной» at the end, so that
the totals carry over from page to page; the count of lines, the places, the weight and
the amount in words; the seller's and the receiver's signature blocks.
"""

from __future__ import annotations

from potok.domain.documents import Heading, Line, Subject, Totals
from potok.domain.documents.words import (
    capitalised,
    count_in_words,
    money_in_words,
    weight_in_words,
)
from potok.renderers.fonts import BOLD, REGULAR
from potok.renderers.formats import kilograms, money, quantity, quoted_date, short_date
from potok.renderers.pdf import (
    LANDSCAPE,
    MM,
    Column,
    Grid,
    HeaderCell,
    Sheet,
    Span,
    paginate,
)

LEFT = 9.5 * MM
WIDTH = 278 * MM
TOP = 8 * MM
BOTTOM = 202 * MM
CODES_WIDTH = 38 * MM
FOOTER = 72 * MM

_COLUMNS = [
    (8, "center"),
    (64, "left"),
    (18, "left"),
    (12, "center"),
    (10, "center"),
    (14, "center"),
    (13, "right"),
    (13, "right"),
    (15, "right"),
    (17, "right"),
    (20, "right"),
    (22, "right"),
    (12, "center"),
    (18, "right"),
    (22, "right"),
]
_HEADER = [
    HeaderCell(0, 0, "Номер по порядку", 0, 2),
    HeaderCell(1, 2, "Товар"),
    HeaderCell(1, 1, "наименование, характеристика, сорт, артикул товара", 1),
    HeaderCell(2, 2, "код", 1),
    HeaderCell(3, 4, "Единица измерения"),
    HeaderCell(3, 3, "наиме-нование", 1),
    HeaderCell(4, 4, "код по ОКЕИ", 1),
    HeaderCell(5, 5, "Вид упаковки", 0, 2),
    HeaderCell(6, 7, "Количество"),
    HeaderCell(6, 6, "в одном месте", 1),
    HeaderCell(7, 7, "мест, штук", 1),
    HeaderCell(8, 8, "Масса брутто", 0, 2),
    HeaderCell(9, 9, "Коли-чество (масса нетто)", 0, 2),
    HeaderCell(10, 10, "Цена, руб. коп.", 0, 2),
    HeaderCell(11, 11, "Сумма без учета НДС, руб. коп.", 0, 2),
    HeaderCell(12, 13, "НДС"),
    HeaderCell(12, 12, "ставка, %", 1),
    HeaderCell(13, 13, "сумма, руб. коп.", 1),
    HeaderCell(14, 14, "Сумма с учетом НДС, руб. коп.", 0, 2),
]


def _grid() -> Grid:
    return Grid(
        [Column(width * MM, align) for width, align in _COLUMNS],  # type: ignore[arg-type]
        _HEADER,
        [5 * MM, 9 * MM],
        numbers=[str(n) for n in range(1, 16)],
        header_size=6,
        body_size=7,
        x=LEFT,
    )


def _row(line: Line) -> list[str]:
    name = line.name
    if line.marking_codes:
        name += "\n" + "\n".join(f"КМ {code.split(chr(29))[0]}" for code in line.marking_codes)
    return [
        str(line.no),
        name,
        line.sku,
        line.unit.name,
        line.unit.code,
        "",
        "",
        "",
        kilograms(line.weight_total_g),
        quantity(line.quantity),
        money(line.net_price),
        money(line.net),
        line.rate_label.replace("%", "") if line.vat_rate is not None else "без НДС",
        money(line.vat) if line.vat_rate is not None else "-",
        money(line.total),
    ]


def _totals_row(caption: str, totals: Totals) -> list[Span]:
    return [
        Span(0, 6, caption, border=False),
        Span(7, 7, ""),
        Span(8, 8, kilograms(totals.weight_g)),
        Span(9, 9, quantity(totals.quantity)),
        Span(10, 10, "X", align="center"),
        Span(11, 11, money(totals.net)),
        Span(12, 12, "X", align="center"),
        Span(13, 13, money(totals.vat)),
        Span(14, 14, money(totals.total)),
    ]


def _codes(sheet: Sheet, top: float, heading: Heading, subject: Subject) -> None:
    x = LEFT + WIDTH - CODES_WIDTH
    label_x = x - 1.5 * MM
    row = 4.2 * MM
    sheet.box(x, top, CODES_WIDTH, row, "Коды", size=7, align="center")
    consignor = subject.consignor or subject.seller
    consignee = subject.consignee or subject.buyer
    entries = [
        ("Форма по ОКУД", "0330212"),
        ("по ОКПО", consignor.okpo or ""),
        ("Вид деятельности по ОКДП", ""),
        ("по ОКПО", consignee.okpo or ""),
        ("по ОКПО", subject.seller.okpo or ""),
        ("по ОКПО", subject.buyer.okpo or ""),
        ("номер", subject.basis.number),
        ("дата", short_date(subject.basis.on)),
        ("номер", ""),
        ("дата", ""),
        ("Вид операции", ""),
    ]
    for index, (label, value) in enumerate(entries, start=1):
        y = top + index * row
        sheet.box(x, y, CODES_WIDTH, row, value, size=7, align="center")
        sheet.text(label_x, y + 0.8 * MM, label, size=6, align="right")
    sheet.text(
        x - 9 * MM, top + 9 * row + 0.8 * MM, "Транспортная накладная", size=6, align="right"
    )


def _parties(sheet: Sheet, top: float, subject: Subject) -> float:
    width = WIDTH - CODES_WIDTH - 50 * MM
    x = LEFT + 24 * MM
    consignor = subject.consignor or subject.seller
    consignee = subject.consignee or subject.buyer
    rows = [
        (
            "",
            consignor.requisites(),
            "организация-грузоотправитель, адрес, телефон, факс, банковские реквизиты",
        ),
        ("", subject.shipping.warehouse, "структурное подразделение"),
        (
            "Грузополучатель",
            consignee.requisites(),
            "организация, адрес, телефон, факс, банковские реквизиты",
        ),
        (
            "Поставщик",
            subject.seller.requisites(),
            "организация, адрес, телефон, факс, банковские реквизиты",
        ),
        (
            "Плательщик",
            subject.buyer.requisites(),
            "организация, адрес, телефон, факс, банковские реквизиты",
        ),
        ("Основание", str(subject.basis), "договор, заказ-наряд"),
    ]
    for label, value, caption in rows:
        if label:
            sheet.text(LEFT, top + 0.5 * MM, label, size=7)
        start = LEFT if not label else x
        top = sheet.field(
            start, top, width - (start - LEFT), value, caption, size=6.5, align="left"
        )
        top += 0.6 * MM
    return top


def _title(sheet: Sheet, top: float, heading: Heading) -> float:
    x = LEFT + 95 * MM
    sheet.box(x, top, 30 * MM, 7 * MM, "Номер документа", size=6, align="center")
    sheet.box(x + 30 * MM, top, 30 * MM, 7 * MM, "Дата составления", size=6, align="center")
    sheet.box(x, top + 7 * MM, 30 * MM, 5 * MM, heading.number, size=8, font=BOLD, align="center")
    sheet.box(
        x + 30 * MM,
        top + 7 * MM,
        30 * MM,
        5 * MM,
        short_date(heading.issued_on),
        size=8,
        font=BOLD,
        align="center",
    )
    sheet.text(x - 3 * MM, top + 7.5 * MM, "ТОВАРНАЯ НАКЛАДНАЯ", size=11, font=BOLD, align="right")
    if heading.corrects is not None:
        sheet.text(
            x + 62 * MM,
            top + 7.5 * MM,
            f"взамен № {heading.corrects.number} от {short_date(heading.corrects.issued_on)}",
            size=7,
        )
    return top + 14 * MM


def render_torg12(heading: Heading, subject: Subject) -> bytes:
    """The ТОРГ-12 of the subject's goods (services stay out), as PDF bytes."""
    sheet = Sheet(
        pagesize=LANDSCAPE,
        title=f"ТОРГ-12 № {heading.number} от {short_date(heading.issued_on)}",
        author=subject.seller.display_name,
        subject=str(subject.basis),
    )
    goods = subject.goods
    grid = _grid()
    rows = [_row(line) for line in goods]
    heights = [grid.row_height(row) for row in rows]
    total_row = grid.spans_height()

    sheet.paragraph(
        LEFT + WIDTH - 75 * MM,
        TOP,
        75 * MM,
        "Унифицированная форма № ТОРГ-12\nУтверждена постановлением Госкомстата России "
        "от 25.12.98 № 132",
        size=6,
        align="right",
    )
    top = TOP + 7 * MM
    _codes(sheet, top, heading, subject)
    top = _parties(sheet, top + 4.2 * MM, subject)
    top = _title(sheet, top + 1 * MM, heading)

    pages = paginate(
        heights,
        first=BOTTOM - top - grid.header_height - total_row,
        rest=BOTTOM - TOP - 5 * MM - grid.header_height - total_row,
        last_extra=total_row + FOOTER,
    )
    for number, page in enumerate(pages, start=1):
        if number > 1:
            sheet.next_page()
            top = TOP
            sheet.text(
                LEFT + WIDTH,
                top,
                f"Товарная накладная № {heading.number} от {short_date(heading.issued_on)}. "
                f"Страница {number}",
                size=7,
                align="right",
            )
            top += 5 * MM
        top = grid.draw_header(sheet, top)
        for index in page:
            top = grid.draw_row(sheet, top, rows[index], heights[index])
        page_totals = Totals.of(goods[index] for index in page)
        top = grid.draw_spans(sheet, top, _totals_row("Итого", page_totals))
    top = grid.draw_spans(sheet, top, _totals_row("Всего по накладной", Totals.of(goods)))
    _footer(sheet, top + 2 * MM, heading, subject, len(pages))
    return sheet.finish()


def _signature(
    sheet: Sheet, x: float, top: float, label: str, position: str, name: str, *, width: float
) -> float:
    start = sheet.label(x, top, label, size=6.5)
    room = x + width - start
    sheet.field(start, top, room * 0.36, position, "должность", size=6.5)
    sheet.field(start + room * 0.38, top, room * 0.22, "", "подпись", size=6.5)
    return sheet.field(start + room * 0.62, top, room * 0.38, name, "расшифровка подписи", size=6.5)


def _footer(sheet: Sheet, top: float, heading: Heading, subject: Subject, pages: int) -> None:
    goods = Totals.of(subject.goods)
    half = WIDTH / 2 - 3 * MM
    right = LEFT + WIDTH / 2 + 3 * MM
    seller = subject.seller
    start = sheet.label(LEFT, top, "Товарная накладная имеет приложение на", size=6.5)
    sheet.field(start, top, 15 * MM, "", "", size=6.5)
    start = sheet.label(start + 16 * MM, top, "листах и содержит", size=6.5)
    sheet.field(start, top, 70 * MM, count_in_words(goods.lines), "прописью", size=6.5)
    sheet.label(start + 71 * MM, top, "порядковых номеров записей", size=6.5)
    top += 6 * MM
    places = subject.shipping.places
    start = sheet.label(LEFT + 40 * MM, top, "Всего мест", size=6.5)
    sheet.field(
        start,
        top,
        55 * MM,
        capitalised(count_in_words(places, "n")) if places else "",
        "прописью",
        size=6.5,
    )
    start = sheet.label(right, top, "Масса груза (нетто)", size=6.5)
    sheet.field(start, top, 80 * MM, "", "прописью", size=6.5)
    start = sheet.label(right, top + 6 * MM, "Масса груза (брутто)", size=6.5)
    sheet.field(
        start,
        top + 6 * MM,
        80 * MM,
        weight_in_words(goods.weight_g) if goods.weight_g else "",
        "прописью",
        size=6.5,
    )
    top += 12 * MM
    start = sheet.label(LEFT, top, "Приложение (паспорта, сертификаты и т.п.) на", size=6.5)
    sheet.field(start, top, 15 * MM, "", "", size=6.5)
    sheet.label(start + 16 * MM, top, "листах", size=6.5)
    start = sheet.label(right, top, "По доверенности №", size=6.5)
    sheet.field(start, top, 30 * MM, "", "", size=6.5)
    start = sheet.label(start + 31 * MM, top, "от", size=6.5)
    sheet.field(start, top, 30 * MM, "", "", size=6.5)
    top += 5 * MM
    sheet.text(LEFT, top, "Всего отпущено на сумму", size=7, font=BOLD)
    sheet.paragraph(LEFT, top + 3.5 * MM, half, money_in_words(goods.total), size=7, font=BOLD)
    start = sheet.label(right, top, "выданной", size=6.5)
    sheet.field(
        start,
        top,
        LEFT + WIDTH - start,
        "",
        "кем, кому (организация, должность, фамилия, и. о.)",
        size=6.5,
    )
    top += 11 * MM
    head, accountant, dispatcher = seller.head, seller.accountant, seller.dispatcher
    left_rows = [
        ("Отпуск груза разрешил", head.position if head else "", head.name.short if head else ""),
        (
            "Главный (старший) бухгалтер",
            "",
            accountant.name.short if accountant else "",
        ),
        (
            "Отпуск груза произвел",
            dispatcher.position if dispatcher else "",
            dispatcher.name.short if dispatcher else "",
        ),
    ]
    y = top
    for label, position, name in left_rows:
        y = _signature(sheet, LEFT, y, label, position, name, width=half) + 1.5 * MM
    sheet.text(LEFT + 10 * MM, y + 1 * MM, "М.П.", size=7, font=REGULAR)
    sheet.text(LEFT + 40 * MM, y + 1 * MM, quoted_date(heading.issued_on), size=7)
    y = top
    for label in ("Груз принял", "Груз получил грузополучатель"):
        y = _signature(sheet, right, y, label, "", "", width=half) + 1.5 * MM
    sheet.text(right + 10 * MM, y + 1 * MM, "М.П.", size=7)
    sheet.text(right + 40 * MM, y + 1 * MM, "«___» ____________ 20___ года", size=7)
    sheet.text(LEFT + WIDTH, BOTTOM + 1 * MM, f"Листов: {pages}", size=6, align="right")
