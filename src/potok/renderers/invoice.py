"""Счёт на оплату: the invoice a buyer pays by, in the layout Russian banks and buyers expect.

Portrait A4: the payee's bank block (bank, БИК, correspondent and settlement accounts,
ИНН, КПП, payee), the payment QR code of ГОСТ Р 56042-2014 beside the title, supplier,
buyer and basis, the lines, the totals with VAT per rate (or «Без налога (НДС)»), the
total in words, and the signatures of the head and the accountant.
"""

from __future__ import annotations

from potok.domain.documents import Heading, Party, PartyKind, Subject, totals_by_rate
from potok.domain.documents.words import money_in_words
from potok.renderers.fonts import BOLD, REGULAR
from potok.renderers.formats import long_date, money, quantity, short_date
from potok.renderers.payment_qr import draw_qr, payment_payload
from potok.renderers.pdf import MM, PORTRAIT, Column, Grid, HeaderCell, Sheet, Span, paginate

LEFT = 15 * MM
WIDTH = 185 * MM
TOP = 10 * MM
BOTTOM = 287 * MM


def _bank_block(sheet: Sheet, top: float, seller: Party) -> float:
    bank = seller.bank
    assert bank is not None, "an invoice is issued only for a seller with a bank account"
    row = 5 * MM
    col1, col2, col3 = 105 * MM, 15 * MM, 65 * MM
    x2, x3 = LEFT + col1, LEFT + col1 + col2
    sheet.box(LEFT, top, col1, 2 * row, "", border=True)
    sheet.text(LEFT + 1 * MM, top + 0.8 * MM, bank.bank_name, size=8)
    sheet.text(LEFT + 1 * MM, top + 2 * row - 3.5 * MM, "Банк получателя", size=6.5)
    sheet.box(x2, top, col2, row, "БИК", size=8)
    sheet.box(x3, top, col3, row, bank.bik, size=8)
    sheet.box(x2, top + row, col2, row, "Сч. №", size=8)
    sheet.box(x3, top + row, col3, row, bank.correspondent_account, size=8)
    sheet.box(x2, top + 2 * row, col2, 3 * row, "Сч. №", size=8, valign="top")
    sheet.box(LEFT, top + 2 * row, col1 / 2, row, f"ИНН {seller.inn or ''}", size=8)
    sheet.box(LEFT + col1 / 2, top + 2 * row, col1 / 2, row, f"КПП {seller.kpp or ''}", size=8)
    sheet.box(x3, top + 2 * row, col3, 3 * row, bank.account, size=8, valign="top")
    sheet.box(LEFT, top + 3 * row, col1, 2 * row, "", border=True)
    sheet.text(LEFT + 1 * MM, top + 3 * row + 0.8 * MM, seller.name, size=8)
    sheet.text(LEFT + 1 * MM, top + 5 * row - 3.5 * MM, "Получатель", size=6.5)
    return top + 5 * row


def _party_rows(sheet: Sheet, top: float, subject: Subject) -> float:
    rows = [
        ("Поставщик\n(Исполнитель):", subject.seller.requisites(with_bank=False)),
        ("Покупатель\n(Заказчик):", subject.buyer.requisites(with_bank=False)),
        ("Основание:", str(subject.basis)),
    ]
    for caption, value in rows:
        sheet.paragraph(LEFT, top, 28 * MM, caption, size=8)
        bottom = sheet.paragraph(LEFT + 30 * MM, top, WIDTH - 30 * MM, value, size=8, font=BOLD)
        top = max(bottom, top + 8 * MM) + 1.5 * MM
    return top


def _grid() -> Grid:
    widths = [
        (8, "center"),
        (97, "left"),
        (18, "right"),
        (12, "center"),
        (24, "right"),
        (26, "right"),
    ]
    columns = [Column(w * MM, a) for w, a in widths]  # type: ignore[arg-type]
    titles = ["№", "Товары (работы, услуги)", "Кол-во", "Ед.", "Цена", "Сумма"]
    header = [HeaderCell(i, i, title) for i, title in enumerate(titles)]
    return Grid(columns, header, [6 * MM], header_size=8, body_size=8, x=LEFT)


