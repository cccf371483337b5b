"""Fiscal receipts: stored whole (lines as JSON), taken by the worker with a conditional
update so that two workers never send the same receipt at once."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import fiscal_receipts, outbox_events
from potok.domain.fiscal import (
    Company,
    FiscalAttributes,
    Operation,
    PaymentType,
    Receipt,
    ReceiptKind,
    ReceiptLine,
    ReceiptState,
    Taxation,
)
from potok.services.fiscal_ports import ReceiptFilter, ReceiptPage

T = fiscal_receipts.c


class FiscalRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(self, receipt: Receipt) -> Receipt:
        values = _values(receipt)
        values["created_at"] = receipt.created_at
        new_id = self.connection.execute(_INSERT, values).scalar_one()
        receipt.id = int(new_id)
        return receipt

    def has_basis(self, basis: str) -> bool:
        found = self.connection.execute(sa.select(T.id).where(T.basis == basis)).first()
        return found is not None

    def get(self, receipt_id: int, *, lock: bool = False) -> Receipt | None:
        query = sa.select(fiscal_receipts).where(T.id == receipt_id)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return None if row is None else _receipt(row)

    def get_by_uuid(self, uuid: str) -> Receipt | None:
        row = self.connection.execute(
            sa.select(fiscal_receipts).where(T.provider_uuid == uuid)
        ).first()
        return None if row is None else _receipt(row)

    def of_order(self, order_id: int) -> list[Receipt]:
        rows = self.connection.execute(
            sa.select(fiscal_receipts).where(T.order_id == order_id).order_by(T.id)
        )
        return [_receipt(row) for row in rows]

    def handed_over_after(self, shipment_ids: Sequence[int], position: int) -> set[int]:
        if not shipment_ids:
            return set()
        e = outbox_events.c
        rows = self.connection.execute(
            sa.select(e.aggregate_id, e.position).where(
                e.aggregate_type == "shipment",
                e.aggregate_id.in_([str(i) for i in shipment_ids]),
                e.type == "shipment.handed_over",
            )
        )
        # a hand-over whose event was pruned long ago came before anything read now
        return {int(r.aggregate_id) for r in rows if r.position is None or r.position > position}

    def page(self, where: ReceiptFilter, cursor: str | None, limit: int) -> ReceiptPage:
        query = sa.select(fiscal_receipts).order_by(T.id.desc()).limit(limit + 1)
        if where.state:
            query = query.where(T.state == where.state)
        if where.kind:
            query = query.where(T.kind == where.kind)
        if where.order_id is not None:
            query = query.where(T.order_id == where.order_id)
        if where.channel:
            query = query.where(T.channel == where.channel)
        if where.account:
            query = query.where(T.account == where.account)
        if where.created_from is not None:
            query = query.where(T.created_at >= where.created_from)
        if where.created_to is not None:
            query = query.where(T.created_at < where.created_to)
        if cursor:
            (last,) = decode_int_cursor(cursor, 1)
            query = query.where(T.id < last)
        rows = list(self.connection.execute(query))
        items = [_receipt(row) for row in rows[:limit]]
        more = len(rows) > limit and items and items[-1].id is not None
        return ReceiptPage(items, encode_cursor(items[-1].id) if more else None)

    def due(
        self, states: Sequence[ReceiptState], now: datetime | None, limit: int
    ) -> list[Receipt]:
        query = sa.select(fiscal_receipts).where(T.state.in_([s.value for s in states]))
        if now is not None:
            query = query.where(sa.or_(T.next_attempt_at.is_(None), T.next_attempt_at <= now))
        rows = self.connection.execute(query.order_by(T.id).limit(limit))
        return [_receipt(row) for row in rows]

    def claim_many(self, receipts: Sequence[Receipt], until: datetime, now: datetime) -> set[int]:
        if not receipts:
            return set()
        still_due = (
            T.state.in_(sorted({r.state.value for r in receipts})),
            sa.or_(T.next_attempt_at.is_(None), T.next_attempt_at <= now),
        )
        # locked in one order, skipping those another worker is taking right now
        # (PostgreSQL; SQLite writes one at a time), then taken if still due
        locked = (
            sa.select(T.id)
            .where(T.id.in_([r.id for r in receipts]), *still_due)
            .order_by(T.id)
            .with_for_update(skip_locked=True)
        )
        ids = [int(row[0]) for row in self.connection.execute(locked)]
        taken: set[int] = set()
        if ids:
            taken = {
                int(row[0])
                for row in self.connection.execute(
                    sa.update(fiscal_receipts)
                    .where(T.id.in_(ids), *still_due)
                    .values(attempts=T.attempts + 1, next_attempt_at=until, updated_at=now)
                    .returning(T.id)
                )
            }
        for receipt in receipts:
            if receipt.id in taken:
                receipt.attempts += 1
                receipt.next_attempt_at = until
        return taken

    def release(self, receipt_ids: Sequence[int], now: datetime) -> None:
        if not receipt_ids:
            return
        self.connection.execute(
            sa.update(fiscal_receipts)
            .where(T.id.in_(list(receipt_ids)))
            .values(attempts=T.attempts - 1, next_attempt_at=None, updated_at=now)
        )

    def save(self, receipt: Receipt) -> None:
        self.connection.execute(
            sa.update(fiscal_receipts).where(T.id == receipt.id).values(**_values(receipt))
        )

    def save_moved(self, receipt: Receipt, was: Collection[ReceiptState]) -> bool:
        values = {k: v for k, v in _values(receipt).items() if k in _MOVING}
        moved = self.connection.execute(
            _MOVE,
            {**values, "b_id": receipt.id, "b_was": sorted(s.value for s in was)},
        ).rowcount
        return bool(moved)

    def retry_at(self, receipt_id: int, at: datetime, error: str, now: datetime) -> None:
        self.connection.execute(
            sa.update(fiscal_receipts)
            .where(T.id == receipt_id)
            .values(next_attempt_at=at, reason=error[:500], updated_at=now)
        )

    def counts(self) -> dict[str, int]:
        rows = self.connection.execute(
            sa.select(T.state, sa.func.count()).group_by(T.state).order_by(T.state)
        )
        return {row[0]: int(row[1]) for row in rows}


_INSERT = sa.insert(fiscal_receipts).returning(T.id)

_MOVING = (
    "state",
    "reason",
    "error_code",
    "provider_uuid",
    "attempts",
    "next_attempt_at",
    "sent_at",
    "fn_number",
    "fiscal_document_number",
    "fiscal_document_attribute",
    "fiscal_receipt_number",
    "shift_number",
    "registered_at",
    "register_number",
    "ofd_receipt_url",
    "updated_at",
)
"""The columns a receipt's step at the provider changes (its lines, seller and basis stay)."""

