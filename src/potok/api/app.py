"""``create_app``: the FastAPI application with every router and the problem handlers."""

from __future__ import annotations

import asyncio
import gc
import os
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.routing import BaseRoute

from potok import __version__, timing, web
from potok.api import problems
from potok.api.body_guard import GuardBodies, OtherMediaTypes
from potok.api.hot_routes import HotRoutes, hot_threads
from potok.api.metrics import MeasureRequests, Metrics
from potok.api.routers import (
    access,
    avito_delivery,
    carriers,
    catalogue,
    customers,
    documents,
    events,
    files,
    first_mile,
    fiscal,
    forecasts,
    health,
    locations,
    marketplaces,
    metrics,
    notifications,
    onec,
    order_edits,
    orders,
    overdue,
    payments,
    replenishment,
    reports,
    rerouting,
    returns,
    rules,
    shipments,
    sourcing,
    stock,
    stock_counts,
    stock_moves,
    stores,
    tasks,
    transfers,
    warehouse_papers,
    waves,
)
from potok.api.schemas.common import Problem
from potok.api.schemas.orders import OrderIn
from potok.api.scope import Reach, reach, reach_of
from potok.api.security import (
    SESSION_COOKIE,
    KeyCache,
    RateLimiter,
    Security,
    SharedRateLimiter,
    public,
    requirement_of,
)
from potok.api.url_guard import RefuseNulInUrl
from potok.bootstrap import Potok, bootstrap
from potok.db.lite_writers import hand_over_sooner
from potok.security.access_log import mask_access_log
from potok.services import events as event_service
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


def settle_start_up_objects() -> None:
    """Leave what start-up built out of the garbage collector's full passes: a process
    serving the API holds about 270,000 long-lived objects (modules, classes, schemas,
    compiled statements), and every full collection walked them all with the GIL held,
    stalling every request in flight (gc.freeze: they move to a generation that is never
    collected; what requests create later is collected as before)."""
    gc.collect()
    gc.freeze()


FROZEN_AFTER_FULL_PASSES = 3
_freezing = False


def settle_what_first_requests_built(passes: int = FROZEN_AFTER_FULL_PASSES) -> None:
    """The first requests build more that lives as long as the process (the OpenAPI
    document the body guard reads, compiled statements, the network copy, prepared
    statements' records): each full collection afterwards walked them again, 26-33 ms of
    CPU with the GIL held, two or three times per process in a benchmark run - a stall of
    every request in flight (docs/architecture.md, intake note 28). So the process's first
    ``passes`` full collections each freeze what they leave: right after a full pass every
    object alive has just been found reachable and sits in the oldest generation. Cyclic
    garbage made later is collected as before; objects frozen then that become cyclic
    garbage afterwards are not (a few in-flight requests' worth, ``passes`` times)."""
    global _freezing
    if _freezing:  # once per process (a test process builds many applications)
        return
    _freezing = True
    left = passes

    def after(phase: str, info: dict[str, Any]) -> None:
        nonlocal left
        if left and phase == "stop" and info.get("generation") == 2:
            gc.freeze()
            left -= 1

    gc.callbacks.append(after)


