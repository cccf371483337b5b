"""Order lists for the operator's window: filters, text search, sorting, keyset pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from potok.db.personal import RecordOpener, name_hash
from potok.db.queries.pagination import decode_cursor, encode_cursor
from potok.db.tables import channels, order_lines, orders, reservations, warehouses
from potok.db.types import UtcDateTime
from potok.domain.customers import normalise_email, normalise_phone
from potok.domain.errors import FieldError, InvalidInput
from potok.security.data import DataProtector
from potok.services.read_models import OrderCount, OrderFilter, OrderPage, OrderSummary

SORTS: dict[str, sa.ColumnElement[Any]] = {
    "created_at": orders.c.created_at,
    "updated_at": orders.c.updated_at,
    "total": orders.c.total,
    "priority": orders.c.priority,
    "id": orders.c.id,
}


def parse_sort(sort: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in SORTS:
        raise InvalidInput(
            [
                FieldError(
                    "sort",
                    f"must be one of {', '.join(SORTS)}, optionally prefixed with '-'",
                    "bad-sort",
                )
            ]
        )
    return name, descending


def list_orders(
    connection: sa.Connection,
    flt: OrderFilter,
    protector: DataProtector,
    *,
    sort: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> OrderPage:
    name, descending = parse_sort(sort)
    column = SORTS[name]
    query = sa.select(orders, channels.c.code.label("channel_code")).join(
        channels, channels.c.id == orders.c.channel_id
    )
    for condition in _conditions(flt, protector):
        query = query.where(condition)
    if cursor:
        last_value, last_id = decode_cursor(cursor, 2)
        bound = _cursor_value(name, last_value)
        last_id = _cursor_value("id", last_id)
        if descending:
            query = query.where(sa.tuple_(column, orders.c.id) < sa.tuple_(bound, last_id))
        else:
            query = query.where(sa.tuple_(column, orders.c.id) > sa.tuple_(bound, last_id))
    ordering = [column.desc(), orders.c.id.desc()] if descending else [column, orders.c.id]
    rows = list(connection.execute(query.order_by(*ordering).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r.id for r in rows]
    counts: dict[int, int] = {}
    places: dict[int, list[str]] = {}
    if ids:
        counts = dict(
            connection.execute(
                sa.select(order_lines.c.order_id, sa.func.count())
                .where(order_lines.c.order_id.in_(ids))
                .group_by(order_lines.c.order_id)
            ).all()
        )
        for r in connection.execute(
            sa.select(reservations.c.order_id, warehouses.c.code)
            .join(warehouses, warehouses.c.id == reservations.c.warehouse_id)
            .where(
                reservations.c.order_id.in_(ids), reservations.c.status.in_(["open", "consumed"])
            )
            .distinct()
            .order_by(warehouses.c.code)
        ):
            places.setdefault(r.order_id, []).append(r.code)
    items = [_summary(r, counts, places, protector) for r in rows]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(_plain(getattr(last, name)), last.id)
    return OrderPage(items, next_cursor)


def _summary(
    r: Any, counts: dict[int, int], places: dict[int, list[str]], protector: DataProtector
) -> OrderSummary:
    open_ = RecordOpener(protector)  # one order sealed under a missing key fails only itself
    name, phone, email = open_(r.customer_name), open_(r.customer_phone), open_(r.customer_email)
    return OrderSummary(
        id=r.id,
        external_id=r.external_id,
        channel=r.channel_code,
        status=r.status,
        state=r.state,
        allocation=r.allocation,
        payment_status=r.payment_status,
        priority=r.priority,
        customer_name=name or "",
        customer_phone=phone,
        customer_email=email,
        currency=r.currency,
        total=r.total,
        line_count=counts.get(r.id, 0),
        warehouses=places.get(r.id, []),
        promised_at=r.promised_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
        version=r.version,
        personal_data=open_.personal_data,
        missing_key=open_.missing_key,
        payment_method=r.payment_method,
    )


def count_orders(
    connection: sa.Connection, flt: OrderFilter, protector: DataProtector
) -> list[OrderCount]:
    """How many orders the filter matches, by status and channel."""
    query = (
        sa.select(orders.c.status, channels.c.code, sa.func.count())
        .join(channels, channels.c.id == orders.c.channel_id)
        .group_by(orders.c.status, channels.c.code)
    )
    for condition in _conditions(flt, protector):
        query = query.where(condition)
    return [
        OrderCount(status, channel, count) for status, channel, count in connection.execute(query)
    ]


def conditions_of(flt: OrderFilter, protector: DataProtector) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of an order filter (the list's, and the export's)."""
    return _conditions(flt, protector)


