"""Pieces every area's schemas share."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    Strict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from potok.domain.inventory.locations import BIN_PATTERN
from potok.domain.inventory.lots import MAX_SERIAL_LENGTH
from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.standards import countries, currencies, is_country, is_currency
from potok.domain.validation import CODE_PATTERN


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("include a time zone, e.g. 2026-11-30T18:00:00+03:00")
    return value


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_text(value: object) -> object:
    """A date or a moment written as ISO 8601 text (2026-11-30, 2026-11-30T18:00:00+03:00);
    numbers and numeric text, which the parser would take as Unix timestamps, are refused."""
    if isinstance(value, date):  # already parsed (a merge of a stored value and a patch)
        return value
    if not isinstance(value, str) or not _ISO_DAY.match(value):
        raise PydanticCustomError(
            "iso_8601", "write an ISO 8601 date or moment, e.g. 2026-11-30T18:00:00+03:00"
        )
    return value


ISO_TEXT = BeforeValidator(iso_text)

AwareDatetime = Annotated[datetime, ISO_TEXT, AfterValidator(_aware)]
"""A moment with its time zone, as ISO 8601 text."""

Day = Annotated[date, ISO_TEXT]
"""A calendar day as ISO 8601 text: 2026-11-30."""

MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
"""Amounts leave as strings with two decimals: "1990.00"."""

# ---------------------------------------------------------------------- strict, bounded input
#
# Every request field is one of these (or carries its own bounds): integers are JSON
# integers only (no ``true``, no ``"2"``, no ``2.0``) within what the domain and the columns
# hold; text has a maximum length; lists have a maximum length. A test walks the OpenAPI
# document and fails on any unbounded integer, string or array, and another on any
# request integer, number or boolean that is not strict.

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1


def json_integer(value: object) -> object:
    """Let through what JSON calls an integer (2, and 2.0: JSON has one number type, and
    JSON Schema counts 2.0 as an integer); refuse ``true``, ``"2"`` and 2.5."""
    if isinstance(value, bool | str | bytes):
        raise PydanticCustomError("int_type", "must be a whole number, not text or true/false")
    return value


JSON_INTEGER = BeforeValidator(json_integer)

# A bounded integer of one field is ``Annotated[int, Field(ge=..., le=...), JSON_INTEGER]``:
# the bounds before the guard, so that the OpenAPI document shows them.

Quantity = Annotated[
    int, Field(ge=1, le=MAX_QUANTITY, description="Units; 1 to 1,000,000,000."), JSON_INTEGER
]
"""Units of a product in one request: positive, at most what a stock position may hold."""

Count = Annotated[int, Field(ge=0, le=MAX_QUANTITY), JSON_INTEGER]
"""A level or a count of units: 0 to 1,000,000,000."""

JSON_SAFE_MAX = 2**53 - 1
"""The largest integer every JSON reader (JavaScript's doubles included) reads exactly: ids in
bodies stay within it, so that no reader rounds one into its neighbour."""

Id = Annotated[int, Field(ge=1, le=JSON_SAFE_MAX), JSON_INTEGER]
"""A row's number in a body (64-bit, positive)."""

IdParam = Annotated[int, Field(ge=1, le=INT64_MAX)]
"""A row's number in a path or query (always text there, so parsed from digits)."""

PersonalDataState = Annotated[
    Literal["available", "unavailable"],
    Field(
        description="`unavailable` when the record's personal data was sealed under a key "
        "this process lacks (`missing_key` names it): its name is then empty and its phone, "
        "e-mail and address lines null. The record itself answers "
        "`personal-data-key-missing` (503). See 'Personal data' in the operators' guide."
    ),
]
MissingKey = Annotated[
    str | None,
    Field(description="The id of the key the personal data was sealed under, when unavailable."),
]
"""One record in a list whose personal data cannot be opened here fails only itself."""

Flag = Annotated[bool, Strict()]
"""``true`` or ``false`` only; ``1``, ``"yes"`` and ``"true"`` are refused."""

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""A code to look up: SKU, channel, warehouse, bin, lot (1-64 characters)."""

# The patterns of codes being given are shown in the document and checked by the domain,
# whose answer (`bad-code`) says in words what a code may hold.
NewCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(json_schema_extra={"pattern": f"^{CODE_PATTERN.pattern}$"}),
]
"""A code being given (SKU, channel, warehouse): letters, digits, '.', '_', '-' and '/'."""

NewBinCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(json_schema_extra={"pattern": f"^{BIN_PATTERN.pattern}$"}),
]
"""A bin address being given: letters, digits, '.', '_' and '-'."""

Label = Annotated[str, StringConstraints(min_length=1, max_length=32)]
"""A short word chosen from a list (a status, a type, a sort key)."""

Username = Annotated[str, StringConstraints(min_length=1, max_length=64)]
KeyName = Annotated[str, StringConstraints(min_length=1, max_length=64)]

Serial = Annotated[str, StringConstraints(max_length=MAX_SERIAL_LENGTH)]
"""A unit's serial number, IMEI or marking code."""

Latitude = Annotated[float, Strict(), Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Strict(), Field(ge=-180, le=180, allow_inf_nan=False)]
Kilometres = Annotated[float, Strict(), Field(ge=0, le=40_075, allow_inf_nan=False)]
"""A distance on the Earth's surface: at most once around the equator."""

MAX_LIST = 10_000
"""The longest list a body may carry (order lines, serials, codes): 10,000."""

MAX_BULK_ROWS = 50_000
"""The most rows a bulk upload (stock levels) may carry; ``api.max_bulk_rows`` may lower it."""


def _decimal_text(pattern: str, example: str, what: str) -> tuple[Any, Any]:
    """A decimal sent as a JSON string in plain notation (the form the API answers with).

    Numbers are refused rather than converted: a JSON number is a binary float to most
    clients, and ``0.1 + 0.2`` would arrive as 0.30000000000000004."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, Decimal):  # already parsed (a merge of a stored value and a patch)
            return value
        if not isinstance(value, str):
            raise PydanticCustomError(
                "decimal_string", f'send {what} as a string, e.g. "{example}"'
            )
        if not compiled.fullmatch(value):
            raise PydanticCustomError(
                "decimal_format",
                f"write {what} as digits with a '.' decimal point, e.g. \"{example}\"",
            )
        return value

    schema = {"type": "string", "pattern": pattern, "maxLength": 24, "examples": [example]}
    return BeforeValidator(check), WithJsonSchema(schema)


_MONEY = _decimal_text(r"^[0-9]{1,12}(\.[0-9]{1,2})?$", "1990.00", "an amount")
_RATE = _decimal_text(r"^[0-9]{1,2}(\.[0-9]{1,2})?$", "22", "a percentage")
_FINE_AMOUNT = _decimal_text(r"^[0-9]{1,9}(\.[0-9]{1,4})?$", "12.5", "an amount")

MoneyIn = Annotated[Decimal, _MONEY[0], _MONEY[1], Field(ge=0, max_digits=14, decimal_places=2)]
"""An amount (a price, a tariff): a string such as "1990.00", at most two decimals."""

RateIn = Annotated[Decimal, _RATE[0], _RATE[1], Field(ge=0, lt=100, decimal_places=2)]
"""A VAT rate in percent: "22", "10", "0"."""

FineAmountIn = Annotated[
    Decimal, _FINE_AMOUNT[0], _FINE_AMOUNT[1], Field(ge=0, lt=10**9, decimal_places=4)
]
"""An amount per kilogram or per kilometre: a string, at most four decimals."""


def _currency(value: str) -> str:
    if not is_currency(value):
        raise PydanticCustomError("currency", "must be an ISO 4217 currency code such as RUB")
    return value


def _country(value: str) -> str:
    if not is_country(value):
        raise PydanticCustomError("country", "must be an ISO 3166 country code such as RU")
    return value


class _OneOf:
    """Names the allowed codes in the OpenAPI document, read when the document is made."""

    def __init__(self, codes: Callable[[], frozenset[str]]) -> None:
        self.codes = codes

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["enum"] = sorted(self.codes())
        return schema


Currency = Annotated[
    str,
    StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_currency),
    _OneOf(currencies),
    Field(examples=["RUB"]),
]
"""An ISO 4217 currency in force (RUB, KZT, EUR ...); ``ZZZ`` is refused."""

Country = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$"),
    AfterValidator(_country),
    _OneOf(countries),
    Field(examples=["RU"]),
]
"""An ISO 3166-1 alpha-2 country (RU, KZ, BY ...)."""


NUL_FREE: Mapping[str, bool] = MappingProxyType({"nul_free": True})
"""Validation context of a JSON body that cannot hold a NUL character (:func:`nul_free`)."""


def nul_free(body: bytes) -> Mapping[str, bool] | None:
    """:data:`NUL_FREE` for a JSON body in which no text can carry NUL, else None: JSON
    writes NUL in a string only as the escape ``\\u0000`` (a raw one is no JSON at all), so
    a body without that sequence and without a raw NUL byte has none. The check per
    field is then skipped (for an order it was half of validating the body)."""
    return NUL_FREE if b"\\u0000" not in body and b"\x00" not in body else None


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


class Schema(BaseModel):
    """Strict about unknown fields, so a typo is an error rather than silently ignored.

    Text never carries NUL characters: PostgreSQL cannot store them and no person types
    them, so both databases refuse them alike, with the field named."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context is NUL_FREE:  # validated from a body known to have none
            return value
        if _has_nul(value):
            raise PydanticCustomError(
                "nul_character", "text must not contain NUL (\\u0000) characters"
            )
        return value


class Patch(Schema):
    """A PATCH body: a field left out keeps its value; ``null`` is taken only by the fields
    named in ``nullable`` (where null means something, e.g. "no limit"), and refused by
    the others, which the OpenAPI document then shows as not nullable."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null_for_values_that_need_one(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError(
                "null_not_allowed", "cannot be null; leave the field out to keep its value"
            )
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, field in target.get("properties", {}).items():
            if name in cls.nullable or "anyOf" not in field:
                continue
            options = [o for o in field["anyOf"] if o != {"type": "null"}]
            if len(options) == 1:
                del field["anyOf"]
                field.update(options[0])
            else:
                field["anyOf"] = options
            if field.get("default", "") is None:
                del field["default"]
        return schema


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FieldProblem(BaseModel):
    field: str
    message: str
    code: str


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str = Field(examples=["https://potok.dev/problems/insufficient-stock"])
    title: str
    status: int
    detail: str
    instance: str
    code: str
    errors: list[FieldProblem] | None = None

    model_config = ConfigDict(extra="allow")


class Page(BaseModel):
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def example(value: dict[str, Any]) -> dict[str, Any]:
    return {"examples": [value]}
