"""The event stream against the real NATS server (127.0.0.1:4222, JetStream on): one
subject per event type, CloudEvents bodies, the event id as the message id, so that a
batch published again after a crash is dropped by JetStream."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import nats
import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import event_consumers
from potok.worker.dispatcher import Dispatcher, new_client
from tests.integration.test_event_delivery import emit

NATS_URL = os.environ.get("POTOK_TEST_NATS_URL", "nats://127.0.0.1:4222")
T = TypeVar("T")


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in its own thread: in a whole-suite run the browser
    tests' Playwright keeps an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result(timeout=60)


async def _messages(stream: str, subject: str) -> list[Any]:
    client = await nats.connect(NATS_URL, connect_timeout=5)
    try:
        context = client.jetstream()
        info = await context.stream_info(stream)
        found = []
        for sequence in range(1, info.state.last_seq + 1):
            found.append(await context.get_msg(stream, sequence))
        return [m for m in found if m.subject.startswith(subject)]
    finally:
        await client.close()


async def _drop(stream: str) -> None:
    client = await nats.connect(NATS_URL, connect_timeout=5)
    try:
        await client.jetstream().delete_stream(stream)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await client.close()


async def _reachable() -> bool:
    try:
        client = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception:
        return False
    await client.close()
    return True


@pytest.fixture
def stream(potok: Potok) -> Iterator[str]:
    if not _run(_reachable()):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"NATS is not reachable at {NATS_URL} (under CI=true it is required)")
        pytest.skip(f"NATS is not reachable at {NATS_URL}")
    name = f"POTOK_TEST_{uuid.uuid4().hex[:10].upper()}"
    settings = potok.settings.events
    settings.nats_url = NATS_URL
    settings.nats_stream = name
    settings.nats_subject_prefix = f"test.{name.lower()}"
    yield name
    _run(_drop(name))


def test_every_event_goes_to_its_subject_once_even_when_published_again(
    potok: Potok, stream: str
) -> None:
    prefix = potok.settings.events.nats_subject_prefix
    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="nats-test")
        dispatcher.run_round()  # starts the stream's cursor at the events placed so far
        emit(potok, 21, 3)
        report = dispatcher.run_round()
        assert report.published == 3

        messages = _run(_messages(stream, prefix))
        assert [m.subject for m in messages] == [f"{prefix}.order.status_changed"] * 3
        bodies = [json.loads(m.data) for m in messages]
        assert [b["data"]["from_status"] for b in bodies] == ["s0", "s1", "s2"]
        assert [m.headers["Nats-Msg-Id"] for m in messages] == [b["id"] for b in bodies]
        assert {b["subject"] for b in bodies} == {"order/21"}

        # a worker died after publishing but before moving its cursor: all again
        with potok.engine.begin() as connection:
            connection.execute(
                sa.update(event_consumers)
                .where(event_consumers.c.name == "nats")
                .values(position=event_consumers.c.position - 3)
            )
        assert dispatcher.run_round().published == 3
        assert len(_run(_messages(stream, prefix))) == 3  # JetStream dropped copies


def test_an_unreachable_server_delays_the_stream_and_loses_nothing(
    potok: Potok, stream: str
) -> None:
    events = potok.settings.events
    events.backoff_s = 0.01
    events.backoff_max_s = 0.02
    with new_client() as client:
        dispatcher = Dispatcher(potok, client, name="nats-test")
        dispatcher.run_round()
        emit(potok, 22, 2)
        events.nats_url = "nats://127.0.0.1:1"  # nothing listens there
        dispatcher.close()
        failed = dispatcher.run_round()
        assert (failed.published, failed.failed) == (0, 1)

        events.nats_url = NATS_URL
        dispatcher.close()
        for _ in range(50):
            if dispatcher.run_round().published:
                break
    messages = _run(_messages(stream, events.nats_subject_prefix))
    assert [json.loads(m.data)["data"]["from_status"] for m in messages] == ["s0", "s1"]
