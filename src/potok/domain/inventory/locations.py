"""Storage locations: the bins of a warehouse, where a picker walks to find a position."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from potok.domain.errors import InvalidInput
from potok.domain.kernel import WarehouseId
from potok.domain.validation import Problems

BIN_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")
MAX_SEQUENCE = 1_000_000_000


@dataclass(frozen=True, slots=True)
class LocationDraft:
    """A bin as an operator describes it: its address, zone and place on the picking walk."""

    code: str
    zone: str = ""
    pick_sequence: int = 0
    active: bool = True

    def check(self) -> None:
        problems = Problems()
        if not BIN_PATTERN.fullmatch(self.code):
            problems.add(
                "code",
                "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                "bad-code",
            )
        problems.text("zone", self.zone, max_length=64, required=False)
        if not 0 <= self.pick_sequence <= MAX_SEQUENCE:
            problems.add("pick_sequence", f"must be from 0 to {MAX_SEQUENCE}", "out-of-range")
        if problems:
            raise InvalidInput(problems.errors)


@dataclass(frozen=True, slots=True)
class StorageLocation:
    """A bin of a warehouse."""

    id: int
    warehouse_id: WarehouseId
    warehouse_code: str
    code: str
    zone: str
    pick_sequence: int
    active: bool
    created_at: datetime
    updated_at: datetime
