"""Carriers' prices for sourcing: asked outside any transaction, remembered by the process,
read by the engine from memory only.

Routing rules that choose a carrier (``carriers`` in the rules) price each warehouse's
parcel by the carrier's own tariff. Before an order is sourced, :meth:`CarrierPrices.warm`
asks the carriers for the lanes nobody asked recently, all at once, and waits at most
``deadline_s``: what answers in time is a live price; a carrier that is down or slow
leaves the lane with its remembered (cached) price, else Potok's tariff table decides as
the fallback - and the decision says which. A slow answer that arrives later is still
remembered for the next order.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from potok.connectors.carriers.interface import CarrierError, QuoteRequest
from potok.connectors.carriers.interface import Quote as CarrierQuote
from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.kernel import Clock, utc_now
from potok.domain.sourcing.carriers import CarrierPrice, Lane, PriceSource
from potok.services.unit_of_work import UnitOfWork, reading


@dataclass(frozen=True, slots=True)
class _Known:
    quote: CarrierQuote
    asked_at: float


class PriceBook:
    """Carriers' answers per lane: live for ``ttl_s`` after the answer, cached after that
    (kept for ``keep_s``, for when the carrier is down). Safe to share between threads."""

    def __init__(
        self,
        *,
        ttl_s: float = 600.0,
        keep_s: float = 7 * 24 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.keep_s = keep_s
        self._clock = clock
        self._known: dict[Lane, _Known] = {}
        self._lock = threading.Lock()

    def look(self, lane: Lane) -> CarrierPrice | None:
        with self._lock:
            known = self._known.get(lane)
        if known is None:
            return None
        age = self._clock() - known.asked_at
        if age >= self.keep_s:
            return None
        quote = known.quote
        return CarrierPrice(
            lane.carrier,
            quote.tariff,
            quote.price,
            quote.days,
            PriceSource.LIVE if age < self.ttl_s else PriceSource.CACHED,
            quote.description,
        )

    def fresh(self, lane: Lane) -> bool:
        """Answered within ``ttl_s``: no need to ask again."""
        with self._lock:
            known = self._known.get(lane)
        return known is not None and self._clock() - known.asked_at < self.ttl_s

    def remember(self, lane: Lane, quote: CarrierQuote) -> None:
        with self._lock:
            self._known[lane] = _Known(quote, self._clock())

    def forget(self) -> None:
        with self._lock:
            self._known.clear()


class CarrierPrices:
    """Asks carriers for lanes' prices ahead of sourcing, at most ``deadline_s`` per order."""

    def __init__(
        self,
        book: PriceBook,
        carriers: CarrierRegistry,
        *,
        deadline_s: float = 2.0,
        workers: int = 4,
        wanted: Callable[[], bool] = lambda: True,
    ) -> None:
        self.book = book
        self.carriers = carriers
        self.deadline_s = deadline_s
        self.wanted = wanted  # whether any rules choose carriers (skip the work when not)
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._asking: dict[Lane, Future[None]] = {}
        self._lock = threading.Lock()

    def warm(self, lanes: Iterable[Lane]) -> int:
        """Ask the carriers for every lane not answered recently and wait for the answers
        up to the deadline; the number of lanes answered in time."""
        waiting: list[Future[None]] = []
        with self._lock:
            for lane in dict.fromkeys(lanes):
                if lane.carrier not in self.carriers or self.book.fresh(lane):
                    continue
                asking = self._asking.get(lane)
                if asking is None:  # one question per lane at a time, however many orders
                    asking = self._pool_().submit(self._ask, lane)
                    self._asking[lane] = asking
                    asking.add_done_callback(functools.partial(self._done, lane))
                waiting.append(asking)
        if not waiting:
            return 0
        done, _ = wait(waiting, timeout=self.deadline_s)
        return len(done)

    def settle(self, timeout_s: float | None = None) -> None:
        """Wait for the questions still out (a slow carrier's late answer is remembered)."""
        with self._lock:
            asking = list(self._asking.values())
        wait(asking, timeout=timeout_s)

    def _pool_(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="carrier-prices")
        return self._pool

    def _done(self, lane: Lane, _: Future[None]) -> None:
        with self._lock:
            self._asking.pop(lane, None)

    def _ask(self, lane: Lane) -> None:
        try:
            quotes = self.carriers.get(lane.carrier).quote(
                QuoteRequest(
                    lane.origin,
                    lane.destination,
                    lane.weight_g,
                    region=lane.region,
                    city=lane.city,
                    pickup_point=lane.pickup_point,
                    postal_code=lane.postal_code,
                )
            )
        except CarrierError:
            return  # down: the lane keeps what it had (cached), else the table decides
        live = [q for q in quotes if q.live]  # an adapter's own stand-ins are not the carrier's
        if live:
            self.book.remember(lane, min(live, key=lambda q: (q.price, q.days, q.tariff)))

    def warm_for_order(self, uow: UnitOfWork, order_id: int, *, clock: Clock = utc_now) -> int:
        """Ask for the lanes a sourcing decision on an existing order would price (a dry
        run, a re-plan); read in a short transaction of its own, asked outside it."""
        if not self.wanted():
            return 0

        def work(uow: UnitOfWork) -> list[Lane]:
            order = uow.orders.get(order_id)
            if order is None:
                return []
            today = clock().date()
            products = {li.product_id for li in order.lines}
            from potok.services.intake import held_by_code

            candidates, positions = uow.stock.candidates(products, order.channel_id, today=today)
            origins = {c.code: (c.latitude, c.longitude) for c in candidates}
            return uow.sourcing_setup().carrier_lanes(
                order,
                uow.sourcing.weights_kg(products),
                origins,
                held=held_by_code(candidates, positions),
            )

        return self.warm(reading(uow, work))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
