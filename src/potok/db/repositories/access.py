"""Users, sessions and API keys in and out of their tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db import key_changes
from potok.db.tables import api_keys, channels, sessions, user_warehouses, users, warehouses
from potok.domain.access import ApiKey, Permission, Role, User
from potok.domain.kernel import ChannelId, WarehouseId
from potok.services.ports import KeyRecord, SessionRecord, UserRecord


class UserRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _load(self, where: sa.ColumnElement[bool] | None = None) -> list[UserRecord]:
        query = sa.select(users).order_by(users.c.username)
        if where is not None:
            query = query.where(where)
        rows = list(self.connection.execute(query))
        if not rows:
            return []
        places: dict[int, list[tuple[int, str]]] = {}
        for link in self.connection.execute(
            sa.select(user_warehouses.c.user_id, warehouses.c.id, warehouses.c.code)
            .join(warehouses, warehouses.c.id == user_warehouses.c.warehouse_id)
            .where(user_warehouses.c.user_id.in_([r.id for r in rows]))
            .order_by(warehouses.c.code)
        ):
            places.setdefault(link.user_id, []).append((link.id, link.code))
        return [_user(row, places.get(row.id, [])) for row in rows]

    def get_by_username(self, username: str) -> UserRecord | None:
        found = self._load(users.c.username == username)
        return found[0] if found else None

    def get(self, user_id: int) -> UserRecord | None:
        found = self._load(users.c.id == user_id)
        return found[0] if found else None

    def list(self) -> Sequence[User]:
        return [record.user for record in self._load()]

    def count_active_admins(self) -> int:
        return int(
            self.connection.execute(
                sa.select(sa.func.count()).where(
                    users.c.role == Role.ADMIN.value, users.c.active.is_(True)
                )
            ).scalar_one()
        )

    def add(
        self,
        *,
        username: str,
        display_name: str,
        role: Role,
        password_hash: str,
        must_change_password: bool,
        warehouse_ids: Sequence[WarehouseId],
        at: datetime,
    ) -> UserRecord:
        user_id = self.connection.execute(
            sa.insert(users)
            .values(
                username=username,
                display_name=display_name,
                role=role.value,
                password_hash=password_hash,
                must_change_password=must_change_password,
                created_at=at,
                updated_at=at,
            )
            .returning(users.c.id)
        ).scalar_one()
        self.set_warehouses(user_id, warehouse_ids)
        found = self.get(user_id)
        assert found is not None
        return found

    def update(self, user_id: int, at: datetime, **values: Any) -> None:
        self.connection.execute(
            sa.update(users).where(users.c.id == user_id).values(**values, updated_at=at)
        )

    def set_warehouses(self, user_id: int, warehouse_ids: Sequence[WarehouseId]) -> None:
        self.connection.execute(
            sa.delete(user_warehouses).where(user_warehouses.c.user_id == user_id)
        )
        if warehouse_ids:
            self.connection.execute(
                sa.insert(user_warehouses),
                [{"user_id": user_id, "warehouse_id": w} for w in sorted(set(warehouse_ids))],
            )


class SessionRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(
        self,
        *,
        token_hash: str,
        user_id: int,
        csrf_hash: str,
        at: datetime,
        expires_at: datetime,
        ip: str | None,
        user_agent: str | None,
    ) -> None:
        self.connection.execute(
            sa.insert(sessions).values(
                token_hash=token_hash,
                user_id=user_id,
                csrf_hash=csrf_hash,
                created_at=at,
                expires_at=expires_at,
                ip=ip,
                user_agent=(user_agent or "")[:255] or None,
            )
        )

    def get(self, token_hash: str) -> SessionRecord | None:
        row = self.connection.execute(
            sa.select(sessions).where(sessions.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return SessionRecord(row.token_hash, row.user_id, row.csrf_hash, row.expires_at)

    def delete(self, token_hash: str) -> None:
        self.connection.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash))

    def delete_for_user(self, user_id: int) -> None:
        self.connection.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))

    def delete_expired(self, now: datetime) -> int:
        return self.connection.execute(
            sa.delete(sessions).where(sessions.c.expires_at <= now)
        ).rowcount


_KEY_BY_PREFIX = (
    sa.select(api_keys, channels.c.code.label("channel_code"))
    .outerjoin(channels, channels.c.id == api_keys.c.channel_id)
    .where(api_keys.c.prefix == sa.bindparam("prefix"))
)


class ApiKeyRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(
        self,
        *,
        name: str,
        prefix: str,
        secret_hash: str,
        scopes: Sequence[Permission],
        channel_id: ChannelId | None,
        rate_limit_per_minute: int,
        at: datetime,
        created_by: str,
    ) -> ApiKey:
        key_id = self.connection.execute(
            sa.insert(api_keys)
            .values(
                name=name,
                prefix=prefix,
                secret_hash=secret_hash,
                scopes=sorted(s.value for s in scopes),
                channel_id=channel_id,
                rate_limit_per_minute=rate_limit_per_minute,
                created_at=at,
                created_by=created_by,
            )
            .returning(api_keys.c.id)
        ).scalar_one()
        found = self.get(key_id)
        assert found is not None
        return found.key

    def get(self, key_id: int) -> KeyRecord | None:
        row = self.connection.execute(
            sa.select(api_keys, channels.c.code.label("channel_code"))
            .outerjoin(channels, channels.c.id == api_keys.c.channel_id)
            .where(api_keys.c.id == key_id)
        ).first()
        return _key(row) if row else None

    def get_by_prefix(self, prefix: str) -> KeyRecord | None:
        row = self.connection.execute(_KEY_BY_PREFIX, {"prefix": prefix}).first()
        return _key(row) if row else None

    def get_by_name(self, name: str) -> KeyRecord | None:
        row = self.connection.execute(
            sa.select(api_keys, channels.c.code.label("channel_code"))
            .outerjoin(channels, channels.c.id == api_keys.c.channel_id)
            .where(api_keys.c.name == name)
        ).first()
        return _key(row) if row else None

    def list(self) -> Sequence[ApiKey]:
        rows = self.connection.execute(
            sa.select(api_keys, channels.c.code.label("channel_code"))
            .outerjoin(channels, channels.c.id == api_keys.c.channel_id)
            .order_by(api_keys.c.name)
        )
        return [_key(row).key for row in rows]

    def revoke(self, key_id: int, at: datetime, by: str) -> None:
        """Revoke the key; every API process forgets it when this commits."""
        self.connection.execute(
            sa.update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_by=by)
        )
        key_changes.announce(self.connection, key_id)

    def touch(self, key_id: int, at: datetime) -> None:
        self.connection.execute(
            sa.update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at)
        )


def _user(row: Any, places: list[tuple[int, str]]) -> UserRecord:
    user = User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        active=row.active,
        warehouses=tuple(code for _, code in places),
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        must_change_password=row.must_change_password,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )
    return UserRecord(user, row.password_hash, frozenset(WarehouseId(i) for i, _ in places))


def _key(row: Any) -> KeyRecord:
    key = ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(Permission(s) for s in row.scopes),
        channel=row.channel_code,
        rate_limit_per_minute=row.rate_limit_per_minute,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
    channel_id = ChannelId(row.channel_id) if row.channel_id is not None else None
    return KeyRecord(key, row.secret_hash, channel_id)
