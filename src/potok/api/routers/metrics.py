"""Prometheus metrics at /metrics (see ``api/metrics.py`` for what is measured)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from potok.api.scope import Reach, reach
from potok.api.security import needs
from potok.domain.access import Permission

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests, orders, the outbox's backlog, deliveries",
    description="The Prometheus text format. Give Prometheus an API key with the "
    "`metrics:read` scope (`authorization: credentials: <key>` in its scrape config).",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "The metrics"}},
    dependencies=[needs(Permission.METRICS_READ), reach(Reach.UNLIMITED)],
)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
