"""Creating requests made safe to retry: the first answer is kept under the caller's
Idempotency-Key in the same transaction as the change, and a replay returns it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from potok.domain.errors import PotokError
from potok.domain.kernel import utc_now
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services.unit_of_work import UnitOfWork, atomically, reading

T = TypeVar("T")


class Replayed(Exception):
    """The request was made before with this Idempotency-Key: here is the first answer.
    Raised (rolling back nothing, since nothing was changed) so that use cases keep one
    return type; entry points answer with it."""

    def __init__(self, status_code: int, body: Any) -> None:
        super().__init__(f"replayed ({status_code})")
        self.status_code = status_code
        self.body = body


@dataclass(frozen=True, slots=True)
class Once(Generic[T]):
    """An Idempotency-Key for one use case: the operation (``scope``), the key as the
    caller sent it, who sent it, the request's hash, and how to render the answer."""

    scope: str
    key: str
    caller: str
    request_hash: str
    respond: Callable[[T], tuple[int, Any]]

    @property
    def stored_key(self) -> str:
        return hashlib.sha256(f"{self.caller}\n{self.key}".encode()).hexdigest()


def _replay(uow: UnitOfWork, once: Once[T]) -> None:
    stored = uow.idempotency.get(once.scope, once.stored_key)
    if stored is not None:
        if stored.request_hash != once.request_hash:
            raise IdempotencyKeyReused(key=once.key)
        raise Replayed(stored.status_code, stored.response)


def answered_before(uow: UnitOfWork, once: Once[T] | None) -> None:
    """For use cases that work outside a transaction first (a carrier's booking, a
    solver's plan): a key answered before raises :class:`Replayed` at once, so the outside
    work is not done twice. :func:`atomically_once` checks again when it keeps the answer."""
    if once is not None:
        reading(uow, lambda uow: _replay(uow, once))


def atomically_once(uow: UnitOfWork, once: Once[T] | None, work: Callable[[UnitOfWork], T]) -> T:
    """``atomically(work)``, keeping the answer under the key; a replayed key raises
    :class:`Replayed` with the first answer, the same key with another request is
    refused (409).

    The same request sent twice at once (a client that retried before the first answer
    came) runs twice side by side; the key's unique row lets one commit. The other either
    fails that insert (and its retry replays) or is refused earlier by what its twin just
    changed (a transfer already received): then too, once the key is answered, the twin's
    answer is the answer."""
    if once is None:
        return atomically(uow, work)

    def wrapped(uow: UnitOfWork) -> T:
        _replay(uow, once)
        result = work(uow)
        status_code, body = once.respond(result)
        uow.idempotency.add(
            once.scope, once.stored_key, once.request_hash, status_code, body, utc_now()
        )
        return result

    try:
        return atomically(uow, wrapped)
    except PotokError:
        answered_before(uow, once)  # raises Replayed when a twin committed meanwhile
        raise
