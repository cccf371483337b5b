"""Refuse NUL characters in the path or query string before any route sees them.

PostgreSQL cannot store NUL in text and no person types one, so a URL carrying ``%00`` is
answered with a problem document naming the fix, on both databases alike. Bodies are
checked by the schemas (``Schema`` in ``api.schemas.common``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from potok.api.i18n import language_of, translate_problem
from potok.api.problems import problem_response
from potok.domain.errors import InvalidInput


class RefuseNulInUrl:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = None
            if "\x00" in scope["path"]:
                where = "path"
            elif b"%00" in scope.get("query_string", b""):
                where = "query"
            if where is not None:
                request = Request(scope)
                title, _ = translate_problem(InvalidInput(errors=[]), language_of(request))
                message = "text must not contain NUL (%00) characters"
                error = {"field": where, "message": message, "code": "nul_character"}
                response = problem_response(
                    request,
                    status=422,
                    code=InvalidInput.code,
                    title=title,
                    detail=f"{where}: {message}",
                    extra={"errors": [error]},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
