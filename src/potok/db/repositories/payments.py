"""Gateway accounts, gateway payments and their refunds, in and out of the tables.

The account's secret key is sealed like personal data (``pd1:...``) and opened only by
:meth:`PaymentRepository.key`, for the connector's one call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from potok.db.tables import (
    channels,
    fiscal_receipts,
    gateway_payments,
    gateway_refunds,
    order_history,
    orders,
    payment_accounts,
    returns,
)
from potok.domain.events import DomainEvent
from potok.domain.payments import GatewayPayment, GatewayRefund, GatewayStatus, RefundState
from potok.domain.payments.accounts import AccountDraft, AccountKey, PaymentAccount
from potok.domain.payments.reconciliation import GatewayFacts, OrderFacts, ReceiptFacts
from potok.security.data import DataProtector

_a = payment_accounts
_p = gateway_payments
_r = gateway_refunds

_ACCOUNTS = sa.select(_a, channels.c.code.label("channel_code")).select_from(
    _a.join(channels, channels.c.id == _a.c.channel_id)
)
_PAYMENTS = sa.select(_p, channels.c.code.label("channel_code")).select_from(
    _p.join(orders, orders.c.id == _p.c.order_id).join(
        channels, channels.c.id == orders.c.channel_id
    )
)


def _account(row: Any) -> PaymentAccount:
    return PaymentAccount(
        channel_id=row.channel_id,
        channel_code=row.channel_code,
        gateway=row.gateway,
        shop_id=row.shop_id,
        return_url=row.return_url,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _refund(row: Any) -> GatewayRefund:
    return GatewayRefund(
        return_number=row.return_number,
        amount=row.amount,
        status=RefundState(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        gateway_id=row.gateway_id,
        id=row.id,
        last_error=row.last_error,
    )


def _payment(row: Any, refunds: list[GatewayRefund]) -> GatewayPayment:
    return GatewayPayment(
        order_id=row.order_id,
        channel_code=row.channel_code,
        gateway=row.gateway,
        amount=row.amount,
        currency=row.currency,
        status=GatewayStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        id=row.id,
        gateway_id=row.gateway_id,
        confirmation_url=row.confirmation_url,
        captured_amount=row.captured_amount,
        authorized_at=row.authorized_at,
        captured_at=row.captured_at,
        canceled_at=row.canceled_at,
        cancel_reason=row.cancel_reason,
        last_error=row.last_error,
        refunds=refunds,
    )


class PaymentRepository:
    def __init__(
        self, connection: sa.Connection, events: list[DomainEvent], protector: DataProtector
    ) -> None:
        self.connection = connection
        self.events = events
        self.protector = protector

    # ------------------------------------------------------------------ accounts

    def account(self, channel_id: int) -> PaymentAccount | None:
        row = self.connection.execute(_ACCOUNTS.where(_a.c.channel_id == channel_id)).first()
        return _account(row) if row else None

    def accounts(self) -> Sequence[PaymentAccount]:
        return [_account(r) for r in self.connection.execute(_ACCOUNTS.order_by(channels.c.code))]

    def active_channel_codes(self) -> set[str]:
        """The codes of the channels whose gateway account is active (one small read)."""
        rows = self.connection.execute(
            sa.select(channels.c.code)
            .select_from(_a.join(channels, channels.c.id == _a.c.channel_id))
            .where(_a.c.active.is_(True))
        )
        return set(rows.scalars())

    def orders_with_payment(self, order_ids: Sequence[int]) -> set[int]:
        """Which of these orders have a payment at a gateway."""
        if not order_ids:
            return set()
        rows = self.connection.execute(
            sa.select(_p.c.order_id).where(_p.c.order_id.in_(sorted(set(order_ids))))
        )
        return {int(i) for i in rows.scalars()}

    def key(self, channel_id: int) -> AccountKey:
        row = self.connection.execute(
            sa.select(_a.c.shop_id, _a.c.credentials).where(_a.c.channel_id == channel_id)
        ).one()
        return AccountKey(row.shop_id, self.protector.decrypt(row.credentials) or "")

    def put_account(self, draft: AccountDraft, channel_id: int, at: datetime) -> None:
        """Connect the channel, or change its account (an empty secret keeps the old one)."""
        values: dict[str, Any] = {
            "gateway": draft.gateway,
            "shop_id": draft.shop_id.strip(),
            "return_url": draft.return_url.strip(),
            "active": draft.active,
            "updated_at": at,
        }
        if draft.secret_key.strip():
            values["credentials"] = self.protector.encrypt(draft.secret_key.strip())
        changed = self.connection.execute(
            sa.update(_a).where(_a.c.channel_id == channel_id).values(values)
        ).rowcount
        if not changed:
            self.connection.execute(
                sa.insert(_a).values(channel_id=channel_id, created_at=at, **values)
            )

    # ------------------------------------------------------------------ payments

    def for_order(self, order_id: int, *, lock: bool = False) -> GatewayPayment | None:
        query = _PAYMENTS.where(_p.c.order_id == order_id)
        if lock:
            query = query.with_for_update(of=_p)
        row = self.connection.execute(query).first()
        return self._whole(row) if row else None

    def by_gateway_id(self, gateway: str, gateway_id: str) -> GatewayPayment | None:
        row = self.connection.execute(
            _PAYMENTS.where(_p.c.gateway == gateway, _p.c.gateway_id == gateway_id)
        ).first()
        return self._whole(row) if row else None

    def add(self, payment: GatewayPayment) -> None:
        payment.id = self.connection.execute(
            sa.insert(_p).values(**self._values(payment)).returning(_p.c.id)
        ).scalar_one()
        self._write_refunds(payment)
        self.events.extend(payment.take_events())

    def save(self, payment: GatewayPayment) -> None:
        assert payment.id is not None
        self.connection.execute(
            sa.update(_p).where(_p.c.id == payment.id).values(**self._values(payment))
        )
        self._write_refunds(payment)
        self.events.extend(payment.take_events())

    def mark_checked(self, order_ids: Sequence[int], at: datetime) -> None:
        if order_ids:
            self.connection.execute(
                sa.update(_p).where(_p.c.order_id.in_(order_ids)).values(checked_at=at)
            )

    def in_flight(self, before: datetime, limit: int) -> list[GatewayPayment]:
        """Payments the gateway may have moved on its own, least recently read first."""
        pending_refund = sa.exists().where(
            _r.c.payment_id == _p.c.id, _r.c.status == RefundState.PENDING.value
        )
        query = (
            _PAYMENTS.where(
                sa.or_(
                    _p.c.status.in_(
                        [GatewayStatus.PENDING.value, GatewayStatus.WAITING_FOR_CAPTURE.value]
                    ),
                    pending_refund,
                ),
                sa.or_(_p.c.checked_at.is_(None), _p.c.checked_at <= before),
                _p.c.gateway_id.is_not(None),
            )
            .order_by(_p.c.checked_at.asc().nulls_first(), _p.c.id)
            .limit(limit)
        )
        return [self._whole(r) for r in self.connection.execute(query).all()]

    def list_page(
        self, *, status: str | None, cursor: int | None, limit: int
    ) -> tuple[list[GatewayPayment], int | None]:
        """Newest first; the cursor is the last id seen."""
        query = _PAYMENTS.order_by(_p.c.id.desc()).limit(limit + 1)
        if status is not None:
            query = query.where(_p.c.status == status)
        if cursor is not None:
            query = query.where(_p.c.id < cursor)
        rows = self.connection.execute(query).all()
        found = [self._whole(r) for r in rows[:limit]]
        more = len(rows) > limit
        return found, (found[-1].id if more and found else None)

    def reconciliation(self, start: datetime, end: datetime) -> list[OrderFacts]:
        return reconciliation_facts(self.connection, start, end)

    def receipt_facts(self, order_ids: Sequence[int]) -> dict[int, ReceiptFacts]:
        return receipt_facts(self.connection, order_ids)

    def between(self, start: datetime, end: datetime) -> list[GatewayPayment]:
        """Payments created or moved in the window (for reconciliation)."""
        query = _PAYMENTS.where(
            sa.or_(
                sa.and_(_p.c.created_at >= start, _p.c.created_at < end),
                sa.and_(_p.c.updated_at >= start, _p.c.updated_at < end),
            )
        ).order_by(_p.c.order_id)
        return [self._whole(r) for r in self.connection.execute(query).all()]

    # ------------------------------------------------------------------ helpers

    def _whole(self, row: Any) -> GatewayPayment:
        refunds = [
            _refund(r)
            for r in self.connection.execute(
                sa.select(_r).where(_r.c.payment_id == row.id).order_by(_r.c.id)
            )
        ]
        return _payment(row, refunds)

    @staticmethod
    def _values(payment: GatewayPayment) -> dict[str, Any]:
        return {
            "order_id": payment.order_id,
            "gateway": payment.gateway,
            "gateway_id": payment.gateway_id,
            "status": payment.status.value,
            "currency": payment.currency,
            "amount": payment.amount,
            "captured_amount": payment.captured_amount,
            "confirmation_url": payment.confirmation_url,
            "authorized_at": payment.authorized_at,
            "captured_at": payment.captured_at,
            "canceled_at": payment.canceled_at,
            "cancel_reason": (payment.cancel_reason or None) and payment.cancel_reason[:200],
            "last_error": payment.last_error,
            "created_at": payment.created_at,
            "updated_at": payment.updated_at,
        }

    def _write_refunds(self, payment: GatewayPayment) -> None:
        for refund in payment.refunds:
            values = {
                "payment_id": payment.id,
                "return_number": refund.return_number,
                "gateway_id": refund.gateway_id,
                "status": refund.status.value,
                "amount": refund.amount,
                "last_error": refund.last_error,
                "created_at": refund.created_at,
                "updated_at": refund.updated_at,
            }
            if refund.id is None:
                refund.id = self.connection.execute(
                    sa.insert(_r).values(**values).returning(_r.c.id)
                ).scalar_one()
            else:
                self.connection.execute(sa.update(_r).where(_r.c.id == refund.id).values(values))


# ---------------------------------------------------------------------- reconciliation

_PAID = ("paid", "partially_refunded", "refunded")


def reconciliation_facts(
    connection: sa.Connection, start: datetime, end: datetime
) -> list[OrderFacts]:
    """Every order paid or refunded in [start, end) - its payment moved then, its gateway
    payment was captured or refunded then, or one of its refunds was paid then - with what
    Potok and the gateway hold of it (receipts are added by the caller)."""
    moved = sa.select(order_history.c.order_id).where(
        order_history.c.action == "payment_changed",
        order_history.c.occurred_at >= start,
        order_history.c.occurred_at < end,
    )
    created_paid = sa.select(orders.c.id).where(
        orders.c.created_at >= start,
        orders.c.created_at < end,
        orders.c.payment_status.in_(_PAID),
    )
    at_gateway = sa.select(_p.c.order_id).where(
        _p.c.status == GatewayStatus.SUCCEEDED.value,
        sa.or_(
            sa.and_(_p.c.captured_at >= start, _p.c.captured_at < end),
            sa.and_(_p.c.updated_at >= start, _p.c.updated_at < end),
        ),
    )
    refunded = sa.select(returns.c.order_id).where(
        returns.c.refund_paid_at >= start, returns.c.refund_paid_at < end
    )
    ids = sa.union(moved, created_paid, at_gateway, refunded).subquery()
    rows = connection.execute(
        sa.select(
            orders.c.id,
            orders.c.payment_status,
            orders.c.payment_method,
            orders.c.total,
            orders.c.currency,
            channels.c.code.label("channel"),
            channels.c.type.label("channel_type"),
        )
        .select_from(orders.join(channels, channels.c.id == orders.c.channel_id))
        .where(orders.c.id.in_(sa.select(ids.c[0])))
        .order_by(orders.c.id)
    ).all()
    found = list(rows)
    order_ids = [r.id for r in found]
    refunds: dict[int, dict[str, Decimal]] = {}
    gateway: dict[int, GatewayFacts] = {}
    for start_at in range(0, len(order_ids), 500):
        chunk = order_ids[start_at : start_at + 500]
        for row in connection.execute(
            sa.select(returns.c.order_id, returns.c.number, returns.c.refund_amount).where(
                returns.c.order_id.in_(chunk), returns.c.refund_status == "paid"
            )
        ):
            refunds.setdefault(row.order_id, {})[row.number] = row.refund_amount
        payments = {
            row.id: row for row in connection.execute(sa.select(_p).where(_p.c.order_id.in_(chunk)))
        }
        asked: dict[int, dict[str, tuple[str, Decimal]]] = {}
        if payments:
            for row in connection.execute(sa.select(_r).where(_r.c.payment_id.in_(list(payments)))):
                asked.setdefault(row.payment_id, {})[row.return_number] = (row.status, row.amount)
        for payment_id, row in payments.items():
            by_return = asked.get(payment_id, {})
            gateway[row.order_id] = GatewayFacts(
                status=row.status,
                captured=row.captured_amount,
                refunded=sum(
                    (a for s, a in by_return.values() if s == RefundState.SUCCEEDED.value),
                    Decimal("0.00"),
                ),
                refunds=by_return,
            )
    return [
        OrderFacts(
            order_id=row.id,
            channel=row.channel,
            marketplace=row.channel_type == "marketplace" or row.payment_method == "marketplace",
            payment_status=row.payment_status,
            payment_method=row.payment_method,
            total=row.total,
            currency=row.currency,
            refunds=refunds.get(row.id, {}),
            gateway=gateway.get(row.id),
        )
        for row in found
    ]


_receipts = fiscal_receipts  # issue 23's fiscal half: the report sums its rows
COUNTED = frozenset({"queued", "sent", "wait", "done"})
"""Receipt states that count: printed, or on their way to the register."""


def receipt_facts(connection: sa.Connection, order_ids: Sequence[int]) -> dict[int, ReceiptFacts]:
    """The orders' fiscal receipts summed per order: sales (a sale receipt, or a settlement
    that is not the offset of a prepayment), refunds per return, failures, skips."""
    sold: dict[int, Decimal] = {}
    refunded: dict[int, dict[str, Decimal]] = {}
    failed: dict[int, list[str]] = {}
    skipped: set[int] = set()
    count: dict[int, int] = {}
    ids = list(dict.fromkeys(order_ids))
    for start_at in range(0, len(ids), 500):
        rows = connection.execute(
            sa.select(_receipts).where(_receipts.c.order_id.in_(ids[start_at : start_at + 500]))
        )
        for row in rows:
            order_id = int(row.order_id)
            count[order_id] = count.get(order_id, 0) + 1
            total = row.total
            if row.state == "skipped":
                skipped.add(order_id)
            elif row.state == "failed":
                failed.setdefault(order_id, []).append(
                    f"{row.kind} receipt failed: {row.reason or 'no reason given'}"
                )
            elif row.state in COUNTED:
                if row.kind == "sale" or (
                    row.kind == "settlement" and row.payment_type != "prepaid"
                ):
                    sold[order_id] = sold.get(order_id, Decimal("0.00")) + total
                elif row.kind == "refund" and row.return_number:
                    by_return = refunded.setdefault(order_id, {})
                    by_return[row.return_number] = (
                        by_return.get(row.return_number, Decimal("0.00")) + total
                    )
    return {
        order_id: ReceiptFacts(
            sold=sold.get(order_id, Decimal("0.00")),
            refunded=refunded.get(order_id, {}),
            failed=tuple(failed.get(order_id, ())),
            skipped=order_id in skipped,
            count=number,
        )
        for order_id, number in count.items()
    }
