"""What keeping Potok and a CRM in step needs from storage, as protocols; ``potok.db``
implements them (``db/repositories/crm_sync.py``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Backfill:
    """Where a CRM connection's back-fill of Potok's orders stands."""

    state: str  # running, done
    through_order_id: int  # it tells the orders of other channels up to this id
    after_order_id: int  # told so far: up to this id
    total: int
    sent: int
    created: int
    updated: int
    refused: int
    customers: int
    requests: int
    last_error: str | None
    worker: str | None
    lease_until: datetime | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def percent(self) -> int:
        """How much of it is done, in whole per cent (100 when there was nothing to tell)."""
        if self.state == "done" or self.total == 0:
            return 100
        return min(99, self.sent * 100 // self.total)


@dataclass(frozen=True, slots=True)
class BackfillStep:
    """What one batch of a back-fill did, to add to its counts."""

    after_order_id: int
    sent: int = 0
    created: int = 0
    updated: int = 0
    refused: int = 0
    customers: int = 0
    requests: int = 0


class CrmSyncStore(Protocol):
    """A CRM connection's back-fill, and Potok's orders the CRM knows with how far the
    CRM's history of each has been applied."""

    def backfill(self, connection_id: int) -> Backfill | None: ...
    def start_backfill(
        self, connection_id: int, *, through: int, total: int, at: datetime
    ) -> None: ...
    def claim_backfill(
        self, connection_id: int, worker: str, at: datetime, until: datetime
    ) -> bool: ...
    def advance_backfill(
        self,
        connection_id: int,
        worker: str,
        step: BackfillStep,
        *,
        at: datetime,
        until: datetime,
        done: bool,
    ) -> bool: ...
    def fail_backfill(self, connection_id: int, worker: str, error: str, at: datetime) -> None: ...
    def release_backfill(self, connection_id: int, worker: str) -> None: ...
    def orders_to_tell(
        self, channel_id: int, *, after: int, through: int, limit: int
    ) -> list[int]: ...
    def count_to_tell(self, channel_id: int) -> tuple[int, int]:
        """(how many orders of other channels there are, the highest of their ids)."""
        ...

    def note_told(self, connection_id: int, order_ids: Collection[int], at: datetime) -> None: ...
    def told(self, connection_id: int, order_ids: Collection[int]) -> set[int]: ...
    def history_mark(self, connection_id: int, order_id: int) -> int: ...
    def mark_history(
        self, connection_id: int, order_id: int, history_id: int, at: datetime
    ) -> None: ...
