"""Amounts, counts and weights in Russian words, with the noun in the right form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from potok.domain.documents.words import (
    ROUBLE,
    count_in_words,
    money_in_words,
    plural,
    weight_in_words,
)


@pytest.mark.parametrize(
    ("count", "form"),
    [
        (1, "рубль"),
        (2, "рубля"),
        (4, "рубля"),
        (5, "рублей"),
        (11, "рублей"),
        (12, "рублей"),
        (14, "рублей"),
        (21, "рубль"),
        (22, "рубля"),
        (25, "рублей"),
        (101, "рубль"),
        (111, "рублей"),
        (1000, "рублей"),
        (0, "рублей"),
    ],
)
def test_plural_forms_follow_the_last_digits(count: int, form: str) -> None:
    assert plural(count, ROUBLE) == form


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.00", "Ноль рублей 00 копеек"),
        ("1.01", "Один рубль 01 копейка"),
        ("2.02", "Два рубля 02 копейки"),
        ("5.05", "Пять рублей 05 копеек"),
        ("11.11", "Одиннадцать рублей 11 копеек"),
        ("21.21", "Двадцать один рубль 21 копейка"),
        ("1234.56", "Одна тысяча двести тридцать четыре рубля 56 копеек"),
        ("2000001.02", "Два миллиона один рубль 02 копейки"),
        ("18872.50", "Восемнадцать тысяч восемьсот семьдесят два рубля 50 копеек"),
    ],
)
def test_money_in_words_roubles_in_words_kopecks_in_figures(amount: str, words: str) -> None:
    assert money_in_words(Decimal(amount)) == words


def test_other_currencies_stay_in_figures() -> None:
    assert money_in_words(Decimal("12.5"), "EUR") == "12.50 EUR"


def test_counts_take_the_gender_of_what_they_count() -> None:
    assert count_in_words(21) == "двадцать один"  # номер (записи) - masculine
    assert count_in_words(21, "n") == "двадцать одно"  # место - neuter
    assert count_in_words(2, "f") == "две"


def test_weight_in_kilograms_and_grams() -> None:
    assert weight_in_words(12500) == "Двенадцать килограммов 500 граммов"
    assert weight_in_words(1000) == "Один килограмм"
    assert weight_in_words(22002) == "Двадцать два килограмма 2 грамма"
