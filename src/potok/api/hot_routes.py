"""The hottest routes answered without the router's walk.

Order intake is most of an API process's load. FastAPI reaches a route by matching the
path against every route in turn, solving its dependencies and wrapping it in two more
layers of middleware; for ``POST /api/v1/orders`` that was a sixth of the process's CPU
per order (py-spy, see docs/architecture.md). This middleware, the innermost of Potok's,
sends such requests straight to the route's endpoint: every outer middleware (metrics,
body and URL guards, the problem document for an unexpected error) still runs, the
route's exception handlers still answer its errors, and the request carries the same
``route`` in its scope, so metrics and logs see no difference.

A route qualifies only while it needs nothing the router would do for it: its endpoint
takes the bare ``Request``, it declares its permission as checked inline (``needs_inline``)
and a reach that is not checked before the route runs, and it has no path parameters.
A route that stops qualifying (a dependency added later) simply goes the ordinary way.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from potok import timing
from potok.api.scope import CHECKED_HERE, ReachCheck
from potok.api.security import Requirement

Endpoint = Callable[[Request], Awaitable[Response]]

HOT = (("POST", "/api/v1/orders"),)

T = TypeVar("T")


def hot_threads(threads: int) -> ThreadPoolExecutor:
    """The worker threads of the hottest routes (made as they are first needed)."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="potok-hot")


async def off_the_loop(request: Request, work: Callable[[], T]) -> T:
    """Run blocking ``work`` (the database) in the hot routes' own threads, with the
    request's context variables. The same hand-off as FastAPI's ``run_in_threadpool``
    without anyio's capacity limiter, cancel scope and task lookups around it: those were
    a sixth of the event loop's time per order (py-spy with ``--gil``)."""
    pool: ThreadPoolExecutor = request.app.state.hot_threads
    timing.mark("queued")
    context = contextvars.copy_context()
    if timing.ENABLED:
        result = await asyncio.get_running_loop().run_in_executor(pool, context.run, _marked, work)
        timing.mark("back")
        return result
    return await asyncio.get_running_loop().run_in_executor(pool, context.run, work)


def _marked(work: Callable[[], T]) -> T:
    timing.mark("thread")
    try:
        return work()
    finally:
        timing.mark("done")


class HotRoutes:
    """ASGI middleware: ``(method, path)`` pairs of ``fastapi_app`` answered directly."""

    def __init__(
        self, app: ASGIApp, fastapi_app: FastAPI, hot: Iterable[tuple[str, str]] = HOT
    ) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.hot = tuple(hot)
        self._routes: dict[tuple[str, str], APIRoute] | None = None

    def routes(self) -> dict[tuple[str, str], APIRoute]:
        if self._routes is None:  # the routes are all included by the first request
            self._routes = {
                (method, route.path): route
                for route in routes_as_included(self.fastapi_app.routes)
                for method in route.methods or ()
                if (method, route.path) in self.hot and qualifies(route)
            }
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and not scope.get("root_path"):
            route = self.routes().get((scope["method"], scope["path"]))
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        record = timing.begin(scope["client"][1] if scope.get("client") else None)
        request = Request(scope, receive, send)
        endpoint: Endpoint = route.endpoint
        try:
            response = await endpoint(request)
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise  # the outer middleware answers it as an unexpected error
            answer = handler(request, error)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)
        timing.finish(record)

    def _handler_for(self, error: Exception) -> Callable[[Request, Exception], Any] | None:
        handlers = self.fastapi_app.exception_handlers
        for kind in type(error).__mro__:
            if kind in handlers:
                return handlers[kind]
        return None


def routes_as_included(routes: Iterable[Any]) -> Iterable[APIRoute]:
    """The routes of an application, looking into routers included as they are (no
    prefix or dependencies added at the inclusion; FastAPI keeps those as routers)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
            continue
        router = getattr(route, "original_router", None)
        context = getattr(route, "include_context", None)
        as_it_is = context is not None and not getattr(context, "prefix", "x")
        if router is not None and as_it_is and not getattr(context, "dependencies", 1):
            yield from routes_as_included(router.routes)


def qualifies(route: APIRoute) -> bool:
    """Whether the router does nothing for ``route`` that :class:`HotRoutes` would skip."""
    if route.param_convertors or not inspect.iscoroutinefunction(route.endpoint):
        return False
    parameters = list(inspect.signature(route.endpoint).parameters.values())
    if len(parameters) != 1 or parameters[0].annotation not in (Request, "Request"):
        return False
    for dependency in route.dependencies:
        call = getattr(dependency, "dependency", None)
        if isinstance(call, Requirement) and call.inline:
            continue
        if isinstance(call, ReachCheck) and call.reach not in CHECKED_HERE:
            continue
        return False
    return True
