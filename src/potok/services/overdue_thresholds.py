"""Administrators' overdue thresholds: per warehouse stage, how long a shipment may sit in
it before the dashboard names it (the newest stored change, else the stage's default: a day
in the warehouse, longer with the carrier), saving a change and the history of changes."""

from __future__ import annotations

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fulfilment import ShipmentStatus
from potok.domain.fulfilment.overdue import (
    MAX_MINUTES,
    MIN_MINUTES,
    OVERDUE_STAGES,
    Threshold,
    ThresholdChange,
    default_minutes,
)
from potok.domain.kernel import Actor, Clock, utc_now
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def parse_stage(stage: str) -> ShipmentStatus:
    """A stage the dashboard watches, or what to fix."""
    names = [s.value for s in OVERDUE_STAGES]
    if stage not in names:
        raise InvalidInput([FieldError("stage", "one of " + ", ".join(names), "unknown-stage")])
    return ShipmentStatus(stage)


def thresholds_in(uow: UnitOfWork) -> list[Threshold]:
    """Every watched stage with its threshold, inside the caller's transaction."""
    stored = {c.stage: c for c in uow.overdue_thresholds.all_current()}
    found = []
    for stage in OVERDUE_STAGES:
        change = stored.get(stage)
        found.append(Threshold(stage, change.minutes if change else default_minutes(stage), change))
    return found


def list_thresholds(uow: UnitOfWork) -> list[Threshold]:
    return reading(uow, thresholds_in)


def save_threshold(
    uow: UnitOfWork,
    stage: ShipmentStatus,
    minutes: int,
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> Threshold:
    """Store a new threshold for ``stage``; the older ones stay in the history."""
    if stage not in OVERDUE_STAGES:
        parse_stage(stage.value)
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InvalidInput(
            [FieldError("minutes", f"from {MIN_MINUTES} to {MAX_MINUTES} minutes", "out-of-range")]
        )

    def work(uow: UnitOfWork) -> Threshold:
        history = uow.overdue_thresholds.history(stage.value)
        change = ThresholdChange(
            stage=stage,
            version=(history[0].version if history else 0) + 1,
            minutes=minutes,
            created_at=clock(),
            created_by=str(actor),
        )
        uow.overdue_thresholds.add(change)
        return Threshold(stage, minutes, change)

    return atomically(uow, work)


def threshold_history(uow: UnitOfWork, stage: ShipmentStatus) -> list[ThresholdChange]:
    """Every stored change of one stage, newest first (none: the default was never changed)."""
    return reading(uow, lambda uow: uow.overdue_thresholds.history(stage.value))
