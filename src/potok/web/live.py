"""Live updates for the console: one reader of the change feed per process, fanned out to
every open page as server-sent events.

The hub reads the feed after its cursor about once a second and turns each event into a
small *change* (what kind of thing changed and which one: an order's number, a warehouse's
code), never the event's data. Each page listens from the feed position read before it
was rendered, so nothing that happened in between is missed; a reconnecting browser says
where it got to (``Last-Event-ID``). A viewer is told only of what it may see: the
permission the topic needs, and for callers limited to a channel or some warehouses the
same visibility test the pages and the API apply to an order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi.concurrency import run_in_threadpool

from potok.api.scope import limited, visible
from potok.bootstrap import Potok
from potok.domain.access import Permission, Principal
from potok.domain.orders import Order
from potok.domain.webhooks import StoredEvent
from potok.services import live as live_service
from potok.services.ports import AuditContext
from potok.services.unit_of_work import UnitOfWork

log = logging.getLogger("potok.web.live")

ORDER_AGGREGATES = frozenset({"order", "shipment", "document"})
WAREHOUSE_TOPICS = frozenset({"stock", "transfer", "purchase_order", "wave", "stock_count"})
EVERYTHING = "*"  # a change that asks a page to read itself again (it fell too far behind)


@dataclass(frozen=True, slots=True)
class Change:
    """What changed, as a page needs to know it: a topic and which one of it."""

    position: int
    topic: str  # order, alert, stock, transfer, purchase_order, wave, stock_count, or "*"
    key: str  # the order's number, the warehouse's code, the transfer's number ...
    type: str = ""
    order_id: int | None = None
    warehouses: frozenset[str] = frozenset()
    status: str | None = None
    types: tuple[str, ...] = ()  # when several changes of one thing were told as one

    def merged(self, later: Change) -> Change:
        """This change and a later one of the same thing, told as one: the later position,
        type and status (the status only when it says one), every type that happened."""
        types = self.types or (self.type,)
        if later.type not in types:
            types = (*types, later.type)
        return Change(
            later.position,
            self.topic,
            self.key,
            later.type,
            later.order_id if later.order_id is not None else self.order_id,
            self.warehouses | later.warehouses,
            later.status or self.status,
            types if len(types) > 1 else (),
        )

    def message(self) -> bytes:
        """The change as one server-sent event."""
        data: dict[str, Any] = {"topic": self.topic, "id": self.key, "type": self.type}
        if self.status:
            data["status"] = self.status
        if self.types:
            data["types"] = list(self.types)
        return b"id: %d\nevent: change\ndata: %s\n\n" % (self.position, orjson.dumps(data))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def change_of(event: StoredEvent) -> Change | None:
    """The change a page cares about, or None for events no live page shows."""
    data = event.payload
    order_id = data.get("order_id")
    order_id = order_id if isinstance(order_id, int) and not isinstance(order_id, bool) else None
    aggregate = event.aggregate_type
    warehouses = frozenset(
        w
        for w in (data.get(k) for k in ("warehouse", "from_warehouse", "to_warehouse"))
        if isinstance(w, str)
    )
    if aggregate in ORDER_AGGREGATES or (aggregate == "stock" and order_id is not None):
        if order_id is None:
            return None
        return Change(
            event.position,
            "order",
            str(order_id),
            event.type,
            order_id,
            warehouses,
            _text(data.get("to_status")) if aggregate == "order" else None,
        )
    if aggregate == "alert":
        return Change(event.position, "alert", str(data.get("alert_id", "")), event.type, order_id)
    if aggregate in WAREHOUSE_TOPICS and warehouses:
        key = data.get("number", data.get("wave", data.get("warehouse")))
        return Change(event.position, aggregate, str(key), event.type, None, warehouses)
    return None


def needs_orders(principals: Iterable[Principal], changes: Iterable[Change]) -> set[int]:
    """The orders to read before limited viewers can be told of these changes."""
    if not any(limited(p) for p in principals):
        return set()
    return {c.order_id for c in changes if c.order_id is not None}


def may_see(principal: Principal, change: Change, orders: Mapping[int, Order]) -> bool:
    """Whether this viewer may be told of the change: the topic's permission, then reach."""
    if change.topic == EVERYTHING:
        return True
    needed = Permission.STOCK_READ if change.topic in WAREHOUSE_TOPICS else Permission.ORDERS_READ
    if not principal.may(needed):
        return False
    if not limited(principal):
        return True
    if change.order_id is not None:
        order = orders.get(change.order_id)
        return order is not None and visible(principal, order)
    if change.topic not in WAREHOUSE_TOPICS or principal.channel is not None:
        return False  # network-wide alerts, warehouse work: not a channel's
    if principal.warehouses is None:
        return True
    return bool(change.warehouses & set(principal.warehouse_codes))


