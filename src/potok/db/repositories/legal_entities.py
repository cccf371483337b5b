"""Legal entities with their bank accounts and signatories (kept as JSON on the row), the
channels a seller serves, and the buyer of a B2B order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import channels, legal_entities, legal_entity_channels, order_buyers
from potok.domain.documents import (
    BankAccount,
    EntityKind,
    EntityRole,
    LegalEntity,
    LegalEntityDraft,
    PersonName,
    Signatory,
    SignatoryRole,
)
from potok.domain.events import plain
from potok.services.document_ports import LegalEntityPage


def _values(draft: LegalEntityDraft) -> dict[str, Any]:
    return {
        "code": draft.code,
        "role": draft.role.value,
        "kind": draft.kind.value,
        "name": draft.name,
        "short_name": draft.short_name,
        "inn": draft.inn,
        "kpp": draft.kpp,
        "ogrn": draft.ogrn,
        "okpo": draft.okpo,
        "address": draft.address,
        "postal_address": draft.postal_address,
        "phone": draft.phone,
        "email": draft.email,
        "bank_accounts": plain(list(draft.bank_accounts)),
        "signatories": plain(list(draft.signatories)),
        "vat_payer": draft.vat_payer,
        "edo_id": draft.edo_id,
        "time_zone": draft.time_zone,
        "is_default": draft.is_default,
        "active": draft.active,
    }


def _entity(row: sa.Row[Any], channel_codes: Sequence[str]) -> LegalEntity:
    return LegalEntity(
        id=row.id,
        code=row.code,
        role=EntityRole(row.role),
        kind=EntityKind(row.kind),
        name=row.name,
        short_name=row.short_name,
        inn=row.inn,
        kpp=row.kpp,
        ogrn=row.ogrn,
        okpo=row.okpo,
        address=row.address,
        postal_address=row.postal_address,
        phone=row.phone,
        email=row.email,
        bank_accounts=tuple(BankAccount(**item) for item in row.bank_accounts),
        signatories=tuple(
            Signatory(
                role=SignatoryRole(item["role"]),
                name=PersonName(**item["name"]),
                position=item["position"],
                basis=item.get("basis", ""),
            )
            for item in row.signatories
        ),
        vat_payer=row.vat_payer,
        edo_id=row.edo_id,
        time_zone=row.time_zone,
        channels=tuple(sorted(channel_codes)),
        is_default=row.is_default,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class LegalEntityRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _channels_of(self, entity_ids: Sequence[int]) -> dict[int, list[str]]:
        if not entity_ids:
            return {}
        rows = self.connection.execute(
            sa.select(legal_entity_channels.c.legal_entity_id, channels.c.code)
            .join(channels, channels.c.id == legal_entity_channels.c.channel_id)
            .where(legal_entity_channels.c.legal_entity_id.in_(entity_ids))
        )
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row.legal_entity_id, []).append(row.code)
        return found

    def _one(self, condition: sa.ColumnElement[bool]) -> LegalEntity | None:
        row = self.connection.execute(sa.select(legal_entities).where(condition)).first()
        if row is None:
            return None
        return _entity(row, self._channels_of([row.id]).get(row.id, []))

    def get(self, code: str) -> LegalEntity | None:
        return self._one(legal_entities.c.code == code)

    def get_by_id(self, entity_id: int) -> LegalEntity | None:
        return self._one(legal_entities.c.id == entity_id)

    def find_by_tax_ids(self, role: EntityRole, inn: str, kpp: str | None) -> LegalEntity | None:
        kpp_matches = legal_entities.c.kpp.is_(None) if kpp is None else legal_entities.c.kpp == kpp
        return self._one(
            sa.and_(legal_entities.c.role == role.value, legal_entities.c.inn == inn, kpp_matches)
        )

    def add(self, draft: LegalEntityDraft, at: datetime) -> LegalEntity:
        entity_id = self.connection.execute(
            sa.insert(legal_entities)
            .values(**_values(draft), created_at=at, updated_at=at)
            .returning(legal_entities.c.id)
        ).scalar_one()
        self._bind_channels(entity_id, draft.channels)
        found = self.get_by_id(entity_id)
        assert found is not None
        return found

    def replace(self, entity_id: int, draft: LegalEntityDraft, at: datetime) -> LegalEntity:
        self.connection.execute(
            sa.update(legal_entities)
            .where(legal_entities.c.id == entity_id)
            .values(**_values(draft), updated_at=at)
        )
        self.connection.execute(
            sa.delete(legal_entity_channels).where(
                legal_entity_channels.c.legal_entity_id == entity_id
            )
        )
        self._bind_channels(entity_id, draft.channels)
        found = self.get_by_id(entity_id)
        assert found is not None
        return found

    def _bind_channels(self, entity_id: int, codes: Sequence[str]) -> None:
        ids = self.channel_ids(codes)
        if ids:
            self.connection.execute(
                sa.insert(legal_entity_channels),
                [{"channel_id": ids[code], "legal_entity_id": entity_id} for code in sorted(ids)],
            )

    def list(self, *, role: EntityRole | None, cursor: str | None, limit: int) -> LegalEntityPage:
        query = sa.select(legal_entities).order_by(legal_entities.c.id).limit(limit + 1)
        if role is not None:
            query = query.where(legal_entities.c.role == role.value)
        if cursor:
            (after,) = decode_int_cursor(cursor, 1)
            query = query.where(legal_entities.c.id > after)
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        bound = self._channels_of([row.id for row in rows])
        items = [_entity(row, bound.get(row.id, [])) for row in rows]
        return LegalEntityPage(items, encode_cursor(rows[-1].id) if more and rows else None)

    def channel_ids(self, codes: Sequence[str]) -> dict[str, int]:
        if not codes:
            return {}
        rows = self.connection.execute(
            sa.select(channels.c.code, channels.c.id).where(channels.c.code.in_(list(codes)))
        )
        return {row.code: row.id for row in rows}

    def sellers_of_channels(self, codes: Sequence[str]) -> dict[str, str]:
        """Which seller serves each of these channels now (channel code to entity code)."""
        if not codes:
            return {}
        rows = self.connection.execute(
            sa.select(channels.c.code.label("channel"), legal_entities.c.code.label("seller"))
            .join(legal_entity_channels, legal_entity_channels.c.channel_id == channels.c.id)
            .join(legal_entities, legal_entities.c.id == legal_entity_channels.c.legal_entity_id)
            .where(channels.c.code.in_(list(codes)))
        )
        return {row.channel: row.seller for row in rows}

    def default_seller(self) -> LegalEntity | None:
        return self._one(legal_entities.c.is_default.is_(True))

    def seller_for_channel(self, channel_code: str) -> LegalEntity | None:
        """The seller bound to the channel; else the default seller; else none."""
        entity_id = self.connection.execute(
            sa.select(legal_entity_channels.c.legal_entity_id)
            .join(channels, channels.c.id == legal_entity_channels.c.channel_id)
            .where(channels.c.code == channel_code)
        ).scalar_one_or_none()
        if entity_id is not None:
            return self.get_by_id(entity_id)
        return self.default_seller()

    def buyer_of(self, order_id: int) -> LegalEntity | None:
        entity_id = self.connection.execute(
            sa.select(order_buyers.c.legal_entity_id).where(order_buyers.c.order_id == order_id)
        ).scalar_one_or_none()
        return None if entity_id is None else self.get_by_id(entity_id)

    def set_buyer(self, order_id: int, entity_id: int | None) -> None:
        self.connection.execute(sa.delete(order_buyers).where(order_buyers.c.order_id == order_id))
        if entity_id is not None:
            self.connection.execute(
                sa.insert(order_buyers).values(order_id=order_id, legal_entity_id=entity_id)
            )