def render_invoice(heading: Heading, subject: Subject) -> bytes:
    """The invoice as PDF bytes."""
    sheet = Sheet(
        pagesize=PORTRAIT,
        title=f"Счёт на оплату № {heading.number} от {short_date(heading.issued_on)}",
        author=subject.seller.display_name,
        subject=str(subject.basis),
    )
    seller, totals = subject.seller, subject.totals
    grid = _grid()
    rows = [
        [
            str(line.no),
            line.name,
            quantity(line.quantity),
            line.unit.name,
            money(line.price),
            money(line.total),
        ]
        for line in subject.lines
    ]
    heights = [grid.row_height(row) for row in rows]
    rates = totals_by_rate(subject.lines)
    totals_height = (2 + len(rates)) * 5 * MM
    footer_height = totals_height + 40 * MM

    top = TOP
    sheet.paragraph(
        LEFT,
        top,
        WIDTH,
        "Оплата этого счёта означает согласие с условиями поставки товара. Товар отпускается "
        "по факту поступления денег на расчётный счёт поставщика.",
        size=6.5,
        align="center",
    )
    top = _bank_block(sheet, top + 8 * MM, seller) + 6 * MM
    title = f"Счёт на оплату № {heading.number} от {long_date(heading.issued_on)}"
    if heading.corrects is not None:
        title += (
            f" (взамен № {heading.corrects.number} от {short_date(heading.corrects.issued_on)})"
        )
    qr_size = 32 * MM
    sheet.paragraph(LEFT, top + 4 * MM, WIDTH - qr_size - 4 * MM, title, size=13, font=BOLD)
    purpose = f"Оплата по счёту № {heading.number} от {short_date(heading.issued_on)}. " + (
        f"В т.ч. НДС {money(totals.vat)} руб." if totals.vat else "НДС не облагается"
    )
    assert seller.bank is not None
    draw_qr(
        sheet,
        LEFT + WIDTH - qr_size,
        top - 3 * MM,
        qr_size,
        payment_payload(seller, seller.bank, totals.total, purpose),
    )
    top += qr_size - 2 * MM
    sheet.line(LEFT, top, LEFT + WIDTH, top, width=1.2)
    top = _party_rows(sheet, top + 3 * MM, subject)

    pages = paginate(
        heights,
        first=BOTTOM - top - grid.header_height,
        rest=BOTTOM - TOP - 6 * MM - grid.header_height,
        last_extra=footer_height,
    )
    for number, page in enumerate(pages, start=1):
        if number > 1:
            sheet.next_page()
            top = TOP
            sheet.text(
                LEFT + WIDTH,
                top,
                f"Счёт на оплату № {heading.number} от {short_date(heading.issued_on)}, "
                f"лист {number} из {len(pages)}",
                size=7,
                align="right",
            )
            top += 6 * MM
        top = grid.draw_header(sheet, top)
        for index in page:
            top = grid.draw_row(sheet, top, rows[index], heights[index])
    _totals(sheet, top + 2 * MM, subject)
    return sheet.finish()


def _totals(sheet: Sheet, top: float, subject: Subject) -> None:
    grid = _grid()
    totals = subject.totals
    rows: list[tuple[str, str]] = [("Итого:", money(totals.total))]
    for rate in totals_by_rate(subject.lines):
        if rate.rate is None:
            rows.append(("Без налога (НДС)", "-"))
        else:
            rows.append((f"В том числе НДС {rate.rate.normalize():f}%:", money(rate.vat)))
    rows.append(("Всего к оплате:", money(totals.total)))
    for caption, value in rows:
        top = grid.draw_spans(
            sheet,
            top,
            [Span(0, 4, caption, border=False), Span(5, 5, value, border=False)],
        )
    top += 2 * MM
    sheet.text(
        LEFT,
        top,
        f"Всего наименований {totals.lines}, на сумму {money(totals.total)} руб.",
        size=8,
    )
    top = sheet.paragraph(
        LEFT, top + 4 * MM, WIDTH, money_in_words(totals.total), size=8.5, font=BOLD
    )
    sheet.line(LEFT, top + 2 * MM, LEFT + WIDTH, top + 2 * MM, width=1.2)
    top += 8 * MM
    seller = subject.seller
    head_title = "Предприниматель" if seller.kind is PartyKind.ENTREPRENEUR else "Руководитель"
    signers = [(head_title, seller.head)]
    if seller.kind is not PartyKind.ENTREPRENEUR:
        signers.append(("Бухгалтер", seller.accountant))
    x = LEFT
    for caption, signer in signers:
        start = sheet.label(x, top, caption, bold=True, size=8)
        sheet.field(start, top, 25 * MM, "", "подпись", font=REGULAR)
        sheet.field(
            start + 27 * MM,
            top,
            40 * MM,
            signer.name.short if signer else "",
            "расшифровка подписи",
        )
        x += WIDTH / 2
