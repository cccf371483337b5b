"""The connection table of several API processes (``potok/api/spread.py``): when a
process counts itself crowded, and how slots are claimed and given back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from potok.api import spread

SLOTS = 4


def table(tmp_path: Path, others: list[tuple[int, int, float]]) -> spread.Table:
    """This process's table, with ``others`` (pid, connections, heartbeat) in slots 1..n."""
    path = tmp_path / "connections"
    spread.make_table(str(path), slots=SLOTS)
    with path.open("r+b") as shared:
        for slot, values in enumerate(others, start=1):
            shared.seek(slot * spread.SLOT.size)
            shared.write(spread.SLOT.pack(*values))
    return spread.Table(str(path))


@pytest.mark.parametrize(
    ("mine", "leaving", "others", "crowded"),
    [
        (5, 0, [3], True),  # two more than the other
        (4, 0, [3], False),  # one more: as even as an odd count gets
        (5, 1, [3], False),  # one of its five is leaving already
        (6, 1, [3], True),
        (5, 0, [3, 7], True),  # the least crowded one counts
        (5, 0, [4, 7], False),
        (1, 0, [0], False),  # a single connection stays where it is
        (2, 0, [0], True),
        (5, 0, [], False),  # alone
    ],
)
def test_a_process_is_crowded_with_two_connections_more_than_the_least_crowded(
    tmp_path: Path, mine: int, leaving: int, others: list[int], crowded: bool
) -> None:
    now = time.time()
    mine_table = table(tmp_path, [(os.getppid(), count, now) for count in others])
    mine_table.connections, mine_table.leaving = mine, leaving
    assert mine_table.crowded() is crowded


def test_a_process_whose_heartbeat_stopped_is_left_out(tmp_path: Path) -> None:
    stale = time.time() - spread.STALE_S - 1
    mine = table(tmp_path, [(os.getppid(), 0, stale), (os.getppid(), 6, time.time())])
    mine.connections = 7
    assert not mine.crowded()  # 7 against the live one's 6; the stopped one's 0 not counted
    mine.connections = 8
    assert mine.crowded()


def test_a_slot_is_claimed_free_or_from_a_dead_process_and_given_back(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(gone.stdout)
    live = os.getppid()
    path = tmp_path / "connections"
    spread.make_table(str(path), slots=2)
    with path.open("r+b") as shared:
        shared.write(spread.SLOT.pack(live, 3, time.time()))
        shared.write(spread.SLOT.pack(dead, 9, time.time()))
    mine = spread.Table(str(path))
    assert mine.mine == 1  # the dead process's slot, not the live one's
    mine.connections = 2
    mine.publish()
    assert spread.SLOT.unpack_from(path.read_bytes(), spread.SLOT.size)[:2] == (os.getpid(), 2)
    mine.release()
    assert spread.SLOT.unpack_from(path.read_bytes(), spread.SLOT.size)[:2] == (0, 0)
