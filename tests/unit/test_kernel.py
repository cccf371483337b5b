"""Shared value types: money, VAT, actors, time, errors and the shape of domain events."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from potok.domain.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PotokError,
    Rejected,
    StaleVersion,
    TransientConflict,
    Unavailable,
)
from potok.domain.events import DomainEvent, plain
from potok.domain.inventory.events import StockChanged, StockSynced
from potok.domain.kernel import (
    Actor,
    ActorKind,
    CurrencyMismatch,
    Money,
    as_utc,
    round_money,
    utc_now,
    vat_included,
)
from potok.domain.orders import events as order_events

MSK = timezone(timedelta(hours=3))
AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)

# ----------------------------------------------------------------- money


def rub(amount: str) -> Money:
    return Money(Decimal(amount), "RUB")


def test_money_of_one_currency_adds_and_subtracts() -> None:
    assert rub("10.50") + rub("0.75") == rub("11.25")
    assert rub("10.50") - rub("0.75") == rub("9.75")
    assert rub("1.00") - rub("2.50") == rub("-1.50")


@pytest.mark.parametrize("operation", [operator.add, operator.sub], ids=["add", "sub"])
def test_combining_two_currencies_raises_currency_mismatch(
    operation: Callable[[Money, Money], Money],
) -> None:
    with pytest.raises(CurrencyMismatch) as raised:
        operation(rub("1.00"), Money(Decimal("1.00"), "USD"))
    assert raised.value.code == "currency-mismatch"
    assert raised.value.context == {"left": "RUB", "right": "USD"}
    assert isinstance(raised.value, Rejected)


def test_money_times_a_quantity_keeps_the_currency() -> None:
    assert rub("199.99").times(3) == rub("599.97")
    assert rub("5.00").times(0) == rub("0.00")


def test_zero_money_has_kopecks() -> None:
    zero = Money.zero("KZT")
    assert zero.amount == Decimal("0.00")
    assert str(zero.amount) == "0.00"
    assert zero.currency == "KZT"


def test_rounded_money_has_whole_kopecks() -> None:
    assert rub("1.005").rounded() == rub("1.01")
    assert rub("1.004").rounded() == rub("1.00")
    assert str(rub("7").rounded().amount) == "7.00"


def test_money_reads_as_amount_and_currency() -> None:
    assert str(rub("1990.00")) == "1990.00 RUB"


def test_money_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        rub("1.00").amount = Decimal(2)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # banker's rounding would give 0.02
        ("2.675", "2.68"),
        ("-0.005", "-0.01"),  # half away from zero
        ("-2.675", "-2.68"),
        ("0.0049999", "0.00"),
        ("12", "12.00"),
    ],
)
def test_round_money_rounds_half_away_from_zero(amount: str, expected: str) -> None:
    rounded = round_money(Decimal(amount))
    assert rounded == Decimal(expected)
    assert str(rounded) == expected


@pytest.mark.parametrize(
    ("gross", "rate", "vat"),
    [
        ("122.00", "22", "22.00"),
        ("1220.00", "22", "220.00"),
        ("100.00", "22", "18.03"),  # 18.0327...
        ("110.00", "10", "10.00"),
        ("1000.00", "10", "90.91"),  # 90.909...
        ("120.00", "20", "20.00"),
        ("0.27", "20", "0.05"),  # exactly 0.045: half-up
        ("0.03", "20", "0.01"),  # exactly 0.005: half-up
        ("0.12", "60", "0.05"),  # exactly 0.045
        ("999.99", "0", "0.00"),
    ],
)
def test_vat_included_is_taken_out_of_the_gross_price(gross: str, rate: str, vat: str) -> None:
    assert vat_included(Decimal(gross), Decimal(rate)) == Decimal(vat)


def test_zero_vat_is_zero_with_kopecks() -> None:
    assert str(vat_included(Decimal("500"), Decimal("0"))) == "0.00"


@settings(max_examples=200)
@given(
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.decimals(min_value=0, max_value=Decimal("99.99"), places=2),
)
def test_vat_is_never_more_than_the_gross_and_has_kopecks(gross: Decimal, rate: Decimal) -> None:
    vat = vat_included(gross, rate)
    assert Decimal(0) <= vat <= gross
    assert vat == vat.quantize(Decimal("0.01"))
    # the net price plus the VAT on it gives the gross back within half a kopeck
    if rate:
        net = gross - vat
        assert abs(net * rate / 100 - vat) <= Decimal("0.005") * (1 + rate / 100)


# ----------------------------------------------------------------- actors


@pytest.mark.parametrize(
    ("text", "actor"),
    [
        ("user:olga", Actor(ActorKind.USER, "olga")),
        ("api_key:shop-1", Actor(ActorKind.API_KEY, "shop-1")),
        ("api:client", Actor(ActorKind.API, "client")),
        ("cli:root", Actor(ActorKind.CLI, "root")),
        ("system:expiry", Actor(ActorKind.SYSTEM, "expiry")),
    ],
)
def test_an_actor_reads_and_writes_as_kind_colon_name(text: str, actor: Actor) -> None:
    assert Actor.parse(text) == actor
    assert str(actor) == text


def test_an_actor_name_may_contain_colons() -> None:
    actor = Actor.parse("api_key:ozon:seller:42")
    assert actor == Actor(ActorKind.API_KEY, "ozon:seller:42")
    assert str(actor) == "api_key:ozon:seller:42"


def test_an_unknown_actor_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="robot"):
        Actor.parse("robot:r2d2")


def test_the_system_actor_names_its_job() -> None:
    assert str(Actor.system()) == "system:potok"
    assert Actor.system("expiry") == Actor(ActorKind.SYSTEM, "expiry")


# ----------------------------------------------------------------- time


def test_a_naive_time_is_taken_as_utc() -> None:
    moment = as_utc(datetime(2026, 3, 2, 10, 30))
    assert moment == AT
    assert moment.tzinfo is UTC


def test_an_aware_time_is_converted_to_utc() -> None:
    moment = as_utc(datetime(2026, 3, 2, 13, 30, tzinfo=MSK))
    assert moment == AT
    assert moment.hour == 10
    assert moment.utcoffset() == timedelta(0)


def test_now_is_aware_and_in_utc() -> None:
    now = utc_now()
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


# ----------------------------------------------------------------- errors


def test_an_error_detail_is_filled_from_its_context() -> None:
    error = StaleVersion(expected=3, actual=5)
    assert error.code == "stale-version"
    assert error.context == {"expected": 3, "actual": 5}
    assert "3" in error.detail
    assert "5" in error.detail
    assert not error.explicit_detail
    assert str(error) == error.detail


def test_an_error_with_missing_context_falls_back_to_its_title() -> None:
    error = StaleVersion(expected=3)
    assert error.detail == StaleVersion.title


def test_an_explicit_detail_wins_over_the_template() -> None:
    error = StaleVersion("reload first", expected=3, actual=5)
    assert error.explicit_detail
    assert error.detail == "reload first"
    assert error.context == {"expected": 3, "actual": 5}


def test_invalid_input_keeps_every_field_error() -> None:
    errors = [FieldError("sku", "bad", "bad-code"), FieldError("price", "negative", "negative")]
    error = InvalidInput(errors)
    assert error.code == "invalid-input"
    assert error.errors == errors
    assert error.errors is not errors


@pytest.mark.parametrize(
    ("kind", "parent"),
    [
        (NotFound, PotokError),
        (Conflict, PotokError),
        (Rejected, PotokError),
        (Unavailable, PotokError),
        (TransientConflict, Unavailable),
        (StaleVersion, PotokError),
        (InvalidInput, PotokError),
    ],
)
def test_error_kinds_belong_to_their_family(kind: type[PotokError], parent: type) -> None:
    assert issubclass(kind, parent)


def test_error_codes_are_unique_across_the_base_kinds() -> None:
    kinds = [
        PotokError,
        NotFound,
        Conflict,
        Rejected,
        Unavailable,
        TransientConflict,
        StaleVersion,
        InvalidInput,
    ]
    codes = [k.code for k in kinds]
    assert len(set(codes)) == len(codes)


# ----------------------------------------------------------------- events


@pytest.mark.parametrize(
    ("event", "name"),
    [
        (order_events.OrderStatusChanged, "order.status_changed"),
        (order_events.OrderCreated, "order.created"),
        (order_events.OrderHoldPlaced, "order.hold_placed"),
        (order_events.OrderAllocationReleased, "order.allocation_released"),
        (order_events.OrderPaymentChanged, "order.payment_changed"),
        (StockChanged, "stock.changed"),
        (StockSynced, "stock.synced"),
    ],
)
def test_the_event_type_is_derived_from_the_class_name(event: type[DomainEvent], name: str) -> None:
    assert event.event_type() == name


def test_an_event_type_keeps_digits_with_their_word() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Parcel2FaSent(DomainEvent):
        pass

    assert Parcel2FaSent.event_type() == "parcel2.fa_sent"


class Colour(StrEnum):
    RED = "red"


class Size(Enum):
    LARGE = 3


@dataclass(frozen=True, slots=True)
class Part:
    price: Decimal
    colour: Colour


@dataclass(frozen=True, slots=True, kw_only=True)
class ThingPacked(DomainEvent):
    aggregate_type: ClassVar[str] = "thing"
    thing_id: int
    weight: Decimal
    colour: Colour
    size: Size
    due: datetime | None
    parts: tuple[Part, ...]
    extra: dict[Any, Any]
    note: str | None = None

    def aggregate_id(self) -> str:
        return str(self.thing_id)


def test_the_payload_is_json_ready() -> None:
    event = ThingPacked(
        occurred_at=AT,
        thing_id=7,
        weight=Decimal("1.50"),
        colour=Colour.RED,
        size=Size.LARGE,
        due=datetime(2026, 3, 3, 12, 0, tzinfo=MSK),
        parts=(Part(Decimal("9.90"), Colour.RED),),
        extra={1: [Decimal("0.10"), AT], "flag": True},
    )
    assert event.payload() == {
        "occurred_at": "2026-03-02T10:30:00+00:00",
        "thing_id": 7,
        "weight": "1.50",
        "colour": "red",
        "size": 3,
        "due": "2026-03-03T12:00:00+03:00",
        "parts": [{"price": "9.90", "colour": "red"}],
        "extra": {"1": ["0.10", "2026-03-02T10:30:00+00:00"], "flag": True},
        "note": None,
    }
    assert ThingPacked.event_type() == "thing.packed"
    assert event.aggregate_id() == "7"


def test_the_payload_of_an_order_event_names_the_order() -> None:
    event = order_events.OrderCancelled(
        occurred_at=AT,
        order_id=12,
        reason="customer",
        released=[{"line_no": 1, "warehouse": "MSK", "sku": "TEA", "quantity": 2}],
    )
    assert event.aggregate_type == "order"
    assert event.aggregate_id() == "12"
    assert event.payload() == {
        "occurred_at": "2026-03-02T10:30:00+00:00",
        "order_id": 12,
        "reason": "customer",
        "released": [{"line_no": 1, "warehouse": "MSK", "sku": "TEA", "quantity": 2}],
    }


def test_plain_leaves_plain_values_alone_and_does_not_touch_classes() -> None:
    assert plain(3) == 3
    assert plain("x") == "x"
    assert plain(None) is None
    assert plain(Part) is Part


def test_an_event_without_an_aggregate_id_says_so() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class NothingHappened(DomainEvent):
        pass

    with pytest.raises(NotImplementedError):
        NothingHappened(occurred_at=AT).aggregate_id()
