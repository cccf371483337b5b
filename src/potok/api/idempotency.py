"""Idempotency-Key on creating POSTs: the key bounded, the request hashed, the first answer
kept with the change and replayed to a repeat (``Idempotent-Replayed: true``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Header, Request, Response

from potok.api.responses import json_response, plain
from potok.domain.access import Principal
from potok.services.idempotency import Once, Replayed

T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Makes retries of this request safe: a repeat gets the first answer; "
        "the same key with another body is a 409.",
    ),
]


def answer(
    request: Request,
    scope: str,
    caller: Principal,
    key: str | None,
    payload: str,
    call: Callable[[Once[T] | None], T],
    render: Callable[[T], tuple[int, Any]],
    headers: Callable[[Any], dict[str, str]] | None = None,
) -> Response:
    """Run ``call`` (a use case taking the key) and answer with ``render`` of its result;
    a replay answers with the first answer as it was. ``scope`` names the operation;
    ``headers`` (say ``Location``) are made from the answer's body, the same for a replay."""
    rendered: list[tuple[T, int, Any]] = []

    def respond(result: T) -> tuple[int, Any]:
        status, body = render(result)
        rendered.append((result, status, plain(body)))
        return status, rendered[-1][2]

    once = None
    if key is not None:
        digest = hashlib.sha256(f"{request.url.path}\n{payload}".encode()).hexdigest()
        once = Once(scope, key, str(caller.actor), digest, respond)
    try:
        result = call(once)
    except Replayed as replay:
        extra = headers(replay.body) if headers is not None else {}
        return json_response(
            replay.body, replay.status_code, {**extra, "Idempotent-Replayed": "true"}
        )
    if rendered and rendered[-1][0] is result:
        _, status, body = rendered[-1]
    else:
        status, body = render(result)
    return json_response(body, status, headers(body) if headers is not None else None)
