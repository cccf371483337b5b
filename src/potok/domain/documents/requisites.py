"""The checks Russian requisites carry in themselves: ИНН, ОГРН, КПП, БИК and the account key.

Each function answers ``None`` when the value is right, or a sentence saying what is wrong,
so that a form can list every mistake at once. The rules are the published ones: ИНН and
ОГРН end in check digits, and a bank account is tied to its bank's БИК by a key digit
(weights 7, 1, 3 over the БИК's tail and the account, the sum ending in 0).
"""

from __future__ import annotations

import re

_INN_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12_FIRST = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12_SECOND = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]
_KPP = re.compile(r"\d{4}[0-9A-Z]{2}\d{3}")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_problem(inn: str, *, length: int | None = None) -> str | None:
    """ИНН: 10 digits for an organisation, 12 for a person or an entrepreneur."""
    wanted = (length,) if length else (10, 12)
    if not inn.isdigit() or len(inn) not in wanted:
        sizes = " or ".join(str(n) for n in wanted)
        return f"must be {sizes} digits"
    if inn[:2] == "00":
        return "cannot start with 00 (no tax office has that code)"
    if len(inn) == 10:
        if _check_digit(inn, _INN_10) != int(inn[9]):
            return "the check digit does not match; a digit is wrong or two are swapped"
        return None
    first = _check_digit(inn, _INN_12_FIRST)
    second = _check_digit(inn, _INN_12_SECOND)
    if first != int(inn[10]) or second != int(inn[11]):
        return "the check digits do not match; a digit is wrong or two are swapped"
    return None


def ogrn_problem(ogrn: str, *, length: int | None = None) -> str | None:
    """ОГРН: 13 digits for an organisation; ОГРНИП: 15 digits for an entrepreneur."""
    wanted = (length,) if length else (13, 15)
    if not ogrn.isdigit() or len(ogrn) not in wanted:
        sizes = " or ".join(str(n) for n in wanted)
        return f"must be {sizes} digits"
    modulus = 11 if len(ogrn) == 13 else 13
    if int(ogrn[:-1]) % modulus % 10 != int(ogrn[-1]):
        return "the check digit does not match; a digit is wrong or two are swapped"
    return None


def kpp_problem(kpp: str) -> str | None:
    """КПП: 9 characters, the 5th and 6th may be capital Latin letters; no check digit."""
    if not _KPP.fullmatch(kpp):
        return "must be 9 characters: 4 digits, 2 digits or capital letters, 3 digits"
    if kpp[:2] == "00":
        return "cannot start with 00 (no tax office has that code)"
    return None


def bik_problem(bik: str) -> str | None:
    """БИК of a Russian bank: 9 digits starting with 04."""
    if not bik.isdigit() or len(bik) != 9:
        return "must be 9 digits"
    if not bik.startswith("04"):
        return "a Russian bank's БИК starts with 04"
    return None


def _key_holds(control: str) -> bool:
    return sum(int(d) * w for d, w in zip(control, _ACCOUNT_WEIGHTS, strict=True)) % 10 == 0


def account_problem(account: str, bik: str) -> str | None:
    """A settlement account (расчётный счёт) checked against its bank's БИК."""
    if not account.isdigit() or len(account) != 20:
        return "must be 20 digits"
    if bik_problem(bik) is not None:
        return None  # the БИК is reported on its own; the key cannot be checked without it
    if not _key_holds(bik[-3:] + account):
        return "does not belong to the bank with this БИК (the key digit does not match)"
    return None


def correspondent_account_problem(account: str, bik: str) -> str | None:
    """A bank's correspondent account (корреспондентский счёт) checked against its БИК."""
    if not account.isdigit() or len(account) != 20:
        return "must be 20 digits"
    if not account.startswith("301"):
        return "a correspondent account starts with 301"
    if bik_problem(bik) is not None:
        return None
    if account[-3:] != bik[-3:]:
        return f"a bank's correspondent account ends in its БИК's last three digits ({bik[-3:]})"
    if not _key_holds("0" + bik[4:6] + account):
        return "does not belong to the bank with this БИК (the key digit does not match)"
    return None
