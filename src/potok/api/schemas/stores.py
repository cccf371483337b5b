"""Stores' till receipts: what a POS sends, and what Potok answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from potok.api.schemas.common import AwareDatetime, Code, MoneyIn, MoneyOut, Out, Quantity, Schema
from potok.domain.stores import ReceiptKind

MarkingCode = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ReceiptLineIn(Schema):
    sku: Code = Field(examples=["KET"])
    quantity: Quantity = Field(examples=[1])
    price: MoneyIn = Field(description="Per unit, VAT included.", examples=["2490.00"])
    marking_codes: list[MarkingCode] = Field(
        default_factory=list,
        max_length=1000,
        description="Честный ЗНАК codes of the units sold, where the goods are marked.",
    )


class ReceiptIn(Schema):
    id: str = Field(
        min_length=1,
        max_length=64,
        description="The till's own id of the receipt (fiscal number); recorded once per store.",
        examples=["T2-000417"],
    )
    kind: ReceiptKind = Field(default=ReceiptKind.SALE, description="sale or return")
    sold_at: AwareDatetime = Field(description="When the till printed it, with a time zone.")
    till: str = Field(default="", max_length=64, examples=["till-2"])
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=500)


class ReceiptsIn(Schema):
    receipts: list[ReceiptIn] = Field(min_length=1, max_length=1000)


class StorePositionOut(Out):
    sku: str
    on_hand: int
    reserved: int
    available: int


class ReceiptsOut(Out):
    store: str
    recorded: list[str] = Field(description="Receipts new to Potok, which moved the stock.")
    duplicates: list[str] = Field(description="Receipts Potok had already: nothing changed.")
    positions: list[StorePositionOut] = Field(description="The store's stock of their products.")


class StoreSalesOut(Out):
    store: str
    channel: str = Field(description="Counter sales as their own channel in reports.")
    sales: int
    returns: int
    units_sold: int
    units_returned: int
    revenue: MoneyOut

    @classmethod
    def of(cls, store: str, **figures: int | Decimal) -> StoreSalesOut:
        return cls(store=store, channel=f"store:{store}", **figures)
