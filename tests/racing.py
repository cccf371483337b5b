"""Racing real connections without letting a racer's failure pass or hang the run.

Every race starts its racers at a ``start_line`` (a barrier that gives up after
``RACE_TIMEOUT`` seconds, so a racer that died before reaching it breaks the race instead
of leaving the others waiting for ever); ``race`` runs callables in threads of their own
and re-raises what any of them raised. Race tests also carry ``RACE_LIMIT``, a
pytest-timeout mark, as the last line of defence against a hang.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import pytest
import sqlalchemy as sa

T = TypeVar("T")

RACE_TIMEOUT = 60.0  # seconds a racer waits for the others, and the race for its racers
RACE_LIMIT = pytest.mark.timeout(300)  # a whole race test, set-up and checks included


def start_line(parties: int) -> threading.Barrier:
    """A barrier for ``parties`` racers that breaks after ``RACE_TIMEOUT`` seconds."""
    return threading.Barrier(parties, timeout=RACE_TIMEOUT)


class RacerFailed(Exception):
    """A racer thread raised; the first failure is chained as the cause."""


def race(calls: Sequence[Callable[[], T]], *, timeout: float = RACE_TIMEOUT) -> list[T]:
    """Run every call in a thread of its own, started together; the results in call order.
    A racer that raised fails the race with its error; one still running after ``timeout``
    seconds fails it too."""
    start = start_line(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            start.wait()
            results[index] = call()
        except BaseException as error:  # handed to the test below
            start.abort()
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(i, c), name=f"racer-{i}", daemon=True)
        for i, c in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        pytest.fail(f"racers still running after {timeout:.0f} s: {', '.join(stuck)}")
    if errors:
        first = next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), None)
        raise RacerFailed(f"{len(errors)} of {len(calls)} racers failed") from (first or errors[0])
    return results  # type: ignore[return-value]  # every racer finished and set its result


def sessions_wait_for_locks(engine: sa.Engine, count: int = 1) -> bool:
    """Whether ``count`` sessions of the engine's PostgreSQL database come to wait for a
    lock (within 60 s), asked in autocommit: statistics read inside a transaction do not
    change."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        for _ in range(600):
            waiting = watcher.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting >= count:
                return True
            time.sleep(0.1)
    return False
