"""Where the overdue thresholds are kept."""

from __future__ import annotations

from typing import Protocol

from potok.domain.fulfilment.overdue import ThresholdChange


class ThresholdStore(Protocol):
    """Administrators' overdue thresholds: every change kept, the newest per stage in force."""

    def all_current(self) -> list[ThresholdChange]: ...
    def history(self, stage: str) -> list[ThresholdChange]: ...
    def add(self, change: ThresholdChange) -> None: ...
