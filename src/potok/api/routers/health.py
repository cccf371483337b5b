"""Liveness and readiness for load balancers and operators."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from potok import __version__
from potok.api.scope import Reach, reach
from potok.api.security import public
from potok.db.migrate import is_up_to_date
from potok.domain.errors import PotokError
from potok.services.unit_of_work import reading

router = APIRouter(tags=["health"])


@router.get(
    "/api/v1/health",
    summary="Is the service up and its database reachable?",
    dependencies=[public(), reach(Reach.NETWORK)],
)
def health(request: Request) -> JSONResponse:
    engine = request.app.state.potok.engine
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        database = "unreachable"
    schema = "unknown"
    if database == "ok":
        try:
            schema = "current" if is_up_to_date(engine) else "behind"
        except sa.exc.SQLAlchemyError:
            schema = "unknown"
    healthy = database == "ok" and schema == "current"
    return JSONResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "schema": schema,
            "version": __version__,
        },
        status_code=200 if healthy else 503,
    )


READY_LAG_S = 60


@router.get(
    "/api/v1/health/ready",
    summary="Ready for traffic? Database reachable, schema current, events flowing",
    description="503 until the database answers and its schema is current. `dispatcher` "
    f"says whether events flow: `stalled` when a committed event has waited more than "
    f"{READY_LAG_S} s to be placed in commit order, that is when no dispatcher (`potok "
    "worker`, or `potok serve` with its jobs) is alive. A stalled dispatcher is reported, "
    "not made a 503: taking API processes out of rotation because a worker died would turn "
    "late webhooks into an outage (alert on it, or on the metrics' ages, instead).",
    dependencies=[public(), reach(Reach.NETWORK)],
)
def ready(request: Request) -> JSONResponse:
    potok = request.app.state.potok
    engine = potok.engine
    database, schema, dispatcher = "unreachable", "unknown", "unknown"
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        database = "ok"
        schema = "current" if is_up_to_date(engine) else "behind"
        if schema == "current":
            oldest = reading(potok.uow(), lambda uow: uow.event_log.oldest_unplaced_at())
            waited = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
            dispatcher = "ok" if waited <= READY_LAG_S else "stalled"
    except (sa.exc.SQLAlchemyError, PotokError):
        pass
    ok = (database, schema) == ("ok", "current")
    return JSONResponse(
        {
            "status": "ready" if ok else "not-ready",
            "database": database,
            "schema": schema,
            "dispatcher": dispatcher,
        },
        status_code=200 if ok else 503,
    )
