"""The category tree under concurrent change: two moves that would put two categories
under each other cannot both succeed (PostgreSQL; SQLite runs one writer)."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime

import pytest

from potok.bootstrap import Potok
from potok.domain.catalogue import CategoryDraft, CategoryLoop
from potok.domain.kernel import utc_now
from potok.services import categories


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_moves_at_once_cannot_put_two_categories_under_each_other(potok: Potok) -> None:
    """Each move checks the tree and then writes; the tree's lock makes the second check
    wait for the first write. Without it (tried on purpose) both moves pass their checks
    and a and b end up under each other, cut off from the root."""
    for code in ("a", "b"):
        categories.create_category(potok.uow(), CategoryDraft(code, code.upper()))
    checked = threading.Barrier(2, timeout=3)

    def clock() -> datetime:  # called after a move's checks, before its write
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait()  # the other move waits for our lock: it never gets here
        return utc_now()

    outcomes: list[str] = []

    def move(code: str, parent: str) -> None:
        try:
            categories.replace_category(
                potok.uow(), code, CategoryDraft(code, code.upper(), parent), clock=clock
            )
            outcomes.append("moved")
        except CategoryLoop:
            outcomes.append("loop")

    racers = [threading.Thread(target=move, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)

    assert sorted(outcomes) == ["loop", "moved"]
    paths = sorted(c.path for c in categories.list_categories(potok.uow()))
    assert paths in ([("a",), ("a", "b")], [("b",), ("b", "a")])
