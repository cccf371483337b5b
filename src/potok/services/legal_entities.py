"""Legal entities: register, replace and read sellers and B2B buyers."""

from __future__ import annotations

from collections.abc import Callable

from potok.domain.documents import (
    ChannelHasSeller,
    EntityRole,
    LegalEntity,
    LegalEntityDraft,
    LegalEntityExists,
    LegalEntityNotFound,
)
from potok.domain.documents.events import LegalEntityChanged, LegalEntityCreated
from potok.domain.errors import Conflict, FieldError, InvalidInput
from potok.domain.events import plain
from potok.domain.kernel import Clock, utc_now
from potok.services.document_ports import LegalEntityPage
from potok.services.idempotent import Answer, Idempotency, once
from potok.services.unit_of_work import UnitOfWork, atomically, reading

CREATE_SCOPE = "legal_entities.create"


class DefaultSellerExists(Conflict):
    code = "default-seller-exists"
    title = "Another seller is the default"
    template = "Seller '{seller}' is the default; take the default off it first."


def _check_references(uow: UnitOfWork, draft: LegalEntityDraft, own_id: int | None) -> None:
    """Unknown channels, a channel served by another seller, a second default: refused."""
    known = uow.legal_entities.channel_ids(draft.channels)
    unknown = [code for code in draft.channels if code not in known]
    if unknown:
        raise InvalidInput(
            [
                FieldError("channels", f"there is no channel '{code}'", "unknown-channel")
                for code in unknown
            ]
        )
    own_code = draft.code
    for channel, seller in uow.legal_entities.sellers_of_channels(draft.channels).items():
        if seller != own_code:
            raise ChannelHasSeller(channel=channel, seller=seller)
    if draft.is_default:
        current = uow.legal_entities.default_seller()
        if current is not None and current.id != own_id:
            raise DefaultSellerExists(seller=current.code)
    if draft.inn is not None:
        twin = uow.legal_entities.find_by_tax_ids(draft.role, draft.inn, draft.kpp)
        if twin is not None and twin.id != own_id:
            what = f"ИНН {draft.inn}" + (f" with КПП {draft.kpp}" if draft.kpp else "")
            raise LegalEntityExists(what=what, existing=twin.code)


def create_legal_entity(
    uow: UnitOfWork, draft: LegalEntityDraft, *, clock: Clock = utc_now
) -> LegalEntity:
    """Register a seller or a buyer; every requisite is checked before anything is stored."""
    draft.validate()
    return atomically(uow, _creating(draft, clock))


def create_legal_entity_once(
    uow: UnitOfWork,
    draft: LegalEntityDraft,
    *,
    idempotency: Idempotency | None,
    respond: Callable[[LegalEntity], Answer],
    clock: Clock = utc_now,
) -> Answer:
    """:func:`create_legal_entity` whose answer a repeat with the same key gets again."""
    draft.validate()
    work = _creating(draft, clock)
    return atomically(uow, lambda uow: once(uow, CREATE_SCOPE, idempotency, work, respond))


def _creating(draft: LegalEntityDraft, clock: Clock) -> Callable[[UnitOfWork], LegalEntity]:
    def work(uow: UnitOfWork) -> LegalEntity:
        existing = uow.legal_entities.get(draft.code)
        if existing is not None:
            raise LegalEntityExists(what=f"Code '{draft.code}'", existing=existing.code)
        _check_references(uow, draft, None)
        entity = uow.legal_entities.add(draft, clock())
        uow.record(
            LegalEntityCreated(
                occurred_at=entity.created_at,
                code=entity.code,
                role=entity.role.value,
                after=plain(entity),
            )
        )
        return entity

    return work


def replace_legal_entity(
    uow: UnitOfWork, code: str, draft: LegalEntityDraft, *, clock: Clock = utc_now
) -> LegalEntity:
    """Replace an entity's requisites; its code and role stay. Issued documents keep the
    requisites they were issued with."""
    draft.validate()
    problems = []
    if draft.code != code:
        problems.append(FieldError("code", f"must stay '{code}'", "code-immutable"))

    def work(uow: UnitOfWork) -> LegalEntity:
        before = uow.legal_entities.get(code)
        if before is None:
            raise LegalEntityNotFound(code=code)
        if draft.role is not before.role:
            problems.append(
                FieldError("role", f"must stay '{before.role.value}'", "role-immutable")
            )
        if problems:
            raise InvalidInput(problems)
        _check_references(uow, draft, before.id)
        after = uow.legal_entities.replace(before.id, draft, clock())
        uow.record(
            LegalEntityChanged(
                occurred_at=after.updated_at, code=code, before=plain(before), after=plain(after)
            )
        )
        return after

    return atomically(uow, work)


def get_legal_entity(uow: UnitOfWork, code: str) -> LegalEntity:
    def work(uow: UnitOfWork) -> LegalEntity:
        entity = uow.legal_entities.get(code)
        if entity is None:
            raise LegalEntityNotFound(code=code)
        return entity

    return reading(uow, work)


def list_legal_entities(
    uow: UnitOfWork, *, role: EntityRole | None = None, cursor: str | None = None, limit: int = 50
) -> LegalEntityPage:
    return reading(uow, lambda uow: uow.legal_entities.list(role=role, cursor=cursor, limit=limit))
