"""Bodies of the overdue-threshold endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from potok.api.schemas.common import JSON_INTEGER, Out, Schema
from potok.domain.fulfilment.overdue import MAX_MINUTES, MIN_MINUTES, Threshold, ThresholdChange

Minutes = Annotated[int, Field(ge=MIN_MINUTES, le=MAX_MINUTES), JSON_INTEGER]


class ThresholdIn(Schema):
    minutes: Minutes = Field(
        description=f"How long a shipment may sit in the stage before the dashboard names "
        f"it, in minutes: from {MIN_MINUTES} to {MAX_MINUTES} (thirty days).",
        examples=[240],
    )


class ThresholdChangeOut(Out):
    version: int
    minutes: int
    created_at: datetime
    created_by: str


class ThresholdOut(Out):
    stage: str = Field(
        description="The shipment status: pending, picking, packed (at the warehouse), "
        "handed_over, in_transit, ready_for_pickup, failed_delivery, returning (the carrier)."
    )
    minutes: int = Field(description="The threshold in force, in minutes.")
    default: int = Field(description="The stage's threshold had nobody changed it, in minutes.")
    changed: bool = Field(description="Whether an administrator's value is in force.")
    history: list[ThresholdChangeOut] = Field(description="Every change, newest first.")


def render_threshold(threshold: Threshold, history: list[ThresholdChange]) -> ThresholdOut:
    return ThresholdOut(
        stage=threshold.stage.value,
        minutes=threshold.minutes,
        default=threshold.default,
        changed=threshold.stored is not None,
        history=[
            ThresholdChangeOut(
                version=c.version,
                minutes=c.minutes,
                created_at=c.created_at,
                created_by=c.created_by,
            )
            for c in history
        ],
    )
