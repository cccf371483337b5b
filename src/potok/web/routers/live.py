"""``/live``: the console's live updates as server-sent events (see ``potok.web.live``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.web.live import Listener, LiveHub
from potok.web.pages import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STREAM_S = 50.0
"""How long one stream stays open; the browser reconnects at once from where it got to, and
its session is checked again (a signed-out or disabled user stops being told)."""
HEARTBEAT_S = 10.0
RETRY_MS = 1000
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

Position = Annotated[str | None, Query(max_length=19, pattern=r"^[0-9]{1,19}$")]


def hub_of(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.live
    return hub


def live_context(request: Request) -> dict[str, object]:
    """What a live page's template needs: where its stream starts (read before the page's
    own data, so nothing between the two is missed)."""
    return {"live": True, "live_after": hub_of(request).cursor()}


@router.get("/live", dependencies=[needs(), reach(Reach.LISTED)])
async def live(
    request: Request,
    caller: Caller,
    after: Position = None,
    last_event_id: Annotated[str | None, Header(max_length=19)] = None,
) -> Response:
    """Changes after ``after`` (or the last event the browser saw) that the caller may see.

    A browser's EventSource (``Accept: text/event-stream``) keeps the stream open; any other
    client gets what has already happened after the cursor, and the answer ends."""
    hub = hub_of(request)
    start = max(
        (int(v) for v in (after, last_event_id) if v is not None and v.isdigit()), default=None
    )
    start = min(start, 2**63 - 1) if start is not None else None
    if "text/event-stream" not in request.headers.get("accept", ""):
        since = start if start is not None else await run_in_threadpool(hub.cursor)
        changes = await run_in_threadpool(hub.visible_changes, caller, since)
        body = b"retry: %d\n\n" % RETRY_MS + b"".join(c.message() for c in changes)
        return Response(body, media_type="text/event-stream", headers=HEADERS)
    listener = await hub.join(caller, start)
    return StreamingResponse(
        _stream(hub, listener), media_type="text/event-stream", headers=HEADERS
    )


async def _stream(hub: LiveHub, listener: Listener) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    closes = loop.time() + STREAM_S
    try:
        yield b"retry: %d\n\n" % RETRY_MS
        while (left := closes - loop.time()) > 0:
            try:
                await asyncio.wait_for(listener.ready.wait(), min(HEARTBEAT_S, left))
            except TimeoutError:
                yield b": still here\n\n"
                continue
            # everything that changed since the last write, one message per thing, in one write
            yield b"".join(change.message() for change in listener.take())
    finally:
        hub.leave(listener)
