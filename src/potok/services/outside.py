"""What a reaction that runs after the commit may use: fresh units of work, the carriers,
the clock - and the shape of its answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.kernel import Clock, utc_now
from potok.domain.webhooks import StoredEvent
from potok.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from potok.services.fiscal.desk import FiscalDesk

Settle = Callable[[UnitOfWork], None]
"""What a reaction writes once its outside calls are made; it commits together with the
reaction's cursor moving past the event, so it is written once per event."""


@dataclass(frozen=True, slots=True)
class Outside:
    uow: Callable[[], UnitOfWork]
    carriers: CarrierRegistry
    clock: Clock = utc_now
    fiscal: FiscalDesk | None = None  # the fiscal settings and cash registers


EventHandler = Callable[[Outside, StoredEvent], Settle | None]

WindowHandler = Callable[[Outside, Sequence[StoredEvent]], Settle | None]
"""A reaction handed every event of its types in a window of the outbox at once (in
commit order), so that it reads and writes once for all of them."""
