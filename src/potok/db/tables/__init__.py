"""Every table, on one MetaData that Alembic compares against."""

from potok.db.tables.access import api_keys, audit_log, sessions, user_warehouses, users
from potok.db.tables.base import metadata
from potok.db.tables.catalogue import (
    channels,
    customers,
    products,
    reference_versions,
    warehouse_channels,
    warehouses,
)
from potok.db.tables.events import idempotency_keys, outbox_events
from potok.db.tables.inventory import stock, stock_movements
from potok.db.tables.orders import order_history, order_holds, order_lines, orders, reservations

__all__ = [
    "api_keys",
    "audit_log",
    "channels",
    "customers",
    "idempotency_keys",
    "metadata",
    "order_history",
    "order_holds",
    "order_lines",
    "orders",
    "outbox_events",
    "products",
    "reference_versions",
    "reservations",
    "sessions",
    "stock",
    "stock_movements",
    "user_warehouses",
    "users",
    "warehouse_channels",
    "warehouses",
]
