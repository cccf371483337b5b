"""Amounts and counts in Russian words, as documents spell them out («прописью»).

``num2words`` knows the numerals and their genders; what this module adds is the way
Russian paperwork writes them: roubles in words, kopecks in digits, the noun in the form
the number asks for (1 рубль, 2 рубля, 5 рублей; 11 рублей; 21 рубль).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from num2words import num2words
from num2words.lang_RU import Num2Word_RU

Gender = Literal["m", "f", "n"]

_RU = Num2Word_RU()
ROUBLE = ("рубль", "рубля", "рублей")
KOPECK = ("копейка", "копейки", "копеек")
KILOGRAM = ("килограмм", "килограмма", "килограммов")
GRAM = ("грамм", "грамма", "граммов")


def plural(count: int, forms: tuple[str, str, str]) -> str:
    """The noun's form for ``count``: (one, few, many) - рубль, рубля, рублей."""
    form: str = _RU.pluralize(abs(count), forms)
    return form


def number_in_words(count: int, gender: Gender = "m") -> str:
    """A whole number in words, in the gender of the noun it counts: одна копейка, одно место."""
    if count < 0:
        return "минус " + number_in_words(-count, gender)
    words: str = num2words(count, lang="ru", gender=gender)
    return words


def capitalised(text: str) -> str:
    """The first letter in capitals, the rest as it is (a sentence starts with it)."""
    return text[:1].upper() + text[1:]


def money_in_words(amount: Decimal, currency: str = "RUB") -> str:
    """«Одна тысяча двести тридцать четыре рубля 56 копеек»; other currencies in figures."""
    kopecks_total = int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
    if currency != "RUB":
        return f"{Decimal(kopecks_total) / 100:.2f} {currency}"
    sign = "минус " if kopecks_total < 0 else ""
    roubles, kopecks = divmod(abs(kopecks_total), 100)
    text = (
        f"{sign}{number_in_words(roubles)} {plural(roubles, ROUBLE)} "
        f"{kopecks:02d} {plural(kopecks, KOPECK)}"
    )
    return capitalised(text)


def count_in_words(count: int, gender: Gender = "m") -> str:
    """A count as a form asks for it: «пять», «двадцать одно» (места - neuter)."""
    return number_in_words(count, gender)


def weight_in_words(grams: int) -> str:
    """«Двенадцать килограммов 500 граммов» - kilograms in words, grams in figures."""
    kilograms, rest = divmod(grams, 1000)
    text = f"{number_in_words(kilograms)} {plural(kilograms, KILOGRAM)}"
    if rest:
        text += f" {rest} {plural(rest, GRAM)}"
    return capitalised(text)