class Listener:
    """One open page: what it may see, and the changes waiting to be sent to it - one per
    thing that changed (an order, a warehouse's stock ...), however often it changed since
    the page was last told: a burst of events about one order is one message, and a page
    falls behind only when more things changed than it keeps (then it reads itself again)."""

    def __init__(self, principal: Principal, after: int, size: int) -> None:
        self.principal = principal
        self.after = after
        self.size = size
        self.pending: dict[tuple[str, str], Change] = {}
        self.ready = asyncio.Event()
        self.lost = False

    def offer(self, change: Change) -> None:
        if self.lost or change.position <= self.after:
            return
        key = (change.topic, change.key)
        before = self.pending.pop(key, None)
        if before is None and len(self.pending) >= self.size:
            self.lose(change.position)
            return
        self.pending[key] = change if before is None else before.merged(change)
        self.ready.set()

    def lose(self, position: int) -> None:
        """Too far behind to be told change by change: the page reads itself again."""
        self.lost = True
        self.pending = {(EVERYTHING, ""): Change(position, EVERYTHING, "")}
        self.ready.set()

    def take(self) -> list[Change]:
        """What is waiting, in the order of each thing's last change; the page is told it
        all at once, so it is no longer behind."""
        changes = sorted(self.pending.values(), key=lambda c: c.position)
        self.pending = {}
        self.ready.clear()
        self.lost = False
        return changes


class LiveHub:
    """The process's one reader of the change feed and the pages listening to it."""

    def __init__(
        self,
        potok: Potok,
        *,
        poll_s: float = 1.0,
        idle_s: float = 60.0,
        keep: int = 2000,
        batch: int = 500,
        queue: int = 500,
    ) -> None:
        self.potok = potok
        self.poll_s = poll_s
        self.idle_s = idle_s
        self.batch = batch
        self.queue = queue
        self.head: int | None = None  # the last feed position read
        self.floor = 0  # every change after it is in ``recent``
        self.recent: deque[Change] = deque(maxlen=keep)
        self.listeners: set[Listener] = set()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    def uow(self) -> UnitOfWork:
        return self.potok.uow(AuditContext(actor="system:console", via="console"))

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def cursor(self) -> int:
        """Where a page being rendered now starts listening (called from its thread)."""
        head = self.head
        if head is not None and self.running:
            return head
        return live_service.feed_head(self.uow())

    async def join(self, principal: Principal, after: int | None) -> Listener:
        """A page starts listening after ``after`` (None: from now)."""
        await self._start()
        assert self._lock is not None
        assert self.head is not None
        async with self._lock:
            head = self.head
            listener = Listener(principal, head if after is None else min(after, head), self.queue)
            if listener.after < self.floor:
                page, _ = await run_in_threadpool(
                    live_service.catch_up, self.uow(), listener.after, limit=self.batch
                )
                if len(page.items) >= self.batch:  # more happened than one page of the feed
                    listener.lose(head)
                    missed: list[Change] = []
                else:
                    missed = [c for e in page.items if (c := change_of(e))]
                    missed = [c for c in missed if c.position <= self.floor]
            else:
                missed = []
            missed += [c for c in self.recent if c.position > listener.after]
            if missed and not listener.lost:
                await self._deliver([listener], missed)
            self.listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.running and self._loop is loop:
            return
        self._loop, self._lock = loop, asyncio.Lock()
        self.head = await run_in_threadpool(live_service.feed_head, self.uow())
        self.floor = self.head
        self.recent.clear()
        self._task = loop.create_task(self._run(), name="potok-live")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        idle_since: float | None = None
        while True:
            if self.listeners:
                idle_since = None
            elif idle_since is None:
                idle_since = loop.time()
            elif loop.time() - idle_since > self.idle_s:
                return  # nobody listens: the next page starts the hub again
            assert self.head is not None
            try:
                page, head = await run_in_threadpool(
                    live_service.catch_up, self.uow(), self.head, limit=self.batch
                )
            except Exception:  # the database is away: try again later, pages keep theirs
                log.exception("the console's live updates could not read the change feed")
                await asyncio.sleep(self.poll_s * 5)
                continue
            assert self._lock is not None
            if head < self.head:  # the log was emptied (a restored backup, a test)
                async with self._lock:
                    self.head = self.floor = head
                    self.recent.clear()
                    for listener in self.listeners:
                        listener.after = head
                        listener.lose(head)
                        listener.lost = False
                continue
            changes = [c for e in page.items if (c := change_of(e))]
            if changes:
                async with self._lock:
                    for change in changes:
                        if len(self.recent) == self.recent.maxlen:
                            self.floor = self.recent[0].position
                        self.recent.append(change)
                    self.head = page.cursor
                    await self._deliver(list(self.listeners), changes)
            else:
                self.head = page.cursor
            if len(page.items) < self.batch:
                await asyncio.sleep(self.poll_s)

    async def _deliver(self, listeners: list[Listener], changes: list[Change]) -> None:
        wanted = needs_orders((li.principal for li in listeners), changes)
        orders: dict[int, Order] = {}
        if wanted:
            orders = await run_in_threadpool(live_service.orders_named, self.uow(), wanted)
        for listener in listeners:
            for change in changes:
                if may_see(listener.principal, change, orders):
                    listener.offer(change)

    def visible_changes(self, principal: Principal, after: int) -> list[Change]:
        """What happened after ``after`` that this viewer may see, read straight from the
        feed (one page of it): the answer for a client that does not keep a stream open."""
        page, _ = live_service.catch_up(self.uow(), after, limit=self.batch)
        changes = [c for e in page.items if (c := change_of(e))]
        wanted = needs_orders([principal], changes)
        orders = live_service.orders_named(self.uow(), wanted) if wanted else {}
        return [c for c in changes if may_see(principal, c, orders)]
