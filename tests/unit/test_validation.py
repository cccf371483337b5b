"""Input checks: GTIN barcodes, drafts of products, channels and warehouses, phones, e-mails."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from potok.domain.catalogue import ProductDraft
from potok.domain.catalogue.model import check_barcode
from potok.domain.channels import ChannelDraft, ChannelType
from potok.domain.customers import normalise_email, normalise_phone
from potok.domain.errors import InvalidInput
from potok.domain.inventory.model import MAX_QUANTITY, require_quantity
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.validation import Problems, gtin_check_digit, require_choice


def problems_of(draft: Any, **kwargs: Any) -> list[tuple[str, str]]:
    """(field, code) of every problem ``draft.validate()`` reports; [] when it is valid."""
    try:
        draft.validate(**kwargs)
    except InvalidInput as error:
        return [(e.field, e.code) for e in error.errors]
    return []


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (ProductDraft("", "Tea", Decimal("1.00"), Decimal("22")), "sku"),
        (ChannelDraft("", "Site", ChannelType.WEB), "code"),
        (WarehouseDraft("", "DC", WarehouseType.WAREHOUSE, "Москва", 55.7, 37.6), "code"),
    ],
    ids=["product", "channel", "warehouse"],
)
def test_a_bad_draft_raises_invalid_input(draft: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        draft.validate()
    assert raised.value.code == "invalid-input"
    assert [(e.field, e.code) for e in raised.value.errors] == [(field, "bad-code")]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"region": "Московская область"}, []),
        ({"region": "x" * 121}, [("region", "too-long")]),
        ({"region": "  "}, [("region", "required")]),
        ({"reservation_hours": 4}, []),
        ({"reservation_hours": 0}, [("reservation_hours", "out-of-range")]),
        ({"reservation_hours": 24 * 90 + 1}, [("reservation_hours", "out-of-range")]),
    ],
)
def test_a_locations_region_and_reservation_hours_are_checked(
    changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    draft = WarehouseDraft("MSK-S1", "Store", WarehouseType.STORE, "Москва", 55.7, 37.6)

    assert problems_of(replace(draft, **changes)) == expected


# ----------------------------------------------------------------- GTIN


@pytest.mark.parametrize(
    "code",
    [
        "4006381333931",  # EAN-13
        "5901234123457",  # EAN-13, the GS1 example
        "012345678905",  # UPC-A
        "96385074",  # EAN-8
        "73513537",  # EAN-8
        "00012345600012",  # GTIN-14
    ],
)
def test_the_gtin_check_digit_matches_real_barcodes(code: str) -> None:
    assert gtin_check_digit(code[:-1]) == int(code[-1])


def test_a_check_digit_of_zero_comes_from_a_multiple_of_ten() -> None:
    assert gtin_check_digit("000000000000") == 0
    assert gtin_check_digit("1") == 7  # 1*3 = 3 -> 7


@settings(max_examples=100)
@given(st.text(alphabet="0123456789", min_size=7, max_size=13))
def test_a_valid_gtin_fails_when_one_digit_changes(body: str) -> None:
    code = body + str(gtin_check_digit(body))
    position = len(body) // 2
    changed = str((int(code[position]) + 1) % 10)
    broken = code[:position] + changed + code[position + 1 :]
    assert gtin_check_digit(broken[:-1]) != int(broken[-1])


def _barcode_problems(barcode: str, prefix: str = "") -> list[tuple[str, str]]:
    problems = Problems(prefix)
    check_barcode(problems, barcode)
    return [(e.field, e.code) for e in problems.errors]


@pytest.mark.parametrize(
    "barcode",
    ["4006381333931", "96385074", "012345678905", "00012345600012", "ABC-123", "12345"],
)
def test_good_barcodes_pass(barcode: str) -> None:
    assert _barcode_problems(barcode) == []


@pytest.mark.parametrize("barcode", ["4006381333932", "96385070", "012345678900"])
def test_a_gtin_with_the_wrong_check_digit_is_refused(barcode: str) -> None:
    assert _barcode_problems(barcode) == [("barcode", "bad-check-digit")]


def test_digits_of_a_length_gtin_does_not_use_are_not_checked() -> None:
    assert _barcode_problems("1234567890") == []  # 10 digits: not a GTIN


@pytest.mark.parametrize("barcode", ["", "x" * 65, "40063\n81333931", "tab\there"])
def test_a_barcode_must_be_1_to_64_printable_characters(barcode: str) -> None:
    assert _barcode_problems(barcode) == [("barcode", "bad-barcode")]


def test_a_barcode_of_64_characters_is_allowed() -> None:
    assert _barcode_problems("x" * 64) == []


def test_barcode_problems_carry_the_prefix() -> None:
    assert _barcode_problems("4006381333932", "items[3].") == [
        ("items[3].barcode", "bad-check-digit")
    ]


# ----------------------------------------------------------------- products


def product(**changes: Any) -> ProductDraft:
    fields: dict[str, Any] = {
        "sku": "TEA-GREEN-100",
        "name": "Зелёный чай, 100 г",
        "price": Decimal("349.00"),
        "vat_rate": Decimal("22"),
        "barcode": "4006381333931",
        "weight_g": 120,
    }
    fields.update(changes)
    return ProductDraft(**fields)


def test_a_good_product_draft_passes() -> None:
    assert problems_of(product()) == []
    assert problems_of(product(barcode=None, weight_g=0, price=Decimal("0"))) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"sku": ""}, ("sku", "bad-code")),
        ({"sku": "-TEA"}, ("sku", "bad-code")),
        ({"sku": "TEA GREEN"}, ("sku", "bad-code")),
        ({"sku": "ЧАЙ-1"}, ("sku", "bad-code")),
        ({"sku": "T" * 65}, ("sku", "bad-code")),
        ({"name": "   "}, ("name", "required")),
        ({"name": "n" * 256}, ("name", "too-long")),
        ({"price": Decimal("-0.01")}, ("price", "negative")),
        ({"price": Decimal("1.999")}, ("price", "too-precise")),
        ({"price": Decimal("NaN")}, ("price", "not-a-number")),
        ({"price": Decimal("Infinity")}, ("price", "not-a-number")),
        ({"price": Decimal("1e12")}, ("price", "too-large")),
        ({"vat_rate": Decimal("100")}, ("vat_rate", "bad-vat-rate")),
        ({"vat_rate": Decimal("-1")}, ("vat_rate", "bad-vat-rate")),
        ({"vat_rate": Decimal("NaN")}, ("vat_rate", "bad-vat-rate")),
        ({"vat_rate": Decimal("10.005")}, ("vat_rate", "too-precise")),
        ({"weight_g": -1}, ("weight_g", "negative")),
        ({"barcode": "4006381333932"}, ("barcode", "bad-check-digit")),
        ({"barcode": ""}, ("barcode", "bad-barcode")),
    ],
)
def test_a_bad_product_field_is_named(changes: dict[str, Any], problem: tuple[str, str]) -> None:
    assert problems_of(product(**changes)) == [problem]


@pytest.mark.parametrize(
    "sku", ["A", "tea.green_100", "TEA-GREEN/100g", "0-START", "T" * 64, "a.b_c-d/e"]
)
def test_skus_may_use_letters_digits_and_a_few_signs(sku: str) -> None:
    assert problems_of(product(sku=sku)) == []


@pytest.mark.parametrize("rate", ["0", "10", "22", "99.99", "7.5"])
def test_vat_rates_from_zero_to_just_under_a_hundred_are_allowed(rate: str) -> None:
    assert problems_of(product(vat_rate=Decimal(rate))) == []


def test_the_largest_price_allowed_is_just_under_a_trillion() -> None:
    assert problems_of(product(price=Decimal("999999999999.99"))) == []


def test_every_bad_product_field_is_listed_at_once() -> None:
    draft = product(sku="", name="", price=Decimal("-1"), vat_rate=Decimal("120"), weight_g=-5)
    assert problems_of(draft) == [
        ("sku", "bad-code"),
        ("name", "required"),
        ("price", "negative"),
        ("vat_rate", "bad-vat-rate"),
        ("weight_g", "negative"),
    ]


def test_product_problems_carry_the_prefix() -> None:
    draft = product(price=Decimal("-1"), barcode="96385070")
    assert problems_of(draft, prefix="products[2].") == [
        ("products[2].price", "negative"),
        ("products[2].barcode", "bad-check-digit"),
    ]


def test_a_huge_price_is_reported_as_too_large() -> None:
    assert problems_of(product(price=Decimal("1e30"))) == [("price", "too-large")]


def test_a_code_with_a_trailing_newline_is_refused() -> None:
    assert problems_of(product(sku="TEA\n")) == [("sku", "bad-code")]


# ----------------------------------------------------------------- channels


def channel(**changes: Any) -> ChannelDraft:
    fields: dict[str, Any] = {"code": "ozon", "name": "Ozon", "type": ChannelType.MARKETPLACE}
    fields.update(changes)
    return ChannelDraft(**fields)


def test_a_good_channel_draft_passes() -> None:
    assert problems_of(channel()) == []
    assert problems_of(channel(payment_deadline_minutes=1, safety_buffer=0)) == []
    assert problems_of(channel(payment_deadline_minutes=60 * 24 * 30)) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"code": "ozon market"}, ("code", "bad-code")),
        ({"name": ""}, ("name", "required")),
        ({"currency": "rub"}, ("currency", "bad-currency")),
        ({"currency": "RUBL"}, ("currency", "bad-currency")),
        ({"currency": "RU"}, ("currency", "bad-currency")),
        ({"safety_buffer": -1}, ("safety_buffer", "negative")),
        ({"payment_deadline_minutes": 0}, ("payment_deadline_minutes", "out-of-range")),
        (
            {"payment_deadline_minutes": 60 * 24 * 30 + 1},
            ("payment_deadline_minutes", "out-of-range"),
        ),
    ],
)
def test_a_bad_channel_field_is_named(changes: dict[str, Any], problem: tuple[str, str]) -> None:
    assert problems_of(channel(**changes)) == [problem]


def test_every_bad_channel_field_is_listed_at_once() -> None:
    draft = channel(code="", name="", currency="", safety_buffer=-2, payment_deadline_minutes=-5)
    assert [field for field, _ in problems_of(draft)] == [
        "code",
        "name",
        "currency",
        "safety_buffer",
        "payment_deadline_minutes",
    ]


def test_a_currency_with_a_trailing_newline_is_refused() -> None:
    assert problems_of(channel(currency="RUB\n")) == [("currency", "bad-currency")]


# ----------------------------------------------------------------- warehouses


def warehouse(**changes: Any) -> WarehouseDraft:
    fields: dict[str, Any] = {
        "code": "MSK-1",
        "name": "Moscow DC",
        "type": WarehouseType.WAREHOUSE,
        "city": "Москва",
        "latitude": 55.66,
        "longitude": 37.86,
        "channels": ("web", "ozon"),
    }
    fields.update(changes)
    return WarehouseDraft(**fields)


def test_a_good_warehouse_draft_passes() -> None:
    assert problems_of(warehouse()) == []
    assert problems_of(warehouse(latitude=-90.0, longitude=180.0, priority=-1000)) == []
    assert problems_of(warehouse(latitude=90.0, longitude=-180.0, priority=1000)) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"code": "МСК"}, ("code", "bad-code")),
        ({"name": ""}, ("name", "required")),
        ({"city": ""}, ("city", "required")),
        ({"city": "c" * 121}, ("city", "too-long")),
        ({"address": "a" * 501}, ("address", "too-long")),
        ({"latitude": 90.5}, ("latitude", "out-of-range")),
        ({"latitude": float("nan")}, ("latitude", "out-of-range")),
        ({"longitude": -180.5}, ("longitude", "out-of-range")),
        ({"latitude": None}, ("latitude", "partial")),
        ({"longitude": None}, ("latitude", "partial")),
        ({"priority": 1001}, ("priority", "out-of-range")),
        ({"priority": -1001}, ("priority", "out-of-range")),
        ({"channels": ("web", "ozon", "web")}, ("channels", "duplicate")),
    ],
)
def test_a_bad_warehouse_field_is_named(changes: dict[str, Any], problem: tuple[str, str]) -> None:
    assert problems_of(warehouse(**changes)) == [problem]


def test_an_empty_address_is_allowed() -> None:
    assert problems_of(warehouse(address="")) == []


def test_both_coordinates_out_of_range_are_both_named() -> None:
    assert problems_of(warehouse(latitude=100.0, longitude=200.0)) == [
        ("latitude", "out-of-range"),
        ("longitude", "out-of-range"),
    ]


# ----------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("quantity", "allow_zero", "code"),
    [
        (0, False, "not-positive"),
        (-1, False, "not-positive"),
        (-1, True, "negative"),
        (MAX_QUANTITY + 1, False, "too-large"),
    ],
)
def test_a_bad_quantity_is_named(quantity: int, allow_zero: bool, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        require_quantity("quantity", quantity, allow_zero=allow_zero)
    assert [(e.field, e.code) for e in raised.value.errors] == [("quantity", code)]


@pytest.mark.parametrize(("quantity", "allow_zero"), [(1, False), (0, True), (MAX_QUANTITY, False)])
def test_a_good_quantity_passes(quantity: int, allow_zero: bool) -> None:
    require_quantity("quantity", quantity, allow_zero=allow_zero)


# ----------------------------------------------------------------- phones and e-mails


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("89123456789", "+79123456789"),
        ("8 (912) 345-67-89", "+79123456789"),
        ("+7 912 345 67 89", "+79123456789"),
        ("7-912-345-67-89", "+79123456789"),
        ("9123456789", "+79123456789"),
        ("(912) 345 67 89", "+79123456789"),
        ("+375 29 123 45 67", "+375291234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("1234567", "+1234567"),
        ("123456789012345", "+123456789012345"),
    ],
)
def test_phones_become_international_digits(raw: str, phone: str) -> None:
    assert normalise_phone(raw) == phone


@pytest.mark.parametrize(
    "raw", ["", "no phone", "123456", "+7 912", "1234567890123456", "8912345678901234"]
)
def test_what_cannot_be_a_phone_is_none(raw: str) -> None:
    assert normalise_phone(raw) is None


@pytest.mark.parametrize("raw", ["4951234567", "8123456789"])
def test_a_ten_digit_number_not_starting_with_9_keeps_its_digits(raw: str) -> None:
    # only mobiles (9XX) are recognised without the country code
    assert normalise_phone(raw) == "+" + raw


def test_the_same_phone_written_differently_normalises_the_same() -> None:
    variants = ["8 912 345-67-89", "+7 (912) 345-67-89", "9123456789", "79123456789"]
    assert {normalise_phone(v) for v in variants} == {"+79123456789"}


@pytest.mark.parametrize(
    ("raw", "email"),
    [
        ("ivan@example.com", "ivan@example.com"),
        ("  Ivan.Petrov@Example.COM  ", "ivan.petrov@example.com"),
        ("a+tag@sub.example.ru", "a+tag@sub.example.ru"),
        ("a@b.c", "a@b.c"),
    ],
)
def test_emails_are_trimmed_and_lower_cased(raw: str, email: str) -> None:
    assert normalise_email(raw) == email


@pytest.mark.parametrize(
    "raw",
    ["", "ivan", "ivan@", "@example.com", "ivan@example", "iv an@example.com", "a@b@c.d"],
)
def test_what_is_not_shaped_like_an_email_is_none(raw: str) -> None:
    assert normalise_email(raw) is None


def test_an_email_longer_than_254_characters_is_none() -> None:
    local = "a" * 64
    domain = "b" * (254 - 64 - 1 - 4) + ".com"
    assert normalise_email(f"{local}@{domain}") == f"{local}@{domain}"
    assert normalise_email(f"{local}a@{domain}") is None


def test_a_value_outside_the_choices_is_refused_naming_them() -> None:
    class Colour(StrEnum):
        RED = "red"
        BLUE = "blue"

    require_choice("colour", None, Colour, "unknown-colour")
    require_choice("colour", "blue", Colour, "unknown-colour")
    with pytest.raises(InvalidInput) as refused:
        require_choice("colour", "green", Colour, "unknown-colour")
    [error] = refused.value.errors
    assert (error.field, error.message, error.code) == (
        "colour",
        "must be one of red, blue",
        "unknown-colour",
    )
