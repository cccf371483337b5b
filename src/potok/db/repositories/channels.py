"""Channels in and out of the ``channels`` table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.integrity import still_held
from potok.db.reference_versions import bump_network
from potok.db.tables import channels, orders, warehouse_channels
from potok.domain.channels import (
    BackorderPolicy,
    Channel,
    ChannelDraft,
    ChannelType,
    ConfirmationPolicy,
)
from potok.domain.kernel import ChannelId
from potok.domain.orders import PaymentMethod


def _channel(row: Any) -> Channel:
    return Channel(
        id=ChannelId(row.id),
        code=row.code,
        name=row.name,
        type=ChannelType(row.type),
        currency=row.currency,
        confirmation=ConfirmationPolicy(row.confirmation),
        backorders=BackorderPolicy(row.backorders),
        safety_buffer=row.safety_buffer,
        payment_deadline_minutes=row.payment_deadline_minutes,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        min_shelf_life_days=row.min_shelf_life_days,
        payment_methods=tuple(PaymentMethod(m) for m in row.payment_methods.split(",") if m),
    )


_BY_CODE = sa.select(channels).where(channels.c.code == sa.bindparam("code"))


class ChannelRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def get_by_code(self, code: str) -> Channel | None:
        row = self.connection.execute(_BY_CODE, {"code": code}).first()
        return _channel(row) if row else None

    def get(self, channel_id: ChannelId) -> Channel | None:
        row = self.connection.execute(
            sa.select(channels).where(channels.c.id == channel_id)
        ).first()
        return _channel(row) if row else None

    def list(self) -> Sequence[Channel]:
        return [
            _channel(row)
            for row in self.connection.execute(sa.select(channels).order_by(channels.c.code))
        ]

    def ids_for(self, codes: Sequence[str]) -> dict[str, ChannelId]:
        if not codes:
            return {}
        rows = self.connection.execute(
            sa.select(channels.c.code, channels.c.id).where(channels.c.code.in_(set(codes)))
        )
        return {row.code: ChannelId(row.id) for row in rows}

    def add(self, draft: ChannelDraft, at: datetime) -> Channel:
        bump_network(self.connection)
        row = self.connection.execute(
            sa.insert(channels)
            .values(**_values(draft), created_at=at, updated_at=at)
            .returning(channels)
        ).one()
        return _channel(row)

    def replace(self, channel_id: ChannelId, draft: ChannelDraft, at: datetime) -> Channel:
        bump_network(self.connection)
        row = self.connection.execute(
            sa.update(channels)
            .where(channels.c.id == channel_id)
            .values(**_values(draft), updated_at=at)
            .returning(channels)
        ).one()
        return _channel(row)

    def delete(self, channel_id: ChannelId) -> None:
        bump_network(self.connection)
        self.connection.execute(
            sa.delete(warehouse_channels).where(warehouse_channels.c.channel_id == channel_id)
        )
        self.connection.execute(sa.delete(channels).where(channels.c.id == channel_id))

    def usage(self, channel_id: ChannelId) -> str | None:
        if self.connection.execute(
            sa.select(orders.c.id).where(orders.c.channel_id == channel_id).limit(1)
        ).first():
            return "has orders"
        return still_held(self.connection, "channels", channel_id)


def _values(draft: ChannelDraft) -> dict[str, Any]:
    return {
        "code": draft.code,
        "name": draft.name,
        "type": draft.type.value,
        "currency": draft.currency,
        "confirmation": draft.confirmation.value,
        "backorders": draft.backorders.value,
        "safety_buffer": draft.safety_buffer,
        "payment_deadline_minutes": draft.payment_deadline_minutes,
        "active": draft.active,
        "min_shelf_life_days": draft.min_shelf_life_days,
        "payment_methods": ",".join(m.value for m in draft.payment_methods),
    }
