"""1C's exchange sessions, uploads, catalogue links and order exports, in and out of tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.tables import (
    channels,
    onec_groups,
    onec_items,
    onec_order_exports,
    onec_sessions,
    onec_uploads,
    orders,
)
from potok.services.onec_ports import ExchangeSession, ExportedOrder, GroupLink, ItemLink

_s = onec_sessions
_u = onec_uploads
_i = onec_items
_g = onec_groups
_x = onec_order_exports
CHUNK = 1000


class OnecRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------------ sessions

    def open_session(
        self, token_hash: str, key_id: int, kind: str, at: datetime, expires_at: datetime
    ) -> int:
        return int(
            self.connection.execute(
                _s.insert()
                .values(
                    token_hash=token_hash,
                    key_id=key_id,
                    kind=kind,
                    started_at=at,
                    expires_at=expires_at,
                )
                .returning(_s.c.id)
            ).scalar_one()
        )

    def session(self, token_hash: str, now: datetime) -> ExchangeSession | None:
        row = self.connection.execute(
            sa.select(_s).where(_s.c.token_hash == token_hash, _s.c.expires_at > now)
        ).first()
        if row is None:
            return None
        return ExchangeSession(row.id, row.key_id, row.kind, row.expires_at)

    def forget_expired(self, now: datetime) -> int:
        return self.connection.execute(_s.delete().where(_s.c.expires_at <= now)).rowcount

    # ------------------------------------------------------------------ uploads

    def clear_uploads(self, session_id: int) -> None:
        self.connection.execute(_u.delete().where(_u.c.session_id == session_id))

    def add_part(self, session_id: int, name: str, content: bytes, at: datetime) -> int:
        last = self.connection.execute(
            sa.select(sa.func.max(_u.c.part)).where(
                _u.c.session_id == session_id, _u.c.name == name
            )
        ).scalar()
        part = (last or 0) + 1
        self.connection.execute(
            _u.insert().values(
                session_id=session_id, name=name, part=part, content=content, received_at=at
            )
        )
        return part

    def uploaded(self, session_id: int, name: str) -> bytes | None:
        rows = self.connection.execute(
            sa.select(_u.c.content)
            .where(_u.c.session_id == session_id, _u.c.name == name)
            .order_by(_u.c.part)
        ).all()
        if not rows:
            return None
        return b"".join(bytes(row.content) for row in rows)

    def upload_names(self, session_id: int) -> list[str]:
        return list(
            self.connection.execute(
                sa.select(_u.c.name)
                .where(_u.c.session_id == session_id)
                .group_by(_u.c.name)
                .order_by(sa.func.min(_u.c.id))
            ).scalars()
        )

    # ------------------------------------------------------------------ catalogue links

    def items(self, onec_ids: Sequence[str]) -> dict[str, ItemLink]:
        found: dict[str, ItemLink] = {}
        ids = sorted(set(onec_ids))
        for start in range(0, len(ids), CHUNK):
            for row in self.connection.execute(
                sa.select(_i).where(_i.c.onec_id.in_(ids[start : start + CHUNK]))
            ):
                found[row.onec_id] = ItemLink(
                    row.onec_id,
                    row.sku,
                    row.unit,
                    tuple(row.groups or ()),
                    dict(row.properties or {}),
                )
        return found

    def save_items(self, links: Sequence[ItemLink], at: datetime) -> int:
        """Insert or update the links; how many changed."""
        before = self.items([link.onec_id for link in links])
        changed = 0
        for link in links:
            values: dict[str, Any] = {
                "sku": link.sku,
                "unit": link.unit,
                "groups": list(link.groups),
                "properties": dict(link.properties or {}),
                "updated_at": at,
            }
            old = before.get(link.onec_id)
            if old is None:
                self.connection.execute(_i.insert().values(onec_id=link.onec_id, **values))
            elif (old.sku, old.unit, old.groups, dict(old.properties or {})) != (
                link.sku,
                link.unit,
                link.groups,
                dict(link.properties or {}),
            ):
                self.connection.execute(
                    _i.update().where(_i.c.onec_id == link.onec_id).values(**values)
                )
            else:
                continue
            changed += 1
        return changed

    def save_groups(self, links: Sequence[GroupLink], at: datetime) -> int:
        ids = [link.onec_id for link in links]
        before: dict[str, Any] = {}
        for start in range(0, len(ids), CHUNK):
            for row in self.connection.execute(
                sa.select(_g).where(_g.c.onec_id.in_(ids[start : start + CHUNK]))
            ):
                before[row.onec_id] = row
        changed = 0
        for link in links:
            values: dict[str, Any] = {
                "kind": link.kind,
                "name": link.name,
                "parent": link.parent,
                "choices": dict(link.choices or {}),
                "updated_at": at,
            }
            old = before.get(link.onec_id)
            if old is None:
                self.connection.execute(_g.insert().values(onec_id=link.onec_id, **values))
            elif (old.kind, old.name, old.parent, dict(old.choices or {})) != (
                link.kind,
                link.name,
                link.parent,
                dict(link.choices or {}),
            ):
                self.connection.execute(
                    _g.update().where(_g.c.onec_id == link.onec_id).values(**values)
                )
            else:
                continue
            changed += 1
        return changed

    def groups(self, kind: str) -> list[GroupLink]:
        return [
            GroupLink(row.onec_id, row.kind, row.name, row.parent, dict(row.choices or {}))
            for row in self.connection.execute(
                sa.select(_g).where(_g.c.kind == kind).order_by(_g.c.id)
            )
        ]

    # ------------------------------------------------------------------ orders

    def to_send(self, limit: int, channel: str | None) -> list[int]:
        """Orders 1C has not taken in their current version, oldest first."""
        query = (
            sa.select(orders.c.id)
            .select_from(orders.outerjoin(_x, _x.c.order_id == orders.c.id))
            .where(
                sa.or_(_x.c.exported_version.is_(None), _x.c.exported_version < orders.c.version)
            )
            .order_by(orders.c.id)
            .limit(limit)
        )
        if channel is not None:
            query = query.join(channels, channels.c.id == orders.c.channel_id).where(
                channels.c.code == channel
            )
        return list(self.connection.execute(query).scalars())

    def mark_sent(self, sent: Mapping[int, int], session_id: int) -> None:
        if not sent:
            return
        ids = sorted(sent)
        known = set(
            self.connection.execute(
                sa.select(_x.c.order_id).where(_x.c.order_id.in_(ids))
            ).scalars()
        )
        for order_id in ids:
            values = {"sent_version": sent[order_id], "sent_session": session_id}
            if order_id in known:
                self.connection.execute(
                    _x.update().where(_x.c.order_id == order_id).values(**values)
                )
            else:
                self.connection.execute(_x.insert().values(order_id=order_id, **values))

    def confirm_sent(self, session_id: int, at: datetime) -> int:
        return self.connection.execute(
            _x.update()
            .where(_x.c.sent_session == session_id)
            .values(exported_version=_x.c.sent_version, exported_at=at, sent_session=None)
        ).rowcount

    def exported(self, order_id: int) -> ExportedOrder | None:
        row = self.connection.execute(sa.select(_x).where(_x.c.order_id == order_id)).first()
        if row is None:
            return None
        return ExportedOrder(row.order_id, row.sent_version, row.sent_session, row.exported_version)

    def mark_known(self, order_id: int, version: int, at: datetime) -> None:
        """1C already knows the order in this version (it made the change itself)."""
        values = {"exported_version": version, "exported_at": at}
        updated = self.connection.execute(
            _x.update().where(_x.c.order_id == order_id).values(**values)
        ).rowcount
        if not updated:
            self.connection.execute(_x.insert().values(order_id=order_id, **values))

    def item_ids_of(self, skus: Sequence[str]) -> dict[str, str]:
        """1C's Ид of each SKU that came from 1C."""
        found: dict[str, str] = {}
        wanted = sorted(set(skus))
        for start in range(0, len(wanted), CHUNK):
            rows = self.connection.execute(
                sa.select(_i.c.sku, _i.c.onec_id)
                .where(_i.c.sku.in_(wanted[start : start + CHUNK]))
                .order_by(_i.c.id)
            )
            for row in rows:
                found.setdefault(row.sku, row.onec_id)
        return found
