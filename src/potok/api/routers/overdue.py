"""Overdue thresholds: per warehouse stage, how long a shipment may sit in it before the
dashboard names it. Administrators change them; every change is kept."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.schemas.overdue import ThresholdIn, ThresholdOut, render_threshold
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput
from potok.services import overdue_thresholds as service

router = APIRouter(prefix="/api/v1", tags=["overdue thresholds"])

StageName = Literal[
    "pending",
    "picking",
    "packed",
    "handed_over",
    "in_transit",
    "ready_for_pickup",
    "failed_delivery",
    "returning",
]


@router.get(
    "/overdue-thresholds",
    response_model=list[ThresholdOut],
    summary="Every shipment stage's overdue threshold, with its history",
    description="A stage nobody changed has its default (`default`: 1440 minutes, a day, for "
    "the warehouse stages; 2880 for handed_over and failed_delivery, 10080 for in_transit and "
    "ready_for_pickup, 20160 for returning) and no history.",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def list_thresholds(uow: Uow) -> list[ThresholdOut]:
    return [
        render_threshold(t, service.threshold_history(uow, t.stage))
        for t in service.list_thresholds(uow)
    ]


@router.put(
    "/overdue-thresholds/{stage}",
    response_model=ThresholdOut,
    summary="Change one stage's overdue threshold",
    description="The dashboard names shipments unchanged in the stage for longer. Every "
    "change is kept with who made it and when.",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.SETTINGS_MANAGE), reach(Reach.NETWORK)],
)
def put_threshold(
    stage: Annotated[StageName, Path()],
    body: ThresholdIn,
    uow: Uow,
    caller: Caller,
) -> ThresholdOut:
    saved = service.save_threshold(uow, service.parse_stage(stage), body.minutes, caller.actor)
    return render_threshold(saved, service.threshold_history(uow, saved.stage))
