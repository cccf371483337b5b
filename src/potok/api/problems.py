"""RFC 9457 problem details: the one table from error kind to HTTP status, and the handlers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from potok.api.i18n import language_of, translate_field_message, translate_problem
from potok.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PotokError,
    Rejected,
    StaleVersion,
    TooManyRequests,
    TransientConflict,
    Unauthenticated,
    Unavailable,
    VersionRequired,
)

log = logging.getLogger("potok.api")

PROBLEM_JSON = "application/problem+json"

STATUS_BY_KIND: list[tuple[type[PotokError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (TooManyRequests, 429),
    (InvalidInput, 422),
    (NotFound, 404),
    (StaleVersion, 412),
    (VersionRequired, 428),
    (Conflict, 409),
    (Rejected, 422),
    (TransientConflict, 503),
    (Unavailable, 503),
]


def status_for(error: PotokError) -> int:
    for kind, status in STATUS_BY_KIND:
        if isinstance(error, kind):
            return status
    return 400


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    base = getattr(request.app.state, "problem_base_uri", "about:blank#")
    body: dict[str, Any] = {
        "type": base + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    if extra:  # context never overrides the standard members
        body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def potok_error_response(request: Request, error: PotokError) -> JSONResponse:
    status = status_for(error)
    language = language_of(request)
    title, detail = translate_problem(error, language)
    extra: dict[str, Any] = {k: v for k, v in error.context.items() if _json_ready(v)}
    if isinstance(error, InvalidInput):
        extra["errors"] = [
            {
                "field": e.field,
                "message": translate_field_message(e.code, e.message, language),
                "code": e.code,
                **({"at": e.at, "end": e.end} if e.at is not None else {}),
            }
            for e in error.errors
        ]
        listed = "; ".join(f"{e['field']}: {e['message']}" for e in extra["errors"][:10])
        if len(extra["errors"]) > 10:
            listed += f"; and {len(extra['errors']) - 10} more (see errors)"
        detail = (
            f"{detail} ({listed})"
            if error.code == "bulk-rejected" and listed
            else (listed or detail)
        )
    retry = status == 503 and getattr(error, "retryable", True)
    headers = {"Retry-After": "1"} if retry else None
    if status == 429:
        headers = {"Retry-After": str(error.context.get("retry_after", 1))}
    elif status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="potok"'}
    return problem_response(
        request,
        status=status,
        code=error.code,
        title=title,
        detail=detail,
        extra=extra,
        headers=headers,
    )


def _json_ready(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list | dict) or value is None


def _location(loc: tuple[Any, ...]) -> str:
    """``("body", "lines", 0, "sku")`` becomes ``lines[0].sku``; query and header names stay."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "body"


def install(app: FastAPI) -> None:
    """Answer every error as a problem document."""

    @app.exception_handler(PotokError)
    async def _potok(request: Request, error: PotokError) -> JSONResponse:
        return potok_error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        language = language_of(request)
        errors = [
            {
                "field": _location(tuple(e.get("loc", ()))),
                "message": translate_field_message(e.get("type", ""), e.get("msg", ""), language),
                "code": e.get("type", "invalid"),
            }
            for e in error.errors()
        ]
        title, detail = translate_problem(InvalidInput(errors=[]), language)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or detail
        return problem_response(
            request,
            status=422,
            code=InvalidInput.code,
            title=title,
            detail=detail,
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code, title = HTTP_PROBLEMS.get(
            error.status_code, (f"http-{error.status_code}", "The request failed")
        )
        detail = error.detail if isinstance(error.detail, str) else title
        headers = dict(getattr(error, "headers", None) or {})
        if error.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's answer to a JSON body that is not UTF-8: as invalid as malformed JSON
            return await _validation(
                request,
                RequestValidationError(
                    [
                        {
                            "type": "json_invalid",
                            "loc": ("body",),
                            "msg": "is not JSON text in UTF-8",
                        }
                    ]
                ),
            )
        if error.status_code == 404 and detail == "Not Found":
            detail = f"There is nothing at {request.url.path}; see /docs for the API."
        if error.status_code == 405:
            allowed = allowed_methods(request.app, request.scope)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.url.path} answers {', '.join(allowed)}, not {request.method}."
        language = language_of(request)
        if language == "ru" and code in RU_HTTP_TITLES:
            title = RU_HTTP_TITLES[code]
        return problem_response(
            request,
            status=error.status_code,
            code=code,
            title=title,
            detail=detail,
            headers=headers or None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # only for what escapes AnswerUnexpectedErrors (installed outermost by create_app)
        return internal_error(request, error)


HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("too-large", "The body is too large"),
    415: ("unsupported-media-type", "Unsupported body type"),
}
RU_HTTP_TITLES = {
    "not-found": "Не найдено",
    "method-not-allowed": "Метод не поддерживается",
    "too-large": "Слишком большое тело запроса",
    "unsupported-media-type": "Неподдерживаемый тип тела запроса",
}


def allowed_methods(app: Starlette, scope: Scope) -> list[str]:
    """Every method some route answers at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in _flat(app.router.routes):
        match, _ = route.matches({**scope, "method": "GET"})
        if match is Match.NONE:
            match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _flat(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, including those of routers FastAPI keeps behind a wrapper."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes)
        else:
            yield route


class AnswerUnexpectedErrors:
    """Answer an unexpected exception with a bare 500 problem and keep the connection.

    Starlette's outermost error middleware re-raises after answering, and uvicorn then
    closes the keep-alive connection, so a client's next request on it was reset. Here
    the exception is logged with a correlation id and goes no further."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except ClientDisconnect:
            return  # the client left while its body was read: there is no one to answer
        except Exception as error:
            if started:  # part of an answer left already: only closing can tell the client
                raise
            response = internal_error(Request(scope), error)
            await response(scope, receive, send)


def internal_error(request: Request, error: BaseException) -> JSONResponse:
    """A bare 500 with a correlation id; the log has the rest."""
    correlation_id = uuid.uuid4().hex
    log.error(
        "unexpected error %s on %s %s",
        correlation_id,
        request.method,
        request.url.path,
        exc_info=error,
    )
    return problem_response(
        request,
        status=500,
        code="internal-error",
        title="Internal error",
        detail=f"Something went wrong on our side; quote {correlation_id} when reporting it.",
        extra={"correlation_id": correlation_id},
    )


def responses(*errors: type[PotokError]) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each possible problem, for the OpenAPI document."""
    table: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        status = 422 if issubclass(error, InvalidInput) else status_for(error())
        entry = table.setdefault(
            status,
            {
                "description": "",
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
        entry["description"] = ", ".join(filter(None, [entry["description"], error.code]))
    return table
