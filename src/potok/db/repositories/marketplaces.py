"""Marketplace connections, their imported orders and their journal, in and out of the tables.

The credentials column holds the token sealed like personal data (``pd1:...``); it is
opened only by :meth:`MarketplaceRepository.credentials`, for the connector's one header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from potok.connectors.marketplaces.interface import Sticker
from potok.db.pg import Section
from potok.db.tables import (
    channels,
    marketplace_connections,
    marketplace_journal,
    marketplace_returns,
    marketplace_stickers,
    orders,
    returns,
    shipments,
)
from potok.db.tables import marketplace_orders as links
from potok.domain.kernel import ChannelId
from potok.domain.marketplaces import (
    Connection,
    ConnectionDraft,
    Credentials,
    JournalEntry,
    JournalKind,
    Marketplace,
)
from potok.security.data import DataProtector
from potok.services.marketplace_ports import (
    LinkedOrder,
    LinkedReturn,
    OrderProgress,
    PollRecord,
)

_LEFT = (
    "handed_over",
    "in_transit",
    "ready_for_pickup",
    "delivered",
    "failed_delivery",
    "returning",
    "returned_to_sender",
)
_PACKED = ("packed", *_LEFT)
_c = marketplace_connections
_j = marketplace_journal
_r = marketplace_returns

_OPEN_JOURNAL = (
    sa.select(sa.func.count())
    .where(_j.c.connection_id == _c.c.id, _j.c.resolved_at.is_(None))
    .correlate(_c)
    .scalar_subquery()
)
_SELECT = sa.select(
    _c, channels.c.code.label("channel_code"), _OPEN_JOURNAL.label("open_journal")
).select_from(_c.join(channels, channels.c.id == _c.c.channel_id))


def _connection(row: Any) -> Connection:
    return Connection(
        id=row.id,
        code=row.code,
        marketplace=Marketplace(row.marketplace),
        channel_code=row.channel_code,
        base_url=row.base_url,
        warehouses=dict(row.warehouses or {}),
        poll_every_s=row.poll_every_s,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_poll_at=row.last_poll_at,
        last_success_at=row.last_success_at,
        last_error=row.last_error,
        failures=row.failures,
        refused=row.refused,
        rate_limit_waits=row.rate_limit_waits,
        rate_limit_wait_s=row.rate_limit_wait_s,
        imported=row.imported,
        open_journal=row.open_journal or 0,
        cursor=row.cursor,
    )


def _link(row: Any) -> LinkedOrder:
    return LinkedOrder(
        row.external_id,
        row.order_id,
        row.state,
        row.status,
        row.closed,
        items=list(row.items or ()),
        pushed=row.pushed,
        supply=row.supply,
    )


class MarketplaceRepository:
    def __init__(
        self,
        connection: sa.Connection,
        protector: DataProtector,
        staged: list[Section] | None = None,
    ) -> None:
        self.connection = connection
        self.protector = protector
        self.staged = staged  # PostgreSQL: rows written with the commit, after the order's

    # ------------------------------------------------------------------ connections

    def add(self, draft: ConnectionDraft, channel_id: ChannelId, at: datetime) -> Connection:
        secret = {"token": draft.credentials.reveal(), "client_id": draft.credentials.client_id}
        self.connection.execute(
            sa.insert(_c).values(
                code=draft.code,
                marketplace=draft.marketplace.value,
                channel_id=channel_id,
                base_url=draft.base_url,
                credentials=self.protector.encrypt(orjson.dumps(secret).decode()),
                warehouses=dict(draft.warehouses),
                poll_every_s=draft.poll_every_s,
                active=draft.active,
                created_at=at,
                updated_at=at,
            )
        )
        found = self.get_by_code(draft.code)
        assert found is not None
        return found

    def get_by_code(self, code: str) -> Connection | None:
        row = self.connection.execute(_SELECT.where(_c.c.code == code)).first()
        return _connection(row) if row else None

    def list(self) -> Sequence[Connection]:
        return [_connection(r) for r in self.connection.execute(_SELECT.order_by(_c.c.code))]

    def credentials(self, connection_id: int) -> Credentials:
        stored = self.connection.execute(
            sa.select(_c.c.credentials).where(_c.c.id == connection_id)
        ).scalar_one()
        secret = orjson.loads(self.protector.decrypt(stored) or "{}")
        return Credentials(str(secret.get("token") or ""), secret.get("client_id"))

    def change(
        self, connection_id: int, draft: ConnectionDraft, at: datetime, *, new_token: bool
    ) -> None:
        values: dict[str, Any] = {
            "base_url": draft.base_url,
            "warehouses": dict(draft.warehouses),
            "poll_every_s": draft.poll_every_s,
            "active": draft.active,
            "updated_at": at,
        }
        if new_token:
            secret = {"token": draft.credentials.reveal(), "client_id": draft.credentials.client_id}
            values["credentials"] = self.protector.encrypt(orjson.dumps(secret).decode())
            values["refused"] = False  # the next poll says whether the new one is taken
        self.connection.execute(sa.update(_c).where(_c.c.id == connection_id).values(values))

    def record_poll(self, connection_id: int, record: PollRecord) -> None:
        values: dict[str, Any] = {
            "last_poll_at": record.at,
            "rate_limit_waits": _c.c.rate_limit_waits + record.rate_limit_waits,
            "rate_limit_wait_s": _c.c.rate_limit_wait_s + record.rate_limit_wait_s,
            "imported": _c.c.imported + record.imported,
        }
        if record.cursor is not None:
            values["cursor"] = record.cursor
        if record.error is None:
            values.update(last_success_at=record.at, failures=0, refused=False, last_error=None)
        else:
            values.update(
                failures=_c.c.failures + 1, refused=record.refused, last_error=record.error[:1000]
            )
        self.connection.execute(sa.update(_c).where(_c.c.id == connection_id).values(values))

    # ------------------------------------------------------------------ imported orders

    def linked(self, connection_id: int, external_id: str) -> LinkedOrder | None:
        row = self.connection.execute(
            sa.select(links).where(
                links.c.connection_id == connection_id, links.c.external_id == external_id
            )
        ).first()
        return _link(row) if row else None

    def linked_ids(self, connection_id: int, external_ids: Sequence[str]) -> set[str]:
        """Which of these the connection imported already (in chunks the drivers take)."""
        found: set[str] = set()
        unique = list(dict.fromkeys(external_ids))
        for start in range(0, len(unique), 500):
            found.update(
                self.connection.execute(
                    sa.select(links.c.external_id).where(
                        links.c.connection_id == connection_id,
                        links.c.external_id.in_(unique[start : start + 500]),
                    )
                ).scalars()
            )
        return found

    def link(
        self,
        connection_id: int,
        external_id: str,
        order_id: int,
        *,
        basket: str | None,
        warehouse: str,
        state: str,
        status: str,
        items: Sequence[Mapping[str, Any]],
        at: datetime,
    ) -> None:
        row = {
            "connection_id": connection_id,
            "external_id": external_id,
            "order_id": order_id,
            "basket": basket,
            "warehouse": warehouse[:64],
            "state": state,
            "status": status[:100],
            "closed": False,
            "items": [dict(i) for i in items],
            "imported_at": at,
            "updated_at": at,
        }
        if self.staged is not None:  # the order itself is staged: the link goes after it
            self.staged.append((links, [row]))
        else:
            self.connection.execute(sa.insert(links).values(row))

    def pushed(
        self,
        connection_id: int,
        external_ids: Sequence[str],
        step: str,
        at: datetime,
        *,
        supply: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"pushed": step, "updated_at": at}
        if supply is not None:
            values["supply"] = supply
        self.connection.execute(
            sa.update(links)
            .where(links.c.connection_id == connection_id, links.c.external_id.in_(external_ids))
            .values(values)
        )

    def without_sticker(self, connection_id: int, limit: int) -> Sequence[str]:
        kept = marketplace_stickers.c
        return list(
            self.connection.execute(
                sa.select(links.c.external_id)
                .outerjoin(
                    marketplace_stickers,
                    sa.and_(
                        kept.connection_id == links.c.connection_id,
                        kept.external_id == links.c.external_id,
                    ),
                )
                .where(
                    links.c.connection_id == connection_id,
                    sa.not_(links.c.closed),
                    links.c.pushed.in_(("packed", "shipped")),
                    kept.external_id.is_(None),
                )
                .order_by(links.c.id)
                .limit(limit)
            ).scalars()
        )

    def keep_stickers(self, connection_id: int, stickers: Sequence[Sticker], at: datetime) -> None:
        ids = [s.external_id for s in stickers]
        if not ids:
            return
        order_of = {
            row.external_id: row.order_id
            for row in self.connection.execute(
                sa.select(links.c.external_id, links.c.order_id).where(
                    links.c.connection_id == connection_id, links.c.external_id.in_(ids)
                )
            )
        }
        rows = [
            {
                "connection_id": connection_id,
                "external_id": s.external_id,
                "order_id": order_of[s.external_id],
                "media_type": s.media_type,
                "part_a": s.part_a,
                "part_b": s.part_b,
                "barcode": s.barcode,
                "file": s.file,
                "fetched_at": at,
            }
            for s in {s.external_id: s for s in stickers}.values()
            if s.external_id in order_of
        ]
        if not rows:
            return
        dialect: Any = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(marketplace_stickers).on_conflict_do_nothing(
            index_elements=["connection_id", "external_id"]
        )  # another poll kept it meanwhile: the first one stays
        self.connection.execute(statement, rows)

    def sticker_of_order(self, order_id: int) -> Sticker | None:
        kept = marketplace_stickers.c
        row = self.connection.execute(
            sa.select(
                kept.external_id, kept.media_type, kept.file, kept.part_a, kept.part_b, kept.barcode
            )
            .where(kept.order_id == order_id)
            .order_by(kept.fetched_at.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return Sticker(
            row.external_id,
            row.media_type,
            bytes(row.file),
            part_a=row.part_a,
            part_b=row.part_b,
            barcode=row.barcode,
        )

    def open_supply(self, connection_id: int) -> str | None:
        return self.connection.execute(
            sa.select(links.c.supply)
            .where(
                links.c.connection_id == connection_id,
                links.c.supply.is_not(None),
                links.c.pushed == "packed",
            )
            .order_by(links.c.id.desc())
            .limit(1)
        ).scalar()

    def in_supply(self, connection_id: int, supply: str) -> Sequence[LinkedOrder]:
        rows = self.connection.execute(
            sa.select(links).where(
                links.c.connection_id == connection_id,
                links.c.supply == supply,
                links.c.pushed == "packed",
            )
        )
        return [_link(r) for r in rows]

    def progress(self, connection_id: int, limit: int) -> Sequence[OrderProgress]:
        """Open links not yet told shipped or cancelled, with their order's state and how
        many of its shipments are packed and handed over - one query, whatever their number."""
        live = shipments.c.status != "cancelled"
        counts = (
            sa.select(
                shipments.c.order_id,
                sa.func.count().filter(live).label("total"),
                sa.func.count().filter(shipments.c.status.in_(_PACKED)).label("packed"),
                sa.func.count().filter(shipments.c.status.in_(_LEFT)).label("left"),
            )
            .group_by(shipments.c.order_id)
            .subquery()
        )
        rows = self.connection.execute(
            sa.select(
                links,
                orders.c.state.label("order_state"),
                counts.c.total,
                counts.c.packed,
                counts.c.left,
            )
            .join(orders, orders.c.id == links.c.order_id)
            .outerjoin(counts, counts.c.order_id == links.c.order_id)
            .where(
                links.c.connection_id == connection_id,
                sa.not_(links.c.closed),
                sa.or_(links.c.pushed.is_(None), links.c.pushed.not_in(("shipped", "cancelled"))),
            )
            .order_by(links.c.id)
            .limit(limit)
        )
        return [
            OrderProgress(
                _link(r),
                cancelled=r.order_state == "cancelled",
                shipments=r.total or 0,
                packed=r.packed or 0,
                left=r.left or 0,
            )
            for r in rows
        ]

    def open_links(self, connection_id: int, limit: int) -> Sequence[LinkedOrder]:
        rows = self.connection.execute(
            sa.select(links)
            .where(links.c.connection_id == connection_id, sa.not_(links.c.closed))
            .order_by(links.c.id)
            .limit(limit)
        )
        return [_link(r) for r in rows]

    def follow(
        self,
        connection_id: int,
        external_id: str,
        *,
        state: str,
        status: str,
        closed: bool,
        at: datetime,
    ) -> None:
        self.connection.execute(
            sa.update(links)
            .where(links.c.connection_id == connection_id, links.c.external_id == external_id)
            .values(state=state, status=status[:100], closed=closed, updated_at=at)
        )

    # ------------------------------------------------------------------ returns

    def linked_return(self, connection_id: int, external_id: str) -> LinkedReturn | None:
        row = self.connection.execute(
            sa.select(_r, returns.c.number)
            .join(returns, returns.c.id == _r.c.return_id)
            .where(_r.c.connection_id == connection_id, _r.c.external_id == external_id)
        ).first()
        if row is None:
            return None
        return LinkedReturn(
            external_id=row.external_id,
            order_external_id=row.order_external_id,
            campaign=row.campaign,
            return_number=row.number,
            kind=row.kind,
            status=row.status,
        )

    def link_return(
        self, connection_id: int, link: LinkedReturn, return_id: int, at: datetime
    ) -> None:
        self.connection.execute(
            sa.insert(_r).values(
                connection_id=connection_id,
                external_id=link.external_id[:64],
                order_external_id=link.order_external_id[:128],
                campaign=link.campaign[:64],
                return_id=return_id,
                kind=link.kind[:20],
                status=link.status[:100],
                created_at=at,
                updated_at=at,
            )
        )

    def follow_return(
        self, connection_id: int, external_id: str, status: str, at: datetime
    ) -> None:
        self.connection.execute(
            sa.update(_r)
            .where(_r.c.connection_id == connection_id, _r.c.external_id == external_id)
            .values(status=status[:100], updated_at=at)
        )

    # ------------------------------------------------------------------ journal

    def keep_aside(
        self,
        connection_id: int,
        external_id: str,
        kind: JournalKind,
        detail: str,
        payload: Mapping[str, Any],
        at: datetime,
    ) -> None:
        where = (_j.c.connection_id == connection_id, _j.c.external_id == external_id)
        updated = self.connection.execute(
            sa.update(_j)
            .where(*where)
            .values(
                kind=kind.value,
                detail=detail[:2000],
                payload=dict(payload),
                last_seen_at=at,
                times_seen=_j.c.times_seen + 1,
                resolved_at=None,
            )
        )
        if updated.rowcount == 0:
            self.connection.execute(
                sa.insert(_j).values(
                    connection_id=connection_id,
                    external_id=external_id,
                    kind=kind.value,
                    detail=detail[:2000],
                    payload=dict(payload),
                    first_seen_at=at,
                    last_seen_at=at,
                )
            )

    def resolve(self, connection_id: int, external_id: str, at: datetime) -> None:
        self.connection.execute(
            sa.update(_j)
            .where(
                _j.c.connection_id == connection_id,
                _j.c.external_id == external_id,
                _j.c.resolved_at.is_(None),
            )
            .values(resolved_at=at)
        )

    def journal(
        self, connection_id: int, *, open_only: bool = True, limit: int = 100
    ) -> Sequence[JournalEntry]:
        query = (
            sa.select(_j, _c.c.code)
            .select_from(_j.join(_c, _c.c.id == _j.c.connection_id))
            .where(_j.c.connection_id == connection_id)
            .order_by(_j.c.id)
            .limit(limit)
        )
        if open_only:
            query = query.where(_j.c.resolved_at.is_(None))
        return [
            JournalEntry(
                id=r.id,
                connection_code=r.code,
                external_id=r.external_id,
                kind=JournalKind(r.kind),
                detail=r.detail,
                first_seen_at=r.first_seen_at,
                last_seen_at=r.last_seen_at,
                times_seen=r.times_seen,
                resolved_at=r.resolved_at,
            )
            for r in self.connection.execute(query)
        ]