def _conditions(flt: OrderFilter, protector: DataProtector) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if flt.statuses:
        conditions.append(orders.c.status.in_(_literal(flt.statuses)))
    if flt.payment_statuses:
        conditions.append(orders.c.payment_status.in_(list(flt.payment_statuses)))
    if flt.payment_methods:
        conditions.append(orders.c.payment_method.in_(list(flt.payment_methods)))
    conditions.extend(_reach_conditions(flt))
    if flt.created_from is not None:
        conditions.append(orders.c.created_at >= flt.created_from)
    if flt.created_to is not None:
        conditions.append(orders.c.created_at < flt.created_to)
    if flt.text:
        conditions.append(_text_search(flt.text.strip(), protector))
    return conditions


def _literal(values: Sequence[str]) -> sa.BindParameter[list[str]]:
    """Values written into the statement's text rather than sent apart: the order's few
    statuses, so that the planner sees them. A prepared statement's generic plan, made
    without its values (``plan_cache_mode``), took three statuses for a fifth of the table
    and read every order to count the few waiting for an operator (the dashboard); with
    the values in the text the statistics say how rare they are, and the partial index of
    the waiting statuses (``ix_orders_waiting``) serves their count alone."""
    return sa.bindparam(
        None, sorted({str(v) for v in values}), expanding=True, literal_execute=True
    )


def _reach_conditions(flt: OrderFilter) -> list[sa.ColumnElement[bool]]:
    """The filter's channels and warehouses (where an order holds or held stock)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if flt.channels:
        conditions.append(channels.c.code.in_(list(flt.channels)))
    if flt.warehouses:
        conditions.append(
            sa.exists().where(
                reservations.c.order_id == orders.c.id,
                reservations.c.status.in_(["open", "consumed"]),
                reservations.c.warehouse_id.in_(
                    sa.select(warehouses.c.id).where(warehouses.c.code.in_(list(flt.warehouses)))
                ),
            )
        )
    return conditions


def order_ids_within(flt: OrderFilter) -> sa.Select[tuple[int]]:
    """The ids of the orders of the filter's channels and warehouses, for the lists of things
    that belong to orders (alerts, documents) to narrow by in the same query."""
    return (
        sa.select(orders.c.id)
        .join(channels, channels.c.id == orders.c.channel_id)
        .where(*_reach_conditions(flt))
    )


def _text_search(text: str, protector: DataProtector) -> sa.ColumnElement[bool]:
    """Order number, external id, the customer's phone or e-mail, or the full name.

    The customer's data is sealed, so it is matched through its keyed hashes: equality
    only (the name whatever its case and spacing), never a fragment. Each way of matching
    is its own SELECT of ids, served by its own index (the external id by the unique one
    of channel and external id, probed channel by channel), and the orders are those
    ids: an OR of them in one WHERE would read every order, since no one index serves it.
    """
    matches: list[sa.ColumnElement[bool]] = []
    number = text.lstrip("#")
    if number.isascii() and number.isdigit() and len(number) <= 18:  # not "¹" or "٣"
        matches.append(orders.c.id == int(number))
    phone = normalise_phone(text)
    if phone is not None and sum(ch.isdigit() for ch in text) >= 7:
        matches.append(orders.c.customer_phone_hash == protector.index(phone))
    email = normalise_email(text)
    if email is not None:
        matches.append(orders.c.customer_email_hash == protector.index(email))
    elif len(text) >= 3 and not number.isdigit():
        matches.append(orders.c.customer_name_hash == name_hash(protector, text))
    by_external_id = (
        sa.select(orders.c.id)
        .join(channels, channels.c.id == orders.c.channel_id)
        .where(orders.c.external_id == text)
        .correlate(None)
    )
    ids = sa.union(
        by_external_id, *(sa.select(orders.c.id).where(m).correlate(None) for m in matches)
    )
    return orders.c.id.in_(ids)


def _cursor_value(name: str, value: Any) -> Any:
    try:
        if name in ("created_at", "updated_at"):
            return sa.literal(datetime.fromisoformat(value), UtcDateTime())
        if name == "total":
            return sa.literal(Decimal(value), orders.c.total.type)
        return int(value)
    except (TypeError, ValueError, ArithmeticError) as error:
        raise InvalidInput(
            [
                FieldError(
                    "cursor",
                    "does not belong to this sort order; start again without it",
                    "bad-cursor",
                )
            ]
        ) from error


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
