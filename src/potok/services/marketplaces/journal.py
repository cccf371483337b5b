"""The journal of marketplace orders kept aside for an operator, with an event for each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from potok.domain.kernel import Clock
from potok.domain.marketplaces import Connection, JournalKind
from potok.domain.marketplaces.events import MarketplaceOrderKeptAside
from potok.services.unit_of_work import UnitOfWork, atomically


def keep_aside(
    uow: UnitOfWork,
    connection: Connection,
    external_id: str,
    kind: JournalKind,
    detail: str,
    payload: Mapping[str, Any],
    clock: Clock,
) -> None:
    def work(uow: UnitOfWork) -> None:
        at = clock()
        uow.marketplaces.keep_aside(connection.id, external_id, kind, detail, payload, at)
        uow.record(
            MarketplaceOrderKeptAside(
                occurred_at=at,
                connection=connection.code,
                external_id=external_id,
                kind=kind.value,
                detail=detail[:2000],
            )
        )

    atomically(uow, work)
