"""The payment QR code of ГОСТ Р 56042-2014 that Russian banking apps read off an invoice.

The payload is ``ST0001`` plus the character set (``2``: UTF-8), then ``|``-separated
``Key=value`` pairs: the five mandatory ones (Name, PersonalAcc, BankName, BIC,
CorrespAcc) first, then the sum in kopecks, the purpose and the payee's ИНН and КПП.
Values never contain the separator, and each is cut to the standard's maximum length.
"""

from __future__ import annotations

from decimal import Decimal

import segno

from potok.domain.documents import BankAccount, Party
from potok.renderers.pdf import Sheet

HEADER = "ST00012"  # format ST, version 0001, encoding 2 = UTF-8
SEPARATOR = "|"
LIMITS = {
    "Name": 160,
    "PersonalAcc": 20,
    "BankName": 45,
    "BIC": 9,
    "CorrespAcc": 20,
    "Sum": 18,
    "Purpose": 210,
    "PayeeINN": 12,
    "KPP": 9,
}


def _clean(value: str, limit: int) -> str:
    text = " ".join(value.replace(SEPARATOR, "/").split())
    return text[:limit]


def payment_payload(payee: Party, bank: BankAccount, amount: Decimal, purpose: str) -> str:
    """The text inside the QR code."""
    fields = [
        ("Name", payee.name),
        ("PersonalAcc", bank.account),
        ("BankName", bank.bank_name),
        ("BIC", bank.bik),
        ("CorrespAcc", bank.correspondent_account or "0"),
        ("Sum", str(int((amount * 100).to_integral_value()))),
        ("Purpose", purpose),
    ]
    if payee.inn:
        fields.append(("PayeeINN", payee.inn))
    if payee.kpp:
        fields.append(("KPP", payee.kpp))
    pairs = [f"{key}={_clean(value, LIMITS[key])}" for key, value in fields]
    return SEPARATOR.join([HEADER, *pairs])


def draw_qr(sheet: Sheet, x: float, top: float, size: float, payload: str) -> None:
    """The code as black squares, ``size`` points wide including its quiet zone."""
    code = segno.make(payload, error="m", encoding="utf-8", mode="byte", micro=False)
    matrix = code.matrix
    border = 4  # modules of quiet zone the standard asks for
    module = size / (len(matrix) + 2 * border)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                sheet.fill(
                    x + (col_index + border) * module,
                    top + (row_index + border) * module,
                    module,
                    module,
                )