_MOVE = (
    sa.update(fiscal_receipts)
    .where(T.id == sa.bindparam("b_id"), T.state.in_(sa.bindparam("b_was", expanding=True)))
    .values({name: sa.bindparam(name) for name in _MOVING})
)


def _values(r: Receipt) -> dict[str, Any]:
    company, attrs = r.company, r.attributes
    return {
        "order_id": r.order_id,
        "kind": r.kind.value,
        "operation": r.operation.value,
        "basis": r.basis,
        "state": r.state.value,
        "channel": r.channel,
        "currency": r.currency,
        "payment_type": r.payment_type.value,
        "total": r.total,
        "vat_total": r.vat_total,
        "lines": [line.to_data() for line in r.lines],
        "legal_entity": company.legal_entity if company else None,
        "account": company.account if company else None,
        "company_inn": company.inn if company else None,
        "taxation": company.taxation.value if company else None,
        "payment_address": company.payment_address if company else None,
        "company_email": company.email if company else None,
        "reason": r.reason,
        "error_code": r.error_code,
        "provider_uuid": r.provider_uuid,
        "resends": r.resends,
        "attempts": r.attempts,
        "next_attempt_at": r.next_attempt_at,
        "sent_at": r.sent_at,
        "fn_number": attrs.fn_number if attrs else None,
        "fiscal_document_number": attrs.fiscal_document_number if attrs else None,
        "fiscal_document_attribute": attrs.fiscal_document_attribute if attrs else None,
        "fiscal_receipt_number": attrs.fiscal_receipt_number if attrs else None,
        "shift_number": attrs.shift_number if attrs else None,
        "registered_at": attrs.registered_at if attrs else None,
        "register_number": attrs.register_number if attrs else None,
        "ofd_receipt_url": attrs.ofd_receipt_url if attrs else None,
        "corrects_id": r.corrects_id,
        "correction_type": r.correction_type,
        "correction_basis_on": r.correction_basis_on,
        "correction_basis_number": r.correction_basis_number,
        "shipment_id": r.shipment_id,
        "return_number": r.return_number,
        "updated_at": r.updated_at,
    }


def _receipt(row: Any) -> Receipt:
    company = None
    if row.legal_entity is not None:
        company = Company(
            legal_entity=row.legal_entity,
            account=row.account,
            inn=row.company_inn,
            taxation=Taxation(row.taxation),
            payment_address=row.payment_address,
            email=row.company_email,
        )
    attributes = None
    if row.fn_number is not None:
        attributes = FiscalAttributes(
            fn_number=row.fn_number,
            fiscal_document_number=int(row.fiscal_document_number),
            fiscal_document_attribute=int(row.fiscal_document_attribute),
            fiscal_receipt_number=int(row.fiscal_receipt_number or 0),
            shift_number=int(row.shift_number or 0),
            registered_at=row.registered_at,
            register_number=row.register_number or "",
            total=row.total,
            ofd_receipt_url=row.ofd_receipt_url,
        )
    return Receipt(
        id=row.id,
        order_id=row.order_id,
        kind=ReceiptKind(row.kind),
        operation=Operation(row.operation),
        basis=row.basis,
        state=ReceiptState(row.state),
        channel=row.channel,
        currency=row.currency,
        payment_type=PaymentType(row.payment_type),
        lines=tuple(ReceiptLine.from_data(line) for line in row.lines),
        created_at=row.created_at,
        updated_at=row.updated_at,
        company=company,
        reason=row.reason,
        error_code=row.error_code,
        provider_uuid=row.provider_uuid,
        resends=row.resends,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        attributes=attributes,
        corrects_id=row.corrects_id,
        correction_type=row.correction_type,
        correction_basis_on=row.correction_basis_on,
        correction_basis_number=row.correction_basis_number,
        shipment_id=row.shipment_id,
        return_number=row.return_number,
    )
