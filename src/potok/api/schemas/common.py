"""Pieces every area's schemas share."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)
from pydantic_core import PydanticCustomError


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("include a time zone, e.g. 2026-11-30T18:00:00+03:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]

MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
"""Amounts leave as strings with two decimals: "1990.00"."""

MoneyIn = Annotated[Decimal, Field(max_digits=14, decimal_places=2, examples=["1990.00"])]
RateIn = Annotated[Decimal, Field(ge=0, lt=100, decimal_places=2, examples=["22"])]


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
    def _no_nul_characters(cls, value: Any) -> Any:
        if _has_nul(value):
            raise PydanticCustomError(
                "nul_character", "text must not contain NUL (\\u0000) characters"
            )
        return value


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
