"""The query parameters that narrow a list of orders, shared by the order list and the
orders file export so that both take the same filters with the same limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from potok.api.schemas.common import AwareDatetime, Code
from potok.domain.orders import OrderStatus, PaymentMethod, PaymentStatus

StatusQuery = Annotated[
    list[OrderStatus] | None, Query(max_length=20, description="Any of these statuses.")
]
ChannelQuery = Annotated[list[Code] | None, Query(max_length=100, description="Channel codes.")]
WarehouseQuery = Annotated[
    list[Code] | None,
    Query(max_length=100, description="Orders with stock reserved at these warehouses."),
]
PaymentStatusQuery = Annotated[list[PaymentStatus] | None, Query(max_length=10)]
PaymentMethodQuery = Annotated[
    list[PaymentMethod] | None,
    Query(max_length=10, description="Any of these payment methods (how the order is paid)."),
]
CreatedFromQuery = Annotated[
    AwareDatetime | None, Query(description="Inclusive; with a time zone.")
]
CreatedToQuery = Annotated[AwareDatetime | None, Query(description="Exclusive; with a time zone.")]
SearchQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Order number, external id, phone, e-mail or full name (not a part).",
    ),
]
