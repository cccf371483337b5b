"""Prometheus metrics: every request by route and status with its latency, and, read from
the database at each scrape, orders placed and waiting for stock, the outbox's backlog per
consumer with the age of its oldest undelivered event, and deliveries by outcome.

Request figures are per process (each API process answers for itself; with
``--workers N`` scrape each, or read them as a sample); database figures are the whole
installation's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from potok.domain.webhooks import OutboxFigures

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The registry of one application, and the figures it serves."""

    def __init__(self, figures: Callable[[], OutboxFigures]) -> None:
        self.registry = CollectorRegistry()  # never collects before a scrape
        self.requests = Counter(
            "potok_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "potok_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_DatabaseFigures(figures))


class _DatabaseFigures(Collector):
    def __init__(self, figures: Callable[[], OutboxFigures]) -> None:
        self.figures = figures

    def describe(self) -> Iterator[Metric]:
        """Nothing ahead of time: the database is read at a scrape, not when registering."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        found = self.figures()
        now = datetime.now(UTC)
        yield CounterMetricFamily(
            "potok_orders_placed", "Orders taken in, ever", value=found.orders_placed
        )
        yield GaugeMetricFamily(
            "potok_orders_backordered",
            "Orders whose reservation failed and that wait for stock",
            value=found.orders_backordered,
        )
        yield GaugeMetricFamily(
            "potok_outbox_unplaced_events",
            "Committed events the dispatcher has not yet placed in commit order",
            value=found.unplaced,
        )
        backlog = GaugeMetricFamily(
            "potok_outbox_backlog_events",
            "Events placed but not yet delivered, per consumer (webhook:<id>, nats)",
            labels=["consumer"],
        )
        age = GaugeMetricFamily(
            "potok_outbox_oldest_undelivered_age_seconds",
            "Age of the oldest event a consumer has not delivered (0 when up to date)",
            labels=["consumer"],
        )
        for lag in found.consumers:
            backlog.add_metric([lag.consumer], lag.events)
            seconds = (now - lag.oldest_at).total_seconds() if lag.oldest_at else 0.0
            age.add_metric([lag.consumer], max(seconds, 0.0))
        yield backlog
        yield age
        unplaced_age = GaugeMetricFamily(
            "potok_outbox_oldest_unplaced_age_seconds",
            "Age of the oldest committed event not yet placed in commit order",
            value=(
                max((now - found.oldest_unplaced_at).total_seconds(), 0.0)
                if found.oldest_unplaced_at
                else 0.0
            ),
        )
        yield unplaced_age
        deliveries = CounterMetricFamily(
            "potok_webhook_deliveries",
            "Webhook delivery attempts, by outcome (delivered, failed, dead)",
            labels=["outcome"],
        )
        for outcome in ("delivered", "failed", "dead"):
            deliveries.add_metric([outcome], found.deliveries.get(outcome, 0))
        yield deliveries


class MeasureRequests:
    """ASGI middleware: counts each request under its route template (``/api/v1/orders/
    {order_id}``, never the raw path, so that the series stay few) and times it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
