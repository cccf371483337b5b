"""The event stream: every event that leaves Potok published to NATS JetStream, one subject
per event type (``potok.events.order.created``), the event id as ``Nats-Msg-Id`` so that
JetStream drops a copy published again after a worker died (within its duplicate window).

nats-py speaks asyncio; the dispatcher is plain threads, so the sink keeps its own event
loop in a thread and waits for each batch's acknowledgements.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from potok.domain.webhooks import StoredEvent, cloud_event

T = TypeVar("T")

DUPLICATE_WINDOW_S = 600


class NatsSink:
    """Publishes batches of events to one JetStream stream; connects on first use."""

    def __init__(
        self, url: str, *, stream: str, prefix: str, source: str, timeout_s: float
    ) -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.source = source
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="potok-nats", daemon=True
        )
        self._thread.start()
        self._client: Client | None = None
        self._stream: JetStreamContext | None = None

    def subject(self, event: StoredEvent) -> str:
        return f"{self.prefix}.{event.type}"

    def publish(self, events: Sequence[StoredEvent]) -> None:
        """Publish in order and wait for JetStream to store each; raises when it did not."""
        self._run(self._publish(list(events)), timeout=self.timeout_s * (len(events) + 2))

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):  # a connection already gone
                self._run(self._client.close(), timeout=self.timeout_s)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _run(self, work: Coroutine[Any, Any, T], *, timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    async def _context(self) -> JetStreamContext:
        if self._client is None or self._client.is_closed:
            self._client = await nats.connect(
                self.url,
                connect_timeout=self.timeout_s,
                max_reconnect_attempts=2,
                allow_reconnect=True,
            )
            self._stream = None
        if self._stream is None:
            context = self._client.jetstream(timeout=self.timeout_s)
            try:
                await context.stream_info(self.stream)
            except NotFoundError:
                await context.add_stream(
                    name=self.stream,
                    subjects=[f"{self.prefix}.>"],
                    duplicate_window=DUPLICATE_WINDOW_S,
                )
            self._stream = context
        return self._stream

    async def _publish(self, events: list[StoredEvent]) -> None:
        context = await self._context()
        for event in events:
            await context.publish(
                self.subject(event),
                orjson.dumps(cloud_event(event, self.source)),
                stream=self.stream,
                headers={"Nats-Msg-Id": event.event_id},
            )
