"""``create_app``: the FastAPI application with every router and the problem handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from potok import __version__
from potok.api import problems
from potok.api.routers import access, catalogue, health, orders, stock
from potok.api.schemas.common import Problem
from potok.api.schemas.orders import OrderIn
from potok.api.security import RateLimiter, Security
from potok.bootstrap import Potok, bootstrap
from potok.settings import Settings, get_settings

DESCRIPTION = """
Potok takes every order from every channel into one place, reserves stock without ever
overselling, and routes each order to the best warehouse.

* Errors are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) problem documents
  (`application/problem+json`) with a stable `code`; `Accept-Language: ru` gives Russian text.
* `POST /api/v1/orders` accepts an `Idempotency-Key`; order actions accept `If-Match`.
* Lists are cursor-paginated: pass `next_cursor` back as `cursor`.
* Money is a string with two decimals; times are ISO 8601 in UTC.
"""


def create_app(settings: Settings | None = None, potok: Potok | None = None) -> FastAPI:
    """The API for these settings (or an already built Potok, which the caller then owns)."""
    settings = settings or (potok.settings if potok else get_settings())
    owned = potok is None
    potok = potok or bootstrap(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api.threads
        yield
        if owned:
            potok.close()

    # the documentation pages work offline: Swagger UI and ReDoc are served by Potok itself
    app = FastAPIOffline(
        title="Potok",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
        lifespan=lifespan,
    )
    app.state.potok = potok
    app.state.security = Security(potok, RateLimiter(), {})
    app.state.problem_base_uri = settings.api.problem_base_uri
    app.state.max_bulk_rows = settings.api.max_bulk_rows
    problems.install(app)
    for router in (
        access.sessions,
        access.users,
        access.keys,
        access.audit,
        orders.router,
        catalogue.products,
        catalogue.channels,
        catalogue.warehouses,
        stock.router,
        health.router,
    ):
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            for name, sub in components["Problem"].pop("$defs", {}).items():
                components.setdefault(name, sub)
            order_in = OrderIn.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in order_in.pop("$defs", {}).items():
                components.setdefault(name, sub)
            components["OrderIn"] = order_in
            _problems_for_validation_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _problems_for_validation_errors(schema: dict[str, Any]) -> None:
    """Every 422 is a problem document, whatever FastAPI's default says."""
    problem = {
        "description": "The input is not valid (invalid-input)",
        "content": {problems.PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            current = responses.get("422")
            if current is None:
                continue
            content = current.get("content", {})
            if problems.PROBLEM_JSON not in content:
                responses["422"] = problem
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
