"""Real ``potok worker`` processes: two racing on PostgreSQL never deliver an event twice
at once nor out of order, and a worker killed mid-batch loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from potok.bootstrap import Potok
from potok.domain.kernel import Actor
from potok.services import events
from tests.integration.test_event_delivery import emit, steps
from tests.receiver import Receiver

POTOK = str(Path(sys.executable).parent / "potok")


def start_worker(
    database_url: str, tmp_path: Path, name: str, **settings: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POTOK_DB__URL": database_url,
        "POTOK_EVENTS__ALLOW_PRIVATE_ADDRESSES": "true",
        "POTOK_EVENTS__POLL_S": "0.05",
        "POTOK_EVENTS__BATCH_SIZE": "10",
        "POTOK_EVENTS__TIMEOUT_S": "1",
        "POTOK_EVENTS__LEASE_S": "2",
        "POTOK_EVENTS__BACKOFF_S": "0.05",
        "POTOK_EVENTS__BACKOFF_MAX_S": "0.2",
        **{f"POTOK_EVENTS__{k.upper()}": v for k, v in settings.items()},
    }
    return subprocess.Popen(  # noqa: S603 - our own command
        [POTOK, "worker", "--no-jobs"],
        env=env,
        cwd=tmp_path,
        stdout=(tmp_path / f"{name}.out").open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_workers_racing_deliver_each_event_once_and_in_order(
    potok: Potok,
    database_url: str,
    tmp_path: Path,
    workers: list[subprocess.Popen[bytes]],
) -> None:
    receiver = Receiver(delay_s=0.002).start()
    try:
        for n in range(3):
            events.subscribe(
                potok.uow(),
                f"{receiver.url}?subscription={n}",
                ["order.*"],
                Actor.system("tests"),
                allow_private=True,
            )
        for order_id in range(1, 7):
            emit(potok, order_id, 10)
        workers += [start_worker(database_url, tmp_path, f"w{n}") for n in range(2)]

        wait_until(lambda: len(receiver.received) >= 180, 120, "180 deliveries")
        time.sleep(1)  # anything delivered twice would arrive now

        assert all(w.poll() is None for w in workers), "a worker died"
        assert receiver.overlaps == []
        per_subscription = Counter(r.path for r in receiver.received)
        assert sorted(per_subscription.values()) == [60, 60, 60]
        pairs = Counter((r.path, r.headers["webhook-id"]) for r in receiver.received)
        assert set(pairs.values()) == {1}
        for path in per_subscription:
            got = [r.event for r in receiver.received if r.path == path]
            for order_id in range(1, 7):
                assert steps(got, order_id) == [f"s{n}" for n in range(10)]
    finally:
        receiver.stop()


def test_a_worker_killed_mid_batch_loses_nothing(
    potok: Potok,
    database_url: str,
    tmp_path: Path,
    workers: list[subprocess.Popen[bytes]],
) -> None:
    receiver = Receiver(delay_s=0.1).start()
    try:
        events.subscribe(
            potok.uow(), receiver.url, ["order.*"], Actor.system("tests"), allow_private=True
        )
        emit(potok, 1, 12)
        emit(potok, 2, 12)
        # two orders side by side, at most two deliveries unconfirmed at any moment
        first = start_worker(database_url, tmp_path, "first", max_unconfirmed="2")
        workers.append(first)
        wait_until(lambda: len(receiver.received) >= 4, 60, "the first deliveries")
        first.send_signal(signal.SIGKILL)  # mid-batch: one delivery is likely in flight
        first.wait(timeout=10)
        workers.append(start_worker(database_url, tmp_path, "second"))

        wait_until(lambda: len(set(receiver.ids())) >= 24, 120, "every event")

        ids = receiver.ids()
        assert len(set(ids)) == 24
        assert len(ids) - 24 <= 2  # at most the unconfirmed ones came twice
        first_sightings = [r.event for r in receiver.received]
        unique = list({e["id"]: e for e in first_sightings}.values())
        assert steps(unique, 1) == [f"s{n}" for n in range(12)]
        assert steps(unique, 2) == [f"s{n}" for n in range(12)]
    finally:
        receiver.stop()
