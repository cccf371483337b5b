"""Orders with their lines for file exports: keyset pages by order id, two reads a page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from potok.db.personal import UNAVAILABLE, RecordOpener
from potok.db.queries.orders import conditions_of
from potok.db.tables import channels, order_lines, orders
from potok.security.data import DataProtector
from potok.services.read_models import OrderFilter, OrderLineExport

_ORDER_COLUMNS = (
    orders.c.id,
    orders.c.external_id,
    channels.c.code.label("channel_code"),
    orders.c.status,
    orders.c.payment_status,
    orders.c.created_at,
    orders.c.currency,
    orders.c.delivery_method,
    orders.c.address_city,
    orders.c.delivery_price,
    orders.c.total,
    orders.c.version,
)
_CUSTOMER_COLUMNS = (orders.c.customer_name, orders.c.customer_phone, orders.c.customer_email)


def order_lines_after(
    connection: sa.Connection,
    flt: OrderFilter,
    protector: DataProtector,
    *,
    after_id: int,
    orders_per_page: int,
    customer: bool,
) -> tuple[list[OrderLineExport], int | None]:
    """The lines of the next orders (by id) that the filter matches, and the last order id
    read (None when no order is left)."""
    columns = _ORDER_COLUMNS + (_CUSTOMER_COLUMNS if customer else ())
    query = (
        sa.select(*columns)
        .join(channels, channels.c.id == orders.c.channel_id)
        .where(orders.c.id > after_id, *conditions_of(flt, protector))
        .order_by(orders.c.id)
        .limit(orders_per_page)
    )
    heads = {row.id: row for row in connection.execute(query)}
    if not heads:
        return [], None
    lines = connection.execute(
        sa.select(
            order_lines.c.order_id,
            order_lines.c.line_no,
            order_lines.c.sku,
            order_lines.c.name,
            order_lines.c.quantity,
            order_lines.c.unit_price,
            order_lines.c.vat_rate,
            order_lines.c.total,
        )
        .where(order_lines.c.order_id.between(min(heads), max(heads)))
        .order_by(order_lines.c.order_id, order_lines.c.line_no)
    )
    nobody: tuple[str | None, str | None, str | None] = (None, None, None)
    people = {
        order_id: _person(head, RecordOpener(protector))
        for order_id, head in (heads.items() if customer else ())
    }
    found: list[OrderLineExport] = []
    for line in lines:
        head = heads.get(line.order_id)
        if head is None:  # an order between the first and the last that the filter left out
            continue
        customer_name, phone, email = people.get(line.order_id, nobody)
        found.append(
            OrderLineExport(
                order_id=head.id,
                external_id=head.external_id,
                channel=head.channel_code,
                status=head.status,
                payment_status=head.payment_status,
                created_at=head.created_at,
                currency=head.currency,
                delivery_method=head.delivery_method,
                city=head.address_city,
                delivery_price=head.delivery_price,
                order_total=head.total,
                line_no=line.line_no,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                line_total=line.total,
                version=head.version,
                customer_name=customer_name,
                customer_phone=phone,
                customer_email=email,
            )
        )
    return found, max(heads)


def _person(head: sa.Row[Any], open_: RecordOpener) -> tuple[str, str | None, str | None]:
    """The order's customer; one sealed under a missing key is marked, not fatal."""
    name, phone, email = (
        open_(head.customer_name),
        open_(head.customer_phone),
        open_(head.customer_email),
    )
    if open_.missing_key is not None:
        return UNAVAILABLE.format(key_id=open_.missing_key), None, None
    return name or "", phone, email
