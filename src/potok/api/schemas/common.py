"""Pieces every area's schemas share."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("include a time zone, e.g. 2026-11-30T18:00:00+03:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]

MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
"""Amounts leave as strings with two decimals: "1990.00"."""

MoneyIn = Annotated[Decimal, Field(max_digits=14, decimal_places=2, examples=["1990.00"])]
RateIn = Annotated[Decimal, Field(ge=0, lt=100, decimal_places=2, examples=["22"])]


class Schema(BaseModel):
    """Strict about unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


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
