"""Rendering the console's pages: templates in the reader's language, who is reading, and
problems turned into pages (sign-in, password change, not allowed, not found).

Pages only read: they call the same service functions as the API's GET routes, behind the
same permission checks (``needs`` from ``potok.api.security``). Every change a page offers
is sent by the browser to the JSON API itself, with the session's CSRF token and the
order's version in ``If-Match``, so the console and the API cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from potok.api.i18n import translate_problem
from potok.api.problems import status_for
from potok.api.security import client_ip, security_of
from potok.db.unit_of_work import SqlUnitOfWork
from potok.domain.access import Permission, Principal
from potok.domain.access.model import PasswordChangeRequired
from potok.domain.errors import FieldError, InvalidInput, PotokError, Unauthenticated
from potok.services.ports import AuditContext
from potok.web import labels
from potok.web.i18n import Formats, console_language, console_zone, translations

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment(language: str) -> Environment:
    """One template environment per language, with its translations installed."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["labels"] = labels
    env.globals["Permission"] = Permission
    return env


def principal_of(request: Request) -> Principal | None:
    found: Principal | None = getattr(request.state, "principal", None)
    return found


def console_uow(request: Request) -> SqlUnitOfWork:
    """A unit of work whose audit trail names the signed-in person and the console."""
    principal = principal_of(request)
    context = AuditContext(
        actor=str(principal.actor) if principal else "anonymous",
        via="console",
        ip=client_ip(request),
        request_id=request.headers.get("x-request-id"),
    )
    return security_of(request).potok.uow(context)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The page ``template`` in the reader's language and time zone."""
    language = console_language(request)
    formats = Formats(language, console_zone(request))
    principal = principal_of(request)
    values: dict[str, Any] = {
        "request": request,
        "lang": language,
        "other_lang": "en" if language == "ru" else "ru",
        "fmt": formats,
        "me": principal,
        "now": datetime.now(UTC),
        "path": request.url.path,
        "query": request.url.query,
    }
    values.update(context or {})
    html = environment(language).get_template(template).render(values)
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Content-Language": language},
    )


def problem_page(request: Request, error: PotokError) -> HTMLResponse:
    """A problem as a page: sign-in for a stranger, the password form for a one-time
    password, else the problem document's own words."""
    status = status_for(error)
    if isinstance(error, Unauthenticated):
        return render(request, "sign_in.html", {"next": _next(request)}, status_code=status)
    if isinstance(error, PasswordChangeRequired):
        return render(request, "password.html", {"next": _next(request)}, status_code=status)
    title, detail = translate_problem(error, console_language(request))
    if isinstance(error, InvalidInput) and error.errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
    return render(
        request,
        "problem.html",
        {"title": title, "detail": detail, "code": error.code, "status": status},
        status_code=status,
    )


def _next(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


class PageRoute(APIRoute):
    """A console page: a domain problem becomes a page rather than a problem document."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except PotokError as error:
                return await run_in_threadpool(problem_page, request, error)
            except RequestValidationError as error:
                invalid = InvalidInput(
                    [
                        FieldError(str(e.get("loc", ("",))[-1]), e.get("msg", ""), "invalid")
                        for e in error.errors()
                    ]
                )
                return await run_in_threadpool(problem_page, request, invalid)

        return page
