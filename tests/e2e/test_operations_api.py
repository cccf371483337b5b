"""Prometheus metrics and readiness over HTTP, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from potok.db.tables import outbox_events
from potok.domain.access import Permission
from potok.domain.kernel import Actor
from potok.services import events
from tests.conftest import LiveServer, key_for
from tests.integration.test_event_delivery import emit


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_requests_by_route_and_show_the_outbox_backlog(live: LiveServer) -> None:
    scraper = key_for(live.potok, Permission.METRICS_READ, name="prometheus")
    reader = key_for(live.potok, Permission.EVENTS_READ, name="reader")
    events.sequence_events(live.potok.uow(), 100)  # the keys' own events are behind us
    made = events.subscribe(
        live.potok.uow(), "http://127.0.0.1:9/hooks", ["*"], Actor.system("t"), allow_private=True
    )
    emit(live.potok, 5, 3)
    events.sequence_events(live.potok.uow(), 100)
    emit(live.potok, 5, 1, start=3)  # committed, not yet placed
    with live.client(headers={"Authorization": f"Bearer {scraper}"}) as prometheus:
        before = samples(prometheus.get("/metrics").text)  # the server lives across tests
        with live.client(headers={"Authorization": f"Bearer {reader}"}) as client:
            for _ in range(2):
                assert client.get("/api/v1/events").status_code == 200
            assert client.get("/api/v1/webhook-subscriptions").status_code == 403
        answer = prometheus.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = samples(answer.text)

    def grew(name: str, labels: tuple[tuple[str, str], ...]) -> float:
        return found[(name, labels)] - before.get((name, labels), 0)

    route = (("method", "GET"), ("route", "/api/v1/events"), ("status", "200"))
    assert grew("potok_http_requests_total", route) == 2
    denied = (("method", "GET"), ("route", "/api/v1/webhook-subscriptions"), ("status", "403"))
    assert grew("potok_http_requests_total", denied) == 1
    timed = (("method", "GET"), ("route", "/api/v1/events"))
    assert grew("potok_http_request_duration_seconds_count", timed) == 2
    consumer = (("consumer", f"webhook:{made.subscription.id}"),)
    # the three order events, and the subscription's own event (passed over, not sent)
    assert found[("potok_outbox_backlog_events", consumer)] == 4
    assert found[("potok_outbox_oldest_undelivered_age_seconds", consumer)] >= 0
    assert found[("potok_outbox_unplaced_events", ())] == 1
    assert found[("potok_orders_placed_total", ())] == 0
    assert found[("potok_webhook_deliveries_total", (("outcome", "delivered"),))] == 0


def test_metrics_need_their_scope(live: LiveServer) -> None:
    with live.client() as anonymous:
        assert anonymous.get("/metrics").status_code == 401
    other = key_for(live.potok, Permission.ORDERS_READ)
    with live.client(headers={"Authorization": f"Bearer {other}"}) as client:
        assert client.get("/metrics").status_code == 403


def test_readiness_reports_whether_events_are_being_placed(live: LiveServer) -> None:
    with live.client() as client:
        fresh = client.get("/api/v1/health/ready")
        assert fresh.status_code == 200, fresh.text
        assert fresh.json() == {
            "status": "ready",
            "database": "ok",
            "schema": "current",
            "dispatcher": "ok",
            "personal_data": "ok",
        }
        with live.potok.engine.begin() as connection:  # an event nobody placed for 2 min
            connection.execute(
                sa.insert(outbox_events).values(
                    event_id="00000000-0000-0000-0000-0000000000aa",
                    type="order.status_changed",
                    aggregate_type="order",
                    aggregate_id="1",
                    payload={},
                    occurred_at=datetime.now(UTC) - timedelta(minutes=2),
                )
            )
        stalled = client.get("/api/v1/health/ready")
        assert stalled.status_code == 200  # reported, not an outage of the API
        assert stalled.json()["dispatcher"] == "stalled"
        events.sequence_events(live.potok.uow(), 10)
        assert client.get("/api/v1/health/ready").json()["dispatcher"] == "ok"
