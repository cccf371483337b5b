"""SQLite with several processes on one database file (``db/lite_writers.py``).

Writers queue on a lock of their process's threads and then on an exclusive ``flock`` of
``<database>-writers``, so that a writer of another process is handed the database the
moment it is free instead of sleeping in SQLite's busy handler. Correctness still rests on
``BEGIN IMMEDIATE`` and the stock table's CHECKs; these tests race real processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from potok.api.app import create_app
from potok.bootstrap import Potok, bootstrap
from potok.db.engine import write_lock
from potok.db.lite_writers import SWITCH_S, WritersQueue
from potok.services import intake
from tests.conftest import _settings
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_stock_invariants, reserved_units
from tests.racing import RACE_LIMIT, RACE_TIMEOUT

LAST_UNITS = {("MSK", "KET"): 7, ("SPB", "KET"): 5, ("KZN", "MUG"): 6, ("MSK", "MUG"): 3}
RACERS = 20  # threads in each of the two processes

_HOLDER = """
import sys
from pathlib import Path
from typing import Any
from potok.db.lite_writers import SWITCH_S, WritersQueue
queue = WritersQueue(Path(sys.argv[1]))
queue.acquire()
print("held", flush=True)
sys.stdin.readline()
queue.release()
"""


def test_a_writer_waits_while_another_process_holds_the_queue(tmp_path: Path) -> None:
    path = tmp_path / "potok.db-writers"
    holder = subprocess.Popen(  # noqa: S603 - this interpreter and the test's own script
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        queue = WritersQueue(path)
        got = threading.Event()

        def write() -> None:
            queue.acquire()
            got.set()

        waiter = threading.Thread(target=write, daemon=True)
        waiter.start()
        assert not got.wait(0.5), "a writer went in while another process held the queue"
        holder.stdin.write("release\n")
        holder.stdin.flush()
        assert got.wait(RACE_TIMEOUT), "the writer was not let in once the queue was free"
        queue.release()
        assert holder.wait(RACE_TIMEOUT) == 0
    finally:
        holder.kill()


def test_the_lock_file_takes_the_database_files_permissions(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    database.write_bytes(b"")
    database.chmod(0o640)
    queue = WritersQueue(tmp_path / "shop.db-writers")
    queue.acquire()
    queue.release()
    assert (tmp_path / "shop.db-writers").stat().st_mode & 0o777 == 0o640


def test_a_lock_file_that_cannot_be_opened_leaves_the_queue_to_the_threads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = WritersQueue(tmp_path / "no-such-directory" / "shop.db-writers")
    assert queue.acquire()
    assert not queue._threads.acquire(blocking=False)  # the process's writers still queue
    queue.release()
    assert queue.acquire()  # and it can be taken again
    queue.release()
    assert "cannot open" in caplog.text
    assert not (tmp_path / "no-such-directory").exists()


def test_the_queue_of_a_database_file_is_a_file_beside_it(potok: Potok, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL's writers need no queue")
    queue = write_lock(potok.engine)
    assert queue is not None
    assert queue.path == Path(f"{potok.engine.url.database}-writers")
    assert write_lock(potok.engine) is queue  # one per engine


@pytest.mark.parametrize(("workers", "interval"), [(1, None), (2, SWITCH_S)])
def test_an_api_process_on_sqlite_hands_the_gil_over_sooner_when_one_of_several(
    potok: Potok, backend: str, workers: int, interval: float | None
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's API processes only")
    before = sys.getswitchinterval()
    potok.settings.api.workers = workers
    app = create_app(potok=potok)
    seen: list[float] = []

    async def serve() -> None:
        async with app.router.lifespan_context(app):  # what uvicorn runs at start and stop
            seen.append(sys.getswitchinterval())

    # in a thread of its own: a browser test before may have left an event loop running in
    # this thread (Playwright's), where asyncio.run refuses to start
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as error:  # handed to the test's thread
            errors.append(error)

    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=60)
        if errors:
            raise errors[0]
    finally:
        sys.setswitchinterval(before)
    assert seen == [interval or before]


def _wishes(seed: int) -> list[list[tuple[str, int]]]:
    rng = random.Random(seed)
    choices = [[("KET", 1)], [("KET", 2)], [("MUG", 1)], [("MUG", 2)], [("KET", 1), ("MUG", 1)]]
    return [rng.choice(choices) for _ in range(RACERS)]


Wish = list[tuple[str, int]]


def _place_all(url: str, seed: int) -> list[tuple[str, Wish]]:
    """``RACERS`` orders placed at once by threads of this process; (status, wish) each."""
    potok = bootstrap(_settings(url, pool_size=RACERS, max_overflow=0))
    try:

        def place(index_wish: tuple[int, Wish]) -> tuple[str, Wish]:
            index, wish = index_wish
            command = order_command(wish, external_id=f"p{seed}-{index}")
            result = intake.place_order(potok.uow(), command, TESTER)
            assert isinstance(result, intake.Placement)
            return result.order.status.value, wish

        with ThreadPoolExecutor(RACERS) as pool:
            return list(pool.map(place, enumerate(_wishes(seed))))
    finally:
        potok.close()


@RACE_LIMIT
def test_two_processes_racing_for_the_last_units_never_oversell(potok: Potok, backend: str) -> None:
    """Two processes, each with its own engine and writers, race for the last units of one
    SQLite file: nothing oversold, and every order left waiting really could not be
    covered by what was left."""
    if backend != "sqlite":
        pytest.skip("several processes on one SQLite file; PostgreSQL's races are elsewhere")
    build_world(potok, LAST_UNITS)
    url = str(potok.engine.url)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2, timeout=RACE_TIMEOUT)  # both processes ready, then go
    answers = context.Queue()
    other = context.Process(target=_start_and_place, args=(url, 2, start, answers))
    other.start()
    try:
        start.wait()
        mine = _place_all(url, 1)
        outcomes = mine + answers.get(timeout=RACE_TIMEOUT * 2)
    finally:
        other.join(RACE_TIMEOUT)
        other.kill()
    assert other.exitcode == 0
    assert_stock_invariants(potok)
    supplied = Counter[str]()
    for (_, sku), units in LAST_UNITS.items():
        supplied[sku] += units
    left = {sku: supplied[sku] - reserved_units(potok, sku) for sku in supplied}
    assert all(units >= 0 for units in left.values()), left
    wanted = Counter[str]()
    for status, wish in outcomes:
        needs = Counter[str]()
        for sku, quantity in wish:
            needs[sku] += quantity
        if status == "reserved":
            wanted.update(needs)
        else:
            assert status == "backordered", status
            assert any(q > left[sku] for sku, q in needs.items()), (wish, left)
    assert {sku: wanted[sku] for sku in supplied} == {
        sku: reserved_units(potok, sku) for sku in supplied
    }
    assert Counter(status for status, _ in outcomes)["reserved"] > 0


def _start_and_place(url: str, seed: int, start: Any, answers: Any) -> None:
    """The other process: its own engine, writers and threads."""
    start.wait()
    answers.put(_place_all(url, seed))
