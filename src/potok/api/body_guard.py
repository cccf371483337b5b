"""What a request body may be before any route reads it: its size and its media type.

* A body larger than ``api.max_body_bytes`` is answered with 413 before it is read whole:
  a ``Content-Length`` above the limit at once, a chunked body as soon as the bytes that
  arrived pass it. The connection is then closed, since the rest of the body is not read.
* A body must be JSON (``application/json`` or any ``application/*+json``), except on the
  operations whose OpenAPI request body names other media types (the tariff table also
  takes ``text/csv``); anything else is answered with 415 naming what is accepted. A body
  without a type is taken where ``application/octet-stream`` is (1C sends its files so).

Both answers are problem documents like every other error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from potok.api.problems import problem_response

JSON_TYPES = ("application/json", "application/*+json")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    """The body passed the limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"The request body is larger than {limit} bytes (api.max_body_bytes).",
            headers={"Connection": "close"},
        )


def is_json(media_type: str) -> bool:
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


class OtherMediaTypes:
    """The operations that take bodies other than JSON, read from the OpenAPI document (on
    the first body that is not JSON, when every route is in place)."""

    def __init__(self, document: Callable[[], dict[str, Any]]) -> None:
        self._document = document
        self._found: list[tuple[re.Pattern[str], str, tuple[str, ...]]] | None = None
        self._paths: list[tuple[re.Pattern[str], frozenset[str]]] = []

    def _rules(self) -> list[tuple[re.Pattern[str], str, tuple[str, ...]]]:
        if self._found is not None:
            return self._found
        found = []
        paths = []
        for path, operations in self._document().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", path) + "$")
            methods = []
            for method, operation in operations.items():
                if not isinstance(operation, dict):
                    continue
                methods.append(method.upper())
                content = operation.get("requestBody", {}).get("content", {})
                others = tuple(t for t in content if not is_json(t))
                if others:
                    found.append((pattern, method.upper(), others))
            paths.append((pattern, frozenset(methods)))
        self._paths = paths
        self._found = found
        return found

    def undeclared(self, method: str, path: str) -> bool:
        """Whether ``path`` is an operation's path that ``method`` is not declared on: the
        router answers that with 405 and ``Allow``, whatever the body."""
        self._rules()
        matching = [methods for pattern, methods in self._paths if pattern.match(path)]
        return bool(matching) and not any(method in methods for methods in matching)

    def allowed(self, method: str, path: str) -> tuple[str, ...]:
        for pattern, rule_method, others in self._rules():
            if rule_method == method and pattern.match(path):
                return others
        return ()


class GuardBodies:
    """ASGI middleware: the size limit and the media types of request bodies."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, other_media_types: OtherMediaTypes
    ) -> None:
        self.app = app
        self.limit = max_body_bytes
        self.others = other_media_types

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        length, chunked, media_type = _body_headers(scope["headers"])
        if length is not None and length > self.limit:
            too_large = BodyTooLarge(self.limit)
            await _refuse(scope, receive, send, too_large, "too-large", "The body is too large")
            return
        if (
            (length or chunked)
            and not is_json(media_type)
            and not self.others.undeclared(scope["method"], scope["path"])
        ):
            accepted = self.others.allowed(scope["method"], scope["path"])
            # a body sent with no type is a stream of bytes (RFC 9110, section 8.3)
            untyped = not media_type and "application/octet-stream" in accepted
            if media_type not in accepted and not untyped:
                names = ", ".join((*JSON_TYPES, *accepted))
                detail = (
                    f"The body was sent as '{media_type or 'no Content-Type'}'; send it as {names}."
                )
                error = HTTPException(415, detail=detail, headers={"Accept": names})
                await _refuse(
                    scope, receive, send, error, "unsupported-media-type", "Unsupported body type"
                )
                return
        await self.app(scope, _counted(receive, self.limit), send)


def _counted(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counting() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return counting


def _body_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[int | None, bool, str]:
    length: int | None = None
    chunked = False
    media_type = ""
    for name, value in headers:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"content-type":
            media_type = value.decode("latin-1").split(";")[0].strip().lower()
    return length, chunked, media_type


async def _refuse(
    scope: Scope, receive: Receive, send: Send, error: HTTPException, code: str, title: str
) -> None:
    response = problem_response(
        Request(scope),
        status=error.status_code,
        code=code,
        title=title,
        detail=str(error.detail),
        headers=dict(error.headers or {}),
    )
    await response(scope, receive, send)
