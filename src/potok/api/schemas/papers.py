"""Bodies of the warehouse papers printed for many orders at once."""

from __future__ import annotations

from pydantic import Field

from potok.api.schemas.common import Id, Schema
from potok.domain.documents.papers import LabelSize
from potok.services.paper_bundles import MAX_ORDERS


class PaperBundleIn(Schema):
    order_ids: list[Id] = Field(
        min_length=1,
        max_length=MAX_ORDERS,
        description="The orders whose shipments' papers to print, in print order (at most 200).",
        examples=[[12, 15]],
    )
    size: LabelSize = Field(
        default=LabelSize.LARGE,
        description="Labels only: 100x150 for 100 mm label printers, 58x60 for 58 mm ones.",
    )
