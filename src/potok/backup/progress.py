"""How a long backup step tells its caller what it is doing (the CLI draws a progress bar)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives the stages of a backup, restore or verification as they happen."""

    def stage(self, text: str) -> None:
        """A new stage begins (copying, dumping, restoring, ...)."""

    def tables(self, count: int) -> None:
        """Checksums of ``count`` tables are about to be computed."""

    def table_done(self, name: str, rows: int) -> None:
        """One table's rows were counted and summed."""


class Silent:
    """Progress that nobody watches."""

    def stage(self, text: str) -> None:
        pass

    def tables(self, count: int) -> None:
        pass

    def table_done(self, name: str, rows: int) -> None:
        pass


SILENT = Silent()
