"""Creating requests made safe to repeat: the first answer is kept under the caller's key.

The same key with the same request answers what the first request answered, without doing
the work again; the same key with another request is refused. The answer is stored in the
same transaction as the work, so a lost response can always be fetched by repeating.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from potok.domain.kernel import utc_now
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services.unit_of_work import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Idempotency:
    """A caller's key for one request (already prefixed with who the caller is)."""

    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer a request got the first time: its status and its JSON body."""

    status_code: int
    body: Any


def once(
    uow: UnitOfWork,
    scope: str,
    idempotency: Idempotency | None,
    work: Callable[[UnitOfWork], T],
    respond: Callable[[T], Answer],
) -> Answer:
    """Inside a transaction: ``work`` and its answer, or the answer kept from the first time."""
    if idempotency is None:
        return respond(work(uow))
    stored = uow.idempotency.get(scope, idempotency.key)
    if stored is not None:
        if stored.request_hash != idempotency.request_hash:
            raise IdempotencyKeyReused(key=idempotency.key)
        return Answer(stored.status_code, stored.response)
    answer = respond(work(uow))
    uow.idempotency.add(
        scope, idempotency.key, idempotency.request_hash, answer.status_code, answer.body, utc_now()
    )
    return answer
