"""What background label fetching needs from storage, as a protocol; ``potok.db`` implements
it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class LabelState(StrEnum):
    """Where a shipment's carrier label stands."""

    WAITING = "waiting"  # the worker will book (if needed) and fetch it, at next_attempt_at
    READY = "ready"  # fetched and kept: printed without asking the carrier
    FAILED = "failed"  # the carrier refused: an operator has to act


@dataclass(frozen=True, slots=True)
class LabelJob:
    """One shipment's label as the worker sees it."""

    shipment_id: int
    carrier: str
    state: LabelState
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class CarrierLabelStore(Protocol):
    def get(self, shipment_id: int) -> LabelJob | None: ...

    def pdf(self, shipment_id: int) -> bytes | None: ...

    def want(self, shipment_id: int, carrier: str, at: datetime) -> None:
        """Ask for the label: waiting from ``at`` (a failed one again); one already waiting
        or ready is left alone."""
        ...

    def due(self, now: datetime, limit: int) -> list[LabelJob]: ...

    def claim(self, job: LabelJob, until: datetime, now: datetime) -> bool:
        """Take a due job for one attempt, if nobody took it since it was read; it is due
        again at ``until`` should this attempt never report back."""
        ...

    def retry_at(self, shipment_id: int, at: datetime, error: str, now: datetime) -> None: ...

    def done(self, shipment_id: int, pdf: bytes | None, now: datetime) -> None:
        """Booked and labelled (``pdf`` None: the carrier prints no labels of its own)."""
        ...

    def fail(self, shipment_id: int, error: str, now: datetime) -> None: ...
