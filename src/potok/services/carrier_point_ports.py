"""What the pickup-point directory needs from storage, as a protocol; ``potok.db`` implements
it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DirectoryPoint:
    """A carrier's pickup point as Potok keeps it."""

    carrier: str
    code: str
    name: str
    kind: str
    city: str
    address: str
    latitude: float
    longitude: float
    hours: str
    storage_days: int
    cash_on_delivery: bool
    cards: bool
    weight_max_g: int | None
    active: bool
    synced_at: datetime
    cells: str = ""  # a locker's cells, "LxWxH" in mm each, ";" between; "": any size

    def cell_sizes(self) -> list[tuple[int, int, int]]:
        """The locker's cells, each side largest first (none: sizes are not limited)."""
        found = []
        for cell in self.cells.split(";"):
            sides = [int(side) for side in cell.split("x") if side.isdigit()]
            if len(sides) == 3:
                a, b, c = sorted(sides, reverse=True)
                found.append((a, b, c))
        return found

    def fits(self, length_mm: int, width_mm: int, height_mm: int) -> bool:
        """Whether a box of these sides fits one of its cells (turned any way)."""
        cells = self.cell_sizes()
        if not cells:
            return True
        box = sorted((length_mm, width_mm, height_mm), reverse=True)
        return any(
            all(side <= room for side, room in zip(box, cell, strict=True)) for cell in cells
        )


@dataclass(frozen=True, slots=True)
class Box:
    """A latitude/longitude rectangle around a search's centre."""

    south: float
    north: float
    west: float
    east: float


class CarrierPointStore(Protocol):
    def upsert(self, points: Sequence[DirectoryPoint]) -> tuple[int, int]:
        """Insert new points and update known ones (by carrier and code): (added, updated)."""
        ...

    def close_missing(self, carrier: str, synced_before: datetime) -> int:
        """Points of the carrier the last sync did not see are closed: how many."""
        ...

    def get(self, carrier: str, code: str) -> DirectoryPoint | None: ...

    def carriers_of(self, code: str) -> list[str]:
        """The carriers that have a point with this code."""
        ...

    def search(
        self,
        *,
        carrier: str | None,
        city: str | None,
        box: Box | None,
        text: str | None,
        limit: int,
    ) -> list[DirectoryPoint]:
        """Active points matching every filter given, at most ``limit``."""
        ...
