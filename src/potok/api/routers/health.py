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
from potok.security.data import SealedUnderMissingKey
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
    summary="Ready for traffic? Database reachable, schema current, keys present, events flowing",
    description="503 until the database answers, its schema is current and this process "
    "holds every key the sealed personal data needs: `personal_data` is `keys-missing` when "
    "some data was sealed under a key this process lacks (or has under the same id as "
    "another key), and `problems` then names each such key id (code "
    "`personal-data-key-missing`). The database is read for that at most every "
    "`security.key_check_seconds`; a value a request failed to open counts at once. "
    "`dispatcher` "
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
    database, schema, dispatcher, personal = "unreachable", "unknown", "unknown", "unknown"
    problems: list[dict[str, str]] = []
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        database = "ok"
        schema = "current" if is_up_to_date(engine) else "behind"
        if schema == "current":
            missing = potok.key_check.missing()
            personal = "keys-missing" if missing else "ok"
            problems = [_missing_key(k, k in potok.protector.key_ids) for k in missing]
            oldest = reading(potok.uow(), lambda uow: uow.event_log.oldest_unplaced_at())
            waited = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
            dispatcher = "ok" if waited <= READY_LAG_S else "stalled"
    except (sa.exc.SQLAlchemyError, PotokError):
        pass
    ok = (database, schema, personal) == ("ok", "current", "ok")
    body: dict[str, object] = {
        "status": "ready" if ok else "not-ready",
        "database": database,
        "schema": schema,
        "personal_data": personal,
        "dispatcher": dispatcher,
    }
    if problems:
        body["problems"] = problems
    return JSONResponse(body, status_code=200 if ok else 503)


def _missing_key(key_id: str, same_id: bool) -> dict[str, str]:
    error = SealedUnderMissingKey(key_id, same_id=same_id)
    return {"code": error.code, "key_id": key_id, "detail": error.detail}
