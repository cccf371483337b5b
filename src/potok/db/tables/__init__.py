"""Every table, on one MetaData that Alembic compares against."""

from potok.db.tables.access import api_keys, audit_log, sessions, user_warehouses, users
from potok.db.tables.alerts import operator_alerts
from potok.db.tables.automation import (
    automation_firings,
    automation_rule_versions,
    automation_rules,
    order_tags,
)
from potok.db.tables.base import metadata
from potok.db.tables.carrier_labels import carrier_labels
from potok.db.tables.carrier_points import carrier_points
from potok.db.tables.catalogue import (
    channels,
    customers,
    product_barcodes,
    products,
    reference_versions,
    warehouse_channels,
    warehouses,
)
from potok.db.tables.documents import (
    document_counters,
    document_files,
    documents,
    legal_entities,
    legal_entity_channels,
    order_buyers,
)
from potok.db.tables.events import (
    event_consumers,
    idempotency_keys,
    outbox_events,
    webhook_deliveries,
    webhook_replays,
    webhook_subscriptions,
)
from potok.db.tables.fulfilment import (
    overdue_thresholds,
    parcels,
    shipment_codes,
    shipment_items,
    shipment_steps,
    shipments,
    waves,
)
from potok.db.tables.inventory import (
    lots,
    purchase_order_lines,
    purchase_orders,
    serials,
    stock,
    stock_count_lines,
    stock_counts,
    stock_movements,
    stock_rules,
    storage_locations,
    transfer_lines,
    transfers,
)
from potok.db.tables.marketplaces import (
    marketplace_connections,
    marketplace_items,
    marketplace_journal,
    marketplace_orders,
)
from potok.db.tables.notifications import (
    notification_opt_outs,
    notification_preferences,
    notification_switches,
    notification_templates,
    notifications,
)
from potok.db.tables.onec import (
    onec_groups,
    onec_items,
    onec_order_exports,
    onec_sessions,
    onec_uploads,
)
from potok.db.tables.orders import order_history, order_holds, order_lines, orders, reservations
from potok.db.tables.reports import order_days, order_facts, order_stage_days
from potok.db.tables.returns import return_lines, return_steps, returns
from potok.db.tables.sourcing import (
    replan_runs,
    routing_rules,
    shipping_tariffs,
    sourcing_decisions,
    tariff_versions,
)
from potok.db.tables.stores import store_receipts
from potok.db.tables.tasks import task_queues, tasks
from potok.db.tables.tracking import tracking_links

__all__ = [
    "api_keys",
    "audit_log",
    "automation_firings",
    "automation_rule_versions",
    "automation_rules",
    "carrier_labels",
    "carrier_points",
    "channels",
    "customers",
    "document_counters",
    "document_files",
    "documents",
    "event_consumers",
    "idempotency_keys",
    "legal_entities",
    "legal_entity_channels",
    "lots",
    "marketplace_connections",
    "marketplace_items",
    "marketplace_journal",
    "marketplace_orders",
    "metadata",
    "notification_opt_outs",
    "notification_preferences",
    "notification_switches",
    "notification_templates",
    "notifications",
    "onec_groups",
    "onec_items",
    "onec_order_exports",
    "onec_sessions",
    "onec_uploads",
    "operator_alerts",
    "order_buyers",
    "order_days",
    "order_facts",
    "order_history",
    "order_holds",
    "order_lines",
    "order_stage_days",
    "order_tags",
    "orders",
    "outbox_events",
    "overdue_thresholds",
    "parcels",
    "product_barcodes",
    "products",
    "purchase_order_lines",
    "purchase_orders",
    "reference_versions",
    "replan_runs",
    "reservations",
    "return_lines",
    "return_steps",
    "returns",
    "routing_rules",
    "serials",
    "sessions",
    "shipment_codes",
    "shipment_items",
    "shipment_steps",
    "shipments",
    "shipping_tariffs",
    "sourcing_decisions",
    "stock",
    "stock_count_lines",
    "stock_counts",
    "stock_movements",
    "stock_rules",
    "storage_locations",
    "store_receipts",
    "tariff_versions",
    "task_queues",
    "tasks",
    "tracking_links",
    "transfer_lines",
    "transfers",
    "user_warehouses",
    "users",
    "warehouse_channels",
    "warehouses",
    "waves",
    "webhook_deliveries",
    "webhook_replays",
    "webhook_subscriptions",
]
