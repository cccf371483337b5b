"""What each after-commit reaction costs this worker: the events it was handed, the CPU
its thread spent on them and the SQL statements and transactions it ran, so that an
operator (``potok worker`` prints them when it stops) and the events benchmark can tell
which reaction makes an order dear in the background.

CPU is the reacting thread's own (``time.thread_time``), so the delivery thread's work
beside it is not counted; statements are those sent through SQLAlchemy (a commit's
pipelined rows go with it as one), counted per thread while a reaction is being measured.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

SHARED = "(window reads, claims, passes)"
"""The work done for every reaction at once: reading the window, taking the leases,
passing cursors over events nobody takes."""


@dataclass
class Cost:
    """One reaction's figures since the worker started."""

    events: int = 0  # handed to it (of its types, after its selection)
    cpu_s: float = 0.0
    statements: int = 0
    transactions: int = 0


_local = threading.local()  # the figures this thread's statements count towards
_watched: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
_watching = threading.Lock()


def watch(engine: sa.Engine) -> None:
    """Count the statements and transactions that measured threads send to ``engine``
    (once per engine, however many dispatchers use it)."""
    with _watching:
        if engine in _watched:
            return
        event.listen(engine, "before_cursor_execute", _statement)
        event.listen(engine, "begin", _transaction)
        _watched.add(engine)


def _statement(*_: Any) -> None:
    cost: Cost | None = getattr(_local, "cost", None)
    if cost is not None:
        cost.statements += 1


def _transaction(*_: Any) -> None:
    cost: Cost | None = getattr(_local, "cost", None)
    if cost is not None:
        cost.transactions += 1


class ReactionCosts:
    """Figures per reaction, kept by the thread that runs the reactions."""

    def __init__(self) -> None:
        self.by_reaction: dict[str, Cost] = {}
        self._lock = threading.Lock()

    @contextmanager
    def measure(self, name: str, events: int = 0) -> Iterator[None]:
        """Count what this thread does meanwhile towards ``name``."""
        with self._lock:
            cost = self.by_reaction.setdefault(name, Cost())
        outer: Cost | None = getattr(_local, "cost", None)
        _local.cost = cost
        started = time.thread_time()
        try:
            yield
        finally:
            spent = time.thread_time() - started
            cost.cpu_s += spent
            cost.events += events
            _local.cost = outer
            if outer is not None:
                outer.cpu_s -= spent  # counted once, towards the inner one

    def snapshot(self) -> dict[str, Cost]:
        with self._lock:
            return {
                name: Cost(c.events, c.cpu_s, c.statements, c.transactions)
                for name, c in self.by_reaction.items()
            }


def cost_lines(costs: dict[str, Cost]) -> list[str]:
    """One line a reaction, dearest first: what ``potok worker`` prints when it stops and
    what the events benchmark reads (``reaction <name> events=... cpu_ms=... ...``)."""
    lines = []
    for name, cost in sorted(costs.items(), key=lambda item: -item[1].cpu_s):
        lines.append(
            f"reaction {name.replace(' ', '_')} events={cost.events} "
            f"cpu_ms={cost.cpu_s * 1000:.1f} statements={cost.statements} "
            f"transactions={cost.transactions}"
        )
    return lines