def create_app(settings: Settings | None = None, potok: Potok | None = None) -> FastAPI:
    """The API for these settings (or an already built Potok, which the caller then owns)."""
    settings = settings or (potok.settings if potok else get_settings())
    owned = potok is None
    potok = potok or bootstrap(settings)
    mask_access_log()  # query strings may carry a customer's phone or e-mail

    several = potok.engine.dialect.name == "postgresql"  # API processes may be many
    keys = KeyCache(settings.security.key_cache_seconds, trusted=not several)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api.threads
        listener = None
        if several:
            from potok.db.key_changes import KeyChangeListener

            listener = KeyChangeListener(potok.engine.url, keys.forget, keys.hearing).start()
        settle_start_up_objects()
        settle_what_first_requests_built()
        timing.watch_collector()
        spreading = bool(os.environ.get("POTOK_API_SPREAD_TABLE"))
        if spreading:  # one of several worker processes (potok serve --workers N)
            from potok.api import spread

            spread.start(asyncio.get_running_loop())
        if not several and settings.api.workers > 1:
            hand_over_sooner()  # SQLite, several processes: the writer gets the GIL sooner
        yield
        if spreading:
            spread.stop()
        timing.flush()
        if listener is not None:
            listener.stop()
        app.state.hot_threads.shutdown(wait=True)
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
        # FastAPI's own OpenTelemetry hooks asked for a tracer and a meter on every
        # request; Potok measures itself (/metrics) and configures no OpenTelemetry
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.potok = potok
    app.state.hot_threads = hot_threads(settings.api.threads)
    limiter = SharedRateLimiter(potok.engine) if several else RateLimiter()
    app.state.security = Security(potok, limiter, keys, {})
    app.state.problem_base_uri = settings.api.problem_base_uri
    app.state.max_bulk_rows = settings.api.max_bulk_rows
    problems.install(app)
    app.add_middleware(HotRoutes, fastapi_app=app)  # the innermost: added first
    app.add_middleware(RefuseNulInUrl)
    app.add_middleware(
        GuardBodies,
        max_body_bytes=settings.api.max_body_bytes,
        other_media_types=OtherMediaTypes(lambda: app.openapi()),
    )
    app.state.metrics = Metrics(lambda: event_service.outbox_figures(potok.uow()))
    app.add_middleware(MeasureRequests, metrics=app.state.metrics)
    app.add_middleware(problems.AnswerUnexpectedErrors)  # the outermost: added last
    for router in (
        access.sessions,
        access.users,
        access.keys,
        access.audit,
        orders.router,
        order_edits.router,
        customers.router,
        catalogue.products,
        catalogue.categories,
        catalogue.channels,
        catalogue.warehouses,
        stock.router,
        stock_moves.router,
        stock_counts.router,
        locations.router,
        transfers.router,
        replenishment.router,
        sourcing.router,
        sourcing.orders_router,
        rerouting.router,
        rules.router,
        tasks.router,
        shipments.router,
        returns.router,
        payments.router,
        fiscal.router,
        notifications.router,
        overdue.router,
        waves.router,
        warehouse_papers.router,
        carriers.router,
        marketplaces.router,
        first_mile.router,
        avito_delivery.router,
        documents.router,
        events.feed,
        events.webhooks,
        events.readers,
        files.router,
        reports.router,
        forecasts.router,
        onec.router,
        stores.router,
        health.router,
        metrics.router,
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
            _security_schemes(schema, app)
            _problems_every_route_may_answer(schema, app)
            _inputs_as_they_are_checked(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get(
        "/openapi.json", include_in_schema=False, dependencies=[public(), reach(Reach.NETWORK)]
    )
    def openapi_alias() -> JSONResponse:
        """The same document at the address tools try first."""
        return JSONResponse(app.openapi())

    web.install(app)
    return app


def api_routes(routes: Sequence[BaseRoute]) -> list[APIRoute]:
    """Every API route, including those of routers FastAPI keeps behind a wrapper."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (inner := getattr(route, "original_router", None)) is not None:
            found.extend(api_routes(inner.routes))
    return found


def _security_schemes(schema: dict[str, Any], app: FastAPI) -> None:
    """How to authenticate, and on each operation who may call it, so that the docs page
    offers an Authorize button and every operation names the permissions it needs."""
    schema["components"].setdefault("securitySchemes", {}).update(
        {
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key (pk_...), sent as 'Authorization: Bearer <key>' "
                "(or in an X-API-Key header).",
            },
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": SESSION_COOKIE,
                "description": "The session cookie POST /api/v1/session sets; unsafe methods "
                "also need its CSRF token in an X-CSRF-Token header.",
            },
        }
    )
    paths = schema.get("paths", {})
    for route in api_routes(app.routes):
        requirement = requirement_of(route.dependencies)
        for method in (route.methods or set()) - {"HEAD"}:
            # the document writes a converted parameter ("{name:path}") as plain "{name}"
            written = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            operation = paths.get(written, {}).get(method.lower())
            if operation is None or requirement is None:
                continue
            if requirement.public:
                operation["security"] = []
                continue
            operation["security"] = [{"apiKey": []}, {"session": []}]
            if requirement.permissions:
                needed = ", ".join(f"`{p.value}`" for p in requirement.permissions)
                note = f"Needs the permission {needed}."
            else:
                note = "Needs any signed-in user or API key."
            found = reach_of(route.dependencies)
            if found is not None and found.reach in REACH_NOTES:
                note = f"{note} {REACH_NOTES[found.reach]}"
            description = operation.get("description", "")
            operation["description"] = f"{description}\n\n{note}".strip()


REACH_NOTES: dict[Reach, str] = {
    Reach.ORDER: "A key bound to a channel, or warehouse staff, reach only the orders of "
    "their channel or warehouses; any other order is answered 404.",
    Reach.SHIPMENT: "A key bound to a channel, or warehouse staff, reach only the shipments "
    "of their channel's orders or from their warehouses; any other is answered 404.",
    Reach.CHANNEL: "A key bound to a channel reaches that channel only; any other is 404.",
    Reach.WAREHOUSE: "Warehouse staff reach their own warehouses only; any other is 404.",
    Reach.UNLIMITED: "Not for keys bound to a channel nor for warehouse staff (404): it spans "
    "every channel and warehouse.",
    Reach.RECORD: "Keys bound to a channel and warehouse staff reach only the records of "
    "their channel or warehouses; any other is answered 404.",
    Reach.LISTED: "Keys bound to a channel and warehouse staff see only what belongs to "
    "their channel or warehouses.",
    Reach.NAMED: "Keys bound to a channel and warehouse staff may name only their channel "
    "or warehouses (403 out-of-scope otherwise).",
}
"""What a limited caller reaches through a route, as its operation in the document says."""

NO_NUL = "^[^\\x00]*$"
"""Text never carries NUL (PostgreSQL cannot store it): every input string says so."""


def _inputs_as_they_are_checked(schema: dict[str, Any]) -> None:
    """Two rules of every input, written into the document so that it says what is checked:
    a parameter is a string or absent, never JSON null; text carries no NUL character."""
    components = schema.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def strings(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                strings(item)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen and name in components:
                seen.add(name)
                strings(components[name])
            return
        if (
            node.get("type") == "string"
            and not {"pattern", "enum", "const", "format"} & node.keys()
            and node.get("maxLength", 1) > 0
        ):
            node["pattern"] = NO_NUL
        for key, value in node.items():
            if key not in ("examples", "default", "example", "description"):
                strings(value)

    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                found = parameter.get("schema", {})
                options = found.get("anyOf")
                if options and {"type": "null"} in options:
                    kept = [o for o in options if o != {"type": "null"}]
                    del found["anyOf"]
                    if len(kept) == 1:
                        found.update(kept[0])
                    else:
                        found["anyOf"] = kept
                    if found.get("default", "") is None:
                        del found["default"]
                strings(found)
            strings(operation.get("requestBody", {}))


COMMON_PROBLEMS: dict[str, str] = {
    "401": "not-authenticated: no credentials, or ones that do not hold",
    "403": "forbidden: the caller lacks the permission, or a session's CSRF token is missing",
    "404": "not-found: nothing at this address (or nothing the caller may see)",
    "413": "too-large: the body is larger than api.max_body_bytes",
    "415": "unsupported-media-type: the body is not JSON (or another media type named here)",
    "422": "invalid-input: the input is not valid",
    "429": "rate-limited: the API key asks too often; see Retry-After",
    "503": "unavailable, transient-conflict: the database is busy or down; see Retry-After. "
    "personal-data-key-missing: the record's personal data was sealed under a key this "
    "process lacks (key_id names it)",
}


def _problems_every_route_may_answer(schema: dict[str, Any], app: FastAPI) -> None:
    """The statuses any route can answer whatever it does (authentication, rate limits, body
    checks, path lookups, the database), declared on each operation once, here, so that
    the document names every status a route can answer."""
    paths = schema.get("paths", {})
    for route in api_routes(app.routes):
        requirement = requirement_of(route.dependencies)
        for method in (route.methods or set()) - {"HEAD"}:
            # the document writes a converted parameter ("{name:path}") as plain "{name}"
            written = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            operation = paths.get(written, {}).get(method.lower())
            if operation is None:
                continue
            statuses = ["422", "503"]
            if requirement is None or not requirement.public:
                statuses += ["401", "403", "429"]
            if "requestBody" in operation:
                statuses += ["413", "415"]
            found = reach_of(route.dependencies)
            if "{" in route.path or (found is not None and found.reach is Reach.UNLIMITED):
                statuses.append("404")
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(
                    status,
                    {
                        "description": COMMON_PROBLEMS[status],
                        "content": {
                            problems.PROBLEM_JSON: {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        },
                    },
                )


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
