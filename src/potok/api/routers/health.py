"""Liveness and readiness for load balancers and operators."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from potok import __version__
from potok.api.scope import Reach, reach
from potok.api.security import public
from potok.db.migrate import is_up_to_date

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
