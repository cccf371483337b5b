"""Personal data at rest: sealing afresh under the current key after a key is rotated in.

Values under an older key, and plaintext written before encryption was on, are encrypted
under the current key and their keyed hashes recomputed, a batch of rows per
transaction, so that the service keeps running meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from potok.services.read_models import Rewrapped
from potok.services.unit_of_work import UnitOfWork, atomically, reading

BATCH = 1000


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: rows looked at and values encrypted afresh."""

    rows: int
    values: int


def pending_personal_data(uow: UnitOfWork) -> int:
    """Rows holding personal data that is not under the current key."""
    return reading(uow, lambda uow: uow.personal_data.pending())


def rewrap_personal_data(
    uow: UnitOfWork,
    *,
    batch: int = BATCH,
    on_batch: Callable[[Rewrapped], None] | None = None,
) -> Rotation:
    """Encrypt every personal data value that is not under the current key afresh, and
    recompute the hashes beside it; ``batch`` rows per transaction."""
    rows = values = 0
    for table in reading(uow, lambda uow: uow.personal_data.tables):
        after = 0
        while True:

            def work(uow: UnitOfWork, table: str = table, after: int = after) -> Rewrapped:
                return uow.personal_data.rewrap(table, after, batch)

            done = atomically(uow, work)
            if done.rows == 0:
                break
            rows += done.rows
            values += done.values
            after = done.last_id
            if on_batch is not None:
                on_batch(done)
    return Rotation(rows, values)
