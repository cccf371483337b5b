"""Every route, called as every role, as API keys and as nobody, answers as the permission
matrix says; and callers limited to one channel or some warehouses reach nothing of another.

The routes are read from the application's route table, so a new route cannot slip
through: one without a declared requirement and reach fails the first test, and every
declared requirement and reach is exercised by the others. What each route needs, what
each role holds and what each route reaches are written out here, independently of the
code under test: a changed grant or a dropped scope fails until this file says so too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from potok.api.app import api_routes
from potok.api.scope import reach_of
from potok.api.security import Requirement, requirement_of
from potok.domain.access import Permission, Role
from tests.auth import Session, make_user, sign_in
from tests.conftest import LiveServer, key_for
from tests.e2e.test_documents_api import BUYER, SELLER
from tests.factories import VYBORG, build_world, order_body

# What a route reaches of one channel or warehouse (see potok.api.scope.Reach):
NETWORK = "network"  # nothing of one channel or warehouse
ORDER = "order"  # the order in its path
SHIPMENT = "shipment"  # the shipment in its path
CHANNEL = "channel"  # the channel in its path
WAREHOUSE = "warehouse"  # the warehouse in its path
UNLIMITED = "unlimited"  # spans every channel and warehouse: not for limited callers
RECORD = "record"  # a numbered record belonging to channels or warehouses
LISTED = "listed"  # a list or figures, narrowed to what the caller may see
NAMED = "named"  # a change whose body names a channel or warehouse

# What each route needs and what it reaches, written out independently of the routes' own
# declarations: a new route, or a changed requirement or reach, fails until this says so too.
EXPECTED: dict[tuple[str, str], tuple[str, str]] = {
    ("POST", "/api/v1/session"): ("public", NETWORK),
    ("DELETE", "/api/v1/session"): ("signed-in", NETWORK),
    ("GET", "/api/v1/me"): ("signed-in", NETWORK),
    ("POST", "/api/v1/me/password"): ("signed-in", NETWORK),
    ("GET", "/api/v1/users"): ("users:manage", NETWORK),
    ("POST", "/api/v1/users"): ("users:manage", NETWORK),
    ("GET", "/api/v1/users/{username}"): ("users:manage", NETWORK),
    ("PATCH", "/api/v1/users/{username}"): ("users:manage", NETWORK),
    ("POST", "/api/v1/users/{username}/password-reset"): ("users:manage", NETWORK),
    ("GET", "/api/v1/api-keys"): ("keys:manage", NETWORK),
    ("POST", "/api/v1/api-keys"): ("keys:manage", NETWORK),
    ("DELETE", "/api/v1/api-keys/{name}"): ("keys:manage", NETWORK),
    ("GET", "/api/v1/audit"): ("audit:read", UNLIMITED),
    ("GET", "/api/v1/events"): ("events:read", UNLIMITED),
    ("GET", "/metrics"): ("metrics:read", UNLIMITED),
    ("POST", "/api/v1/webhook-subscriptions"): ("webhooks:manage", UNLIMITED),
    ("GET", "/api/v1/webhook-subscriptions"): ("webhooks:manage", UNLIMITED),
    ("GET", "/api/v1/webhook-subscriptions/{subscription_id}"): ("webhooks:manage", UNLIMITED),
    ("PATCH", "/api/v1/webhook-subscriptions/{subscription_id}"): ("webhooks:manage", UNLIMITED),
    ("GET", "/api/v1/event-readers"): ("webhooks:manage", UNLIMITED),
    ("DELETE", "/api/v1/event-readers/{name:path}"): ("events:manage", UNLIMITED),
    ("DELETE", "/api/v1/webhook-subscriptions/{subscription_id}"): (
        "webhooks:manage",
        UNLIMITED,
    ),
    ("GET", "/api/v1/webhook-subscriptions/{subscription_id}/deliveries"): (
        "webhooks:manage",
        UNLIMITED,
    ),
    ("POST", "/api/v1/webhook-subscriptions/{subscription_id}/pause"): (
        "webhooks:manage",
        UNLIMITED,
    ),
    ("POST", "/api/v1/webhook-subscriptions/{subscription_id}/resumption"): (
        "webhooks:manage",
        UNLIMITED,
    ),
    ("POST", "/api/v1/webhook-subscriptions/{subscription_id}/replays"): (
        "webhooks:manage",
        UNLIMITED,
    ),
    ("GET", "/api/v1/webhook-subscriptions/{subscription_id}/replays"): (
        "webhooks:manage",
        UNLIMITED,
    ),
    ("POST", "/api/v1/webhook-subscriptions/{subscription_id}/secret-rotation"): (
        "webhooks:manage",
        UNLIMITED,
    ),
    ("POST", "/api/v1/orders"): ("orders:write", NAMED),
    ("GET", "/api/v1/orders"): ("orders:read", LISTED),
    ("GET", "/api/v1/orders/{order_id}"): ("orders:read", ORDER),
    ("POST", "/api/v1/orders/{order_id}/confirmation"): ("orders:manage", ORDER),
    ("POST", "/api/v1/orders/{order_id}/cancellation"): ("orders:manage", ORDER),
    ("POST", "/api/v1/orders/{order_id}/holds"): ("orders:manage", ORDER),
    ("POST", "/api/v1/orders/{order_id}/holds/{hold_no}/release"): ("orders:manage", ORDER),
    ("POST", "/api/v1/orders/{order_id}/payment"): ("orders:manage", ORDER),
    ("GET", "/api/v1/orders/{order_id}/payment"): ("orders:read", ORDER),
    ("GET", "/api/v1/payments"): ("orders:read", UNLIMITED),
    ("GET", "/api/v1/payment-accounts"): ("catalogue:read", LISTED),
    ("PUT", "/api/v1/channels/{code}/payment-account"): ("catalogue:write", CHANNEL),
    ("POST", "/api/v1/payments/yookassa/notifications"): ("public", UNLIMITED),
    ("GET", "/api/v1/reports/reconciliation"): ("orders:read", UNLIMITED),
    ("PATCH", "/api/v1/orders/{order_id}"): ("orders:manage", ORDER),
    ("POST", "/api/v1/orders/{order_id}/line-cancellations"): ("orders:manage", ORDER),
    ("POST", "/api/v1/shipments/{shipment_id}/cancellation"): ("orders:manage", SHIPMENT),
    ("GET", "/api/v1/return-reasons"): ("orders:read", NETWORK),
    ("POST", "/api/v1/rules"): ("orders:manage", UNLIMITED),
    ("GET", "/api/v1/rules"): ("orders:read", UNLIMITED),
    ("GET", "/api/v1/rules/{rule_id}"): ("orders:read", UNLIMITED),
    ("PUT", "/api/v1/rules/{rule_id}"): ("orders:manage", UNLIMITED),
    ("GET", "/api/v1/rules/{rule_id}/versions"): ("orders:read", UNLIMITED),
    ("POST", "/api/v1/rule-trials"): ("orders:read", UNLIMITED),
    ("POST", "/api/v1/rule-dry-runs"): ("orders:read", UNLIMITED),
    ("GET", "/api/v1/orders/{order_id}/rule-firings"): ("orders:read", ORDER),
    ("PUT", "/api/v1/task-queues/{queue}"): ("orders:manage", UNLIMITED),
    ("GET", "/api/v1/task-queues"): ("orders:read", UNLIMITED),
    ("POST", "/api/v1/task-queues/{queue}/next-task"): ("orders:manage", UNLIMITED),
    ("POST", "/api/v1/tasks"): ("orders:manage", UNLIMITED),
    ("GET", "/api/v1/tasks"): ("orders:read", UNLIMITED),
    ("POST", "/api/v1/tasks/{task_id}/claim"): ("orders:manage", UNLIMITED),
    ("POST", "/api/v1/tasks/{task_id}/release"): ("orders:manage", UNLIMITED),
    ("POST", "/api/v1/tasks/{task_id}/completion"): ("orders:manage", UNLIMITED),
    ("GET", "/api/v1/task-figures"): ("orders:read", UNLIMITED),
    ("GET", "/api/v1/operators"): ("orders:read", UNLIMITED),
    ("PUT", "/api/v1/operators/{username}/skills"): ("orders:manage", UNLIMITED),
    ("GET", "/api/v1/notifications"): ("orders:manage", UNLIMITED),
    ("POST", "/api/v1/orders/{order_id}/tracking-link"): ("orders:read", ORDER),
    ("GET", "/track/{token}"): ("public", NETWORK),
    ("POST", "/api/v1/notification-opt-outs"): ("orders:manage", UNLIMITED),
    ("GET", "/api/v1/notification-templates/{topic}/{language}"): ("orders:read", NETWORK),
    ("GET", "/api/v1/notification-templates"): ("orders:read", NETWORK),
    ("GET", "/api/v1/overdue-thresholds"): ("orders:read", NETWORK),
    ("PUT", "/api/v1/overdue-thresholds/{stage}"): ("settings:manage", NETWORK),
    ("PUT", "/api/v1/customers/{customer_id}/notification-preference"): (
        "orders:manage",
        UNLIMITED,
    ),
    ("PUT", "/api/v1/notification-templates/{topic}/{language}"): (
        "notifications:manage",
        NETWORK,
    ),
    ("GET", "/api/v1/notification-switches"): ("notifications:manage", UNLIMITED),
    ("PUT", "/api/v1/notification-switches/{kind}/{code}"): (
        "notifications:manage",
        UNLIMITED,
    ),
    ("POST", "/api/v1/notification-templates/{topic}/{language}/preview"): (
        "orders:read",
        NETWORK,
    ),
    ("GET", "/api/v1/notification-templates/{topic}/{language}/versions"): (
        "orders:read",
        NETWORK,
    ),
    ("POST", "/api/v1/orders/{order_id}/returns"): ("orders:manage", ORDER),
    ("GET", "/api/v1/orders/{order_id}/returns"): ("orders:read", ORDER),
    ("GET", "/api/v1/returns"): ("orders:read", LISTED),
    ("GET", "/api/v1/orders/{order_id}/receipts"): ("orders:read", ORDER),
    ("GET", "/api/v1/receipts"): ("orders:read", UNLIMITED),
    ("GET", "/api/v1/receipts/{receipt_id}"): ("orders:read", UNLIMITED),
    ("POST", "/api/v1/receipts/{receipt_id}/correction"): ("orders:manage", UNLIMITED),
    ("POST", "/api/v1/receipts/{receipt_id}/resending"): ("orders:manage", UNLIMITED),
    ("POST", "/api/v1/fiscal/atol/callback"): ("public", NETWORK),
    ("GET", "/api/v1/returns/{number}"): ("orders:read", RECORD),
    ("POST", "/api/v1/returns/{number}/approval"): ("orders:manage", RECORD),
    ("POST", "/api/v1/returns/{number}/refusal"): ("orders:manage", RECORD),
    ("POST", "/api/v1/returns/{number}/inspection"): ("stock:write", RECORD),
    ("POST", "/api/v1/returns/{number}/closure"): ("orders:manage", RECORD),
    ("POST", "/api/v1/returns/{number}/refund"): ("orders:manage", RECORD),
    ("POST", "/api/v1/returns/{number}/exchange"): ("orders:manage", RECORD),
    ("POST", "/api/v1/warehouses/{warehouse}/return-receipts"): ("stock:write", WAREHOUSE),
    ("GET", "/api/v1/customers/{customer_id}"): ("personal_data:read", UNLIMITED),
    ("GET", "/api/v1/customers/{customer_id}/export"): ("customers:manage", UNLIMITED),
    ("POST", "/api/v1/customers/{customer_id}/anonymisation"): ("customers:manage", UNLIMITED),
    ("GET", "/api/v1/exchange/1c"): ("erp:exchange", UNLIMITED),
    ("POST", "/api/v1/stores/{warehouse}/receipts"): ("stock:write", WAREHOUSE),
    ("GET", "/api/v1/stores/sales"): ("stock:read", LISTED),
    ("POST", "/api/v1/exchange/1c"): ("erp:exchange", UNLIMITED),
    ("PUT", "/api/v1/files/stock-levels"): ("stock:write", NAMED),
    ("PUT", "/api/v1/files/store-receipts"): ("stock:write", NAMED),
    ("GET", "/api/v1/files/stock-levels"): ("stock:read", LISTED),
    ("PUT", "/api/v1/files/products"): ("catalogue:write", NETWORK),
    ("GET", "/api/v1/files/products"): ("catalogue:read", NETWORK),
    ("PUT", "/api/v1/files/stock-rules"): ("stock:write", NAMED),
    ("GET", "/api/v1/files/stock-rules"): ("stock:read", LISTED),
    ("GET", "/api/v1/files/movements"): ("stock:read", LISTED),
    ("GET", "/api/v1/files/orders"): ("orders:read", LISTED),
    ("PUT", "/api/v1/files/orders"): ("orders:write", NAMED),
    ("GET", "/api/v1/reports/orders"): ("orders:read", LISTED),
    ("GET", "/api/v1/reports/orders/file"): ("orders:read", LISTED),
    ("GET", "/api/v1/reports/reasons"): ("orders:read", LISTED),
    ("GET", "/api/v1/reports/employees"): ("stock:read", LISTED),
    ("GET", "/api/v1/reports/stock"): ("stock:read", LISTED),
    ("GET", "/api/v1/forecasts/latest"): ("stock:read", LISTED),
    ("GET", "/api/v1/forecasts/latest/reorder-suggestions"): ("stock:read", LISTED),
    ("POST", "/api/v1/forecasts/latest/purchase-orders"): ("stock:write", NAMED),
    ("POST", "/api/v1/forecasts/latest/transfers"): ("stock:write", NAMED),
    ("POST", "/api/v1/marketplaces"): ("catalogue:write", NAMED),
    ("GET", "/api/v1/marketplaces"): ("catalogue:read", LISTED),
    ("GET", "/api/v1/marketplaces/{code}"): ("catalogue:read", RECORD),
    ("PATCH", "/api/v1/marketplaces/{code}"): ("catalogue:write", RECORD),
    ("POST", "/api/v1/marketplaces/{code}/polls"): ("catalogue:write", RECORD),
    ("POST", "/api/v1/marketplaces/{code}/ozon-notifications"): ("public", UNLIMITED),
    ("POST", "/api/v1/marketplaces/{code}/yandex-market/{token}/notification"): (
        "public",
        UNLIMITED,
    ),
    ("GET", "/api/v1/marketplaces/{code}/journal"): ("catalogue:read", RECORD),
    ("GET", "/api/v1/marketplaces/{code}/items"): ("catalogue:read", RECORD),
    ("PATCH", "/api/v1/marketplaces/{code}/items"): ("catalogue:write", RECORD),
    ("DELETE", "/api/v1/marketplaces/{code}/items/{sku}"): ("catalogue:write", RECORD),
    ("POST", "/api/v1/marketplaces/{code}/stock-pushes"): ("catalogue:write", RECORD),
    ("POST", "/api/v1/marketplaces/{code}/crm-backfills"): ("catalogue:write", RECORD),
    ("GET", "/api/v1/marketplaces/{code}/crm-backfill"): ("catalogue:read", RECORD),
    ("POST", "/api/v1/marketplaces/{code}/catalogue-matches"): ("catalogue:write", RECORD),
    ("GET", "/api/v1/marketplaces/{code}/orders/{external_id}/courier-intervals"): (
        "orders:read",
        RECORD,
    ),
    ("PUT", "/api/v1/marketplaces/{code}/orders/{external_id}/courier-interval"): (
        "orders:manage",
        RECORD,
    ),
    ("PUT", "/api/v1/marketplaces/{code}/orders/{external_id}/pickup-details"): (
        "orders:manage",
        RECORD,
    ),
    ("GET", "/api/v1/marketplaces/{code}/first-mile-shipments"): ("orders:read", RECORD),
    ("GET", "/api/v1/marketplaces/{code}/first-mile-shipments/{campaign}/{shipment}"): (
        "orders:read",
        RECORD,
    ),
    (
        "POST",
        "/api/v1/marketplaces/{code}/first-mile-shipments/{campaign}/{shipment}/confirmation",
    ): ("orders:manage", RECORD),
    ("GET", "/api/v1/marketplaces/{code}/first-mile-shipments/{campaign}/{shipment}/act"): (
        "orders:read",
        RECORD,
    ),
    ("GET", "/api/v1/marketplaces/{code}/first-mile-shipments/{campaign}/{shipment}/waybill"): (
        "orders:read",
        RECORD,
    ),
    (
        "POST",
        "/api/v1/marketplaces/{code}/first-mile-shipments/{campaign}/{shipment}/order-transfers",
    ): ("orders:manage", RECORD),
    ("POST", "/api/v1/categories"): ("catalogue:write", NETWORK),
    ("GET", "/api/v1/categories"): ("catalogue:read", NETWORK),
    ("GET", "/api/v1/categories/{category}"): ("catalogue:read", NETWORK),
    ("PUT", "/api/v1/categories/{category}"): ("catalogue:write", NETWORK),
    ("PATCH", "/api/v1/categories/{category}"): ("catalogue:write", NETWORK),
    ("DELETE", "/api/v1/categories/{category}"): ("catalogue:write", NETWORK),
    ("POST", "/api/v1/products"): ("catalogue:write", NETWORK),
    ("GET", "/api/v1/products"): ("catalogue:read", NETWORK),
    ("GET", "/api/v1/products/{sku}"): ("catalogue:read", NETWORK),
    ("PUT", "/api/v1/products/{sku}"): ("catalogue:write", NETWORK),
    ("PATCH", "/api/v1/products/{sku}"): ("catalogue:write", NETWORK),
    ("DELETE", "/api/v1/products/{sku}"): ("catalogue:write", NETWORK),
    ("POST", "/api/v1/channels"): ("catalogue:write", UNLIMITED),
    ("GET", "/api/v1/channels"): ("catalogue:read", LISTED),
    ("GET", "/api/v1/channels/{code}"): ("catalogue:read", CHANNEL),
    ("PUT", "/api/v1/channels/{code}"): ("catalogue:write", CHANNEL),
    ("PATCH", "/api/v1/channels/{code}"): ("catalogue:write", CHANNEL),
    ("DELETE", "/api/v1/channels/{code}"): ("catalogue:write", CHANNEL),
    ("POST", "/api/v1/warehouses"): ("catalogue:write", UNLIMITED),
    ("GET", "/api/v1/warehouses"): ("catalogue:read", NETWORK),
    ("GET", "/api/v1/warehouses/{code}"): ("catalogue:read", NETWORK),
    ("PUT", "/api/v1/warehouses/{code}"): ("catalogue:write", UNLIMITED),
    ("PATCH", "/api/v1/warehouses/{code}"): ("catalogue:write", UNLIMITED),
    ("DELETE", "/api/v1/warehouses/{code}"): ("catalogue:write", UNLIMITED),
    ("POST", "/api/v1/stock/receipts"): ("stock:write", NAMED),
    ("POST", "/api/v1/stock/write-offs"): ("stock:write", NAMED),
    ("POST", "/api/v1/stock/counts"): ("stock:write", NAMED),
    ("PUT", "/api/v1/stock/levels"): ("stock:write", NAMED),
    ("GET", "/api/v1/stock/levels"): ("stock:read", LISTED),
    ("GET", "/api/v1/stock/movements"): ("stock:read", LISTED),
    ("GET", "/api/v1/stock/reconciliation"): ("stock:read", UNLIMITED),
    ("GET", "/api/v1/stock/expiring"): ("stock:read", LISTED),
    ("GET", "/api/v1/products/{sku}/availability"): ("stock:read", LISTED),
    ("GET", "/api/v1/channels/{code}/availability"): ("stock:read", CHANNEL),
    ("POST", "/api/v1/stock/moves"): ("stock:write", NAMED),
    ("POST", "/api/v1/warehouses/{code}/counts"): ("stock:write", WAREHOUSE),
    ("GET", "/api/v1/stock/counts"): ("stock:read", LISTED),
    ("GET", "/api/v1/stock/counts/{number}"): ("stock:read", RECORD),
    ("POST", "/api/v1/stock/counts/{number}/entries"): ("stock:write", RECORD),
    ("POST", "/api/v1/stock/counts/{number}/submission"): ("stock:write", RECORD),
    ("POST", "/api/v1/stock/counts/{number}/approval"): ("stock:approve", RECORD),
    ("POST", "/api/v1/stock/counts/{number}/cancellation"): ("stock:write", RECORD),
    ("GET", "/api/v1/warehouses/{code}/locations"): ("stock:read", WAREHOUSE),
    ("POST", "/api/v1/warehouses/{code}/locations"): ("stock:write", WAREHOUSE),
    ("GET", "/api/v1/warehouses/{code}/locations/{location_code}"): ("stock:read", WAREHOUSE),
    ("PATCH", "/api/v1/warehouses/{code}/locations/{location_code}"): ("stock:write", WAREHOUSE),
    ("DELETE", "/api/v1/warehouses/{code}/locations/{location_code}"): ("stock:write", WAREHOUSE),
    ("POST", "/api/v1/stock/placements"): ("stock:write", NAMED),
    ("GET", "/api/v1/orders/{order_id}/pick-list"): ("stock:read", ORDER),
    ("POST", "/api/v1/transfers"): ("stock:write", NAMED),
    ("GET", "/api/v1/transfers"): ("stock:read", LISTED),
    ("GET", "/api/v1/transfers/{number}"): ("stock:read", RECORD),
    ("POST", "/api/v1/transfers/{number}/ship"): ("stock:write", RECORD),
    ("POST", "/api/v1/transfers/{number}/receive"): ("stock:write", RECORD),
    ("POST", "/api/v1/transfers/{number}/cancel"): ("stock:write", RECORD),
    ("POST", "/api/v1/purchase-orders"): ("stock:write", NAMED),
    ("GET", "/api/v1/purchase-orders"): ("stock:read", LISTED),
    ("GET", "/api/v1/purchase-orders/{number}"): ("stock:read", RECORD),
    ("POST", "/api/v1/purchase-orders/{number}/receive"): ("stock:write", RECORD),
    ("POST", "/api/v1/purchase-orders/{number}/cancel"): ("stock:write", RECORD),
    ("GET", "/api/v1/stock/incoming"): ("stock:read", LISTED),
    ("PUT", "/api/v1/stock/rules/{warehouse}/{sku}"): ("stock:write", WAREHOUSE),
    ("GET", "/api/v1/stock/rules/{warehouse}/{sku}"): ("stock:read", WAREHOUSE),
    ("DELETE", "/api/v1/stock/rules/{warehouse}/{sku}"): ("stock:write", WAREHOUSE),
    ("GET", "/api/v1/stock/rules"): ("stock:read", LISTED),
    ("GET", "/api/v1/stock/replenishment"): ("stock:read", LISTED),
    ("PUT", "/api/v1/sourcing/tariffs"): ("sourcing:write", UNLIMITED),
    ("GET", "/api/v1/sourcing/tariffs"): ("sourcing:read", NETWORK),
    ("PUT", "/api/v1/sourcing/rules/{channel}"): ("sourcing:write", CHANNEL),
    ("GET", "/api/v1/sourcing/rules/{channel}"): ("sourcing:read", CHANNEL),
    ("GET", "/api/v1/sourcing/rules/{channel}/versions"): ("sourcing:read", CHANNEL),
    ("POST", "/api/v1/sourcing/replans"): ("sourcing:write", NAMED),
    ("GET", "/api/v1/sourcing/replans"): ("sourcing:read", LISTED),
    ("GET", "/api/v1/sourcing/replans/{run_id}"): ("sourcing:read", RECORD),
    ("GET", "/api/v1/orders/{order_id}/sourcing"): ("sourcing:read", ORDER),
    ("POST", "/api/v1/orders/{order_id}/shortages"): ("stock:write", ORDER),
    ("GET", "/api/v1/alerts"): ("orders:read", LISTED),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledgement"): ("orders:manage", RECORD),
    ("GET", "/api/v1/shipments"): ("orders:read", LISTED),
    ("GET", "/api/v1/shipments/{shipment_id}"): ("orders:read", SHIPMENT),
    ("GET", "/api/v1/orders/{order_id}/shipments"): ("orders:read", ORDER),
    ("POST", "/api/v1/orders/{order_id}/shipments"): ("stock:write", ORDER),
    ("GET", "/api/v1/shipments/{shipment_id}/pick-list"): ("stock:read", SHIPMENT),
    ("GET", "/api/v1/shipments/{shipment_id}/pick-list/pdf"): ("stock:read", SHIPMENT),
    ("GET", "/api/v1/shipments/{shipment_id}/packing-slip/pdf"): (
        "stock:read personal_data:read",
        SHIPMENT,
    ),
    ("GET", "/api/v1/shipments/{shipment_id}/labels/pdf"): (
        "stock:read personal_data:read",
        SHIPMENT,
    ),
    ("GET", "/api/v1/shipments/{shipment_id}/parcels/{parcel_no}/label/pdf"): (
        "stock:read personal_data:read",
        SHIPMENT,
    ),
    ("GET", "/api/v1/waves/{number}/sheet/pdf"): ("stock:read", RECORD),
    ("POST", "/api/v1/papers/pick-lists"): ("stock:read", LISTED),
    ("POST", "/api/v1/papers/packing-slips"): ("stock:read personal_data:read", LISTED),
    ("POST", "/api/v1/papers/labels"): ("stock:read personal_data:read", LISTED),
    ("POST", "/api/v1/shipments/{shipment_id}/documents"): ("stock:write", SHIPMENT),
    ("POST", "/api/v1/shipments/{shipment_id}/picking"): ("stock:write", SHIPMENT),
    ("POST", "/api/v1/shipments/{shipment_id}/picks"): ("stock:write", SHIPMENT),
    ("POST", "/api/v1/shipments/{shipment_id}/shortages"): ("stock:write", SHIPMENT),
    ("POST", "/api/v1/shipments/{shipment_id}/parcels"): ("stock:write", SHIPMENT),
    ("DELETE", "/api/v1/shipments/{shipment_id}/parcels/{parcel_no}"): ("stock:write", SHIPMENT),
    ("POST", "/api/v1/shipments/{shipment_id}/handover"): ("stock:write", SHIPMENT),
    ("POST", "/api/v1/waves"): ("stock:write", NAMED),
    ("GET", "/api/v1/waves"): ("stock:read", LISTED),
    ("GET", "/api/v1/waves/{number}"): ("stock:read", RECORD),
    ("POST", "/api/v1/waves/{number}/picking"): ("stock:write", RECORD),
    ("POST", "/api/v1/waves/{number}/picks"): ("stock:write", RECORD),
    ("GET", "/api/v1/carriers"): ("orders:read", NETWORK),
    ("GET", "/api/v1/carriers/{carrier}/pickup-points"): ("orders:read", NETWORK),
    ("GET", "/api/v1/pickup-points"): ("orders:read", NETWORK),
    ("POST", "/api/v1/carriers/{carrier}/events"): ("public", NETWORK),
    ("GET", "/api/v1/shipments/{shipment_id}/quotes"): ("orders:read", SHIPMENT),
    ("GET", "/api/v1/shipments/{shipment_id}/carrier-label"): ("orders:read", SHIPMENT),
    ("GET", "/api/v1/shipments/{shipment_id}/marketplace-sticker"): ("orders:read", SHIPMENT),
    ("POST", "/api/v1/shipments/{shipment_id}/booking"): ("stock:write", SHIPMENT),
    ("PUT", "/api/v1/shipments/{shipment_id}/planned-carrier"): ("stock:write", SHIPMENT),
    ("POST", "/api/v1/legal-entities"): ("catalogue:write", UNLIMITED),
    ("GET", "/api/v1/legal-entities"): ("catalogue:read", LISTED),
    ("GET", "/api/v1/legal-entities/{code}"): ("catalogue:read", RECORD),
    ("PUT", "/api/v1/legal-entities/{code}"): ("catalogue:write", UNLIMITED),
    ("PUT", "/api/v1/orders/{order_id}/buyer"): ("orders:manage", ORDER),
    ("POST", "/api/v1/orders/{order_id}/documents"): ("orders:manage", ORDER),
    ("GET", "/api/v1/documents"): ("orders:read", LISTED),
    ("GET", "/api/v1/documents/{document_id}"): ("orders:read", RECORD),
    ("GET", "/api/v1/documents/{document_id}/pdf"): ("orders:read", RECORD),
    ("GET", "/api/v1/documents/{document_id}/xml"): ("orders:read", RECORD),
    ("POST", "/api/v1/documents/{document_id}/corrections"): ("orders:manage", RECORD),
    ("GET", "/api/v1/health"): ("public", NETWORK),
    ("GET", "/api/v1/health/ready"): ("public", NETWORK),
    ("GET", "/openapi.json"): ("public", NETWORK),
    # the operator console's pages (they read; their changes go through the routes above)
    ("GET", "/"): ("orders:read", LISTED),
    ("GET", "/language/{language}"): ("public", NETWORK),
    ("GET", "/live"): ("signed-in", LISTED),
    ("GET", "/orders"): ("orders:read", LISTED),
    ("GET", "/reports"): ("orders:read", LISTED),
    ("GET", "/reports/forecast"): ("stock:read", LISTED),
    ("GET", "/reports/stock"): ("stock:read", LISTED),
    ("GET", "/stock/reorder"): ("stock:read", LISTED),
    ("GET", "/orders/{order_id}"): ("orders:read", ORDER),
    ("GET", "/returns"): ("orders:read", LISTED),
    ("GET", "/returns/{number}"): ("orders:read", RECORD),
    ("GET", "/shortages"): ("orders:read", LISTED),
    ("GET", "/tasks"): ("orders:read", UNLIMITED),
    ("GET", "/rules"): ("orders:read", UNLIMITED),
    ("GET", "/stock"): ("stock:read", LISTED),
    ("GET", "/floor"): ("stock:read", LISTED),
    ("GET", "/stock/transfers"): ("stock:read", LISTED),
    ("GET", "/stock/transfers/{number}"): ("stock:read", RECORD),
    ("GET", "/stock/purchase-orders"): ("stock:read", LISTED),
    ("GET", "/stock/purchase-orders/{number}"): ("stock:read", RECORD),
    ("GET", "/floor/waves/{number}"): ("stock:read", RECORD),
    ("GET", "/floor/shipments/{shipment_id}"): ("stock:read", SHIPMENT),
    ("GET", "/settings"): ("signed-in", NETWORK),
    ("GET", "/settings/warehouses"): ("catalogue:read", NETWORK),
    ("GET", "/settings/channels"): ("catalogue:read", LISTED),
    ("GET", "/settings/users"): ("users:manage", NETWORK),
    ("GET", "/settings/keys"): ("keys:manage", NETWORK),
    ("GET", "/settings/routing"): ("sourcing:read", UNLIMITED),
    ("GET", "/settings/tariffs"): ("sourcing:read", NETWORK),
    ("GET", "/settings/webhooks"): ("webhooks:manage", UNLIMITED),
    ("GET", "/settings/notifications"): ("orders:read", NETWORK),
    ("GET", "/settings/overdue"): ("orders:read", NETWORK),
}

# What each role holds, written out rather than read from the code under test: granting a
# role one permission more (or less) fails the matrix.
ROLES: dict[str, set[str]] = {
    "admin": {
        "orders:read",
        "orders:write",
        "orders:manage",
        "stock:read",
        "stock:write",
        "stock:approve",
        "catalogue:read",
        "catalogue:write",
        "sourcing:read",
        "sourcing:write",
        "personal_data:read",
        "customers:manage",
        "users:manage",
        "keys:manage",
        "audit:read",
        "events:read",
        "webhooks:manage",
        "events:manage",
        "metrics:read",
        "notifications:manage",
        "settings:manage",
        "erp:exchange",
    },
    "manager": {
        "orders:read",
        "orders:write",
        "orders:manage",
        "stock:read",
        "stock:write",
        "stock:approve",
        "catalogue:read",
        "catalogue:write",
        "sourcing:read",
        "sourcing:write",
        "personal_data:read",
        "customers:manage",
        "audit:read",
        "events:read",
        "webhooks:manage",
    },
    "operator": {
        "orders:read",
        "orders:write",
        "orders:manage",
        "stock:read",
        "catalogue:read",
        "sourcing:read",
        "personal_data:read",
    },
    "warehouse": {
        "orders:read",
        "stock:read",
        "stock:write",
        "catalogue:read",
        "personal_data:read",
    },
    "analyst": {"orders:read", "stock:read", "catalogue:read", "sourcing:read", "events:read"},
    "integration": {
        "orders:read",
        "orders:write",
        "stock:read",
        "stock:write",
        "catalogue:read",
        "events:read",
        "webhooks:manage",
        "erp:exchange",
    },
}

# Every scope an API key may carry: business, never administration.
KEY_SCOPES = {
    "orders:read",
    "orders:write",
    "orders:manage",
    "stock:read",
    "stock:write",
    "stock:approve",
    "catalogue:read",
    "catalogue:write",
    "sourcing:read",
    "sourcing:write",
    "personal_data:read",
    "events:read",
    "webhooks:manage",
    "metrics:read",
    "erp:exchange",
}

DOCUMENTATION = {"/docs", "/docs/oauth2-redirect", "/redoc", "/api/v1/openapi.json"}

# Reaches a route may declare for each path parameter that names something of a channel or
# a warehouse: a route with an order in its path that claimed to be network-wide fails.
MASTER_DATA = {("GET", "/api/v1/warehouses/{code}")}  # the network's own addresses: for all


def reaches_allowed(method: str, path: str, param: str) -> set[str] | None:
    """The reaches a route with ``param`` in its path may declare (None: not scoped)."""
    if param == "order_id":
        return {ORDER}
    if param == "shipment_id":
        return {SHIPMENT}
    if param == "channel" or (param == "code" and path.startswith("/api/v1/channels/")):
        return {CHANNEL, UNLIMITED}
    if param == "warehouse" or (param == "code" and path.startswith("/api/v1/warehouses/")):
        return {WAREHOUSE, UNLIMITED} | ({NETWORK} if (method, path) in MASTER_DATA else set())
    if param in ("number", "document_id", "alert_id", "run_id", "code", "receipt_id"):
        return {RECORD, UNLIMITED}
    if param in ("customer_id", "subscription_id", "rule_id", "task_id", "queue"):
        return {UNLIMITED}
    if param in ("hold_no", "parcel_no", "location_code"):
        return None  # inside an order, a shipment or a warehouse already scoped
    if param == "token":
        return None  # the unguessable token is the key to its one order
    if param in ("campaign", "shipment", "external_id"):
        return None  # the marketplace's, inside a connection already scoped (its code)
    if param in (
        "sku",
        "category",
        "username",
        "name",
        "carrier",
        "language",
        "topic",
        "kind",
        "stage",
    ):
        return None  # of the whole network
    pytest.fail(f"{method} {path}: new path parameter '{param}': say here what it reaches")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    requirement: Requirement | None
    reach: str | None


def app_of(live: LiveServer) -> FastAPI:
    """The live server's own application (no second one is built)."""
    app = live.server.config.app
    assert isinstance(app, FastAPI)
    return app


def routes(live: LiveServer) -> list[Route]:
    """Every route of the live server's application."""
    app = app_of(live)
    found = [
        Route(
            method,
            route.path,
            requirement_of(route.dependencies),
            None if (r := reach_of(route.dependencies)) is None else r.reach.value,
        )
        for route in api_routes(app.routes)
        for method in sorted(route.methods - {"HEAD"})
    ]
    assert len(found) > 40
    return found


def needed(requirement: Requirement) -> str:
    if requirement.public:
        return "public"
    if not requirement.permissions:
        return "signed-in"
    return " ".join(p.value for p in requirement.permissions)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_route_declares_who_may_call_it_and_what_it_reaches(live: LiveServer) -> None:
    declared = {}
    for route in routes(live):
        if route.requirement is None:
            assert route.path in DOCUMENTATION, f"{route.method} {route.path} declares no need"
            continue
        assert route.reach is not None, f"{route.method} {route.path} declares no reach"
        # a route that authorises inside itself has no caller yet when the reach is checked
        assert not route.requirement.inline or route.reach in (NETWORK, LISTED, NAMED), route
        declared[(route.method, route.path)] = (needed(route.requirement), route.reach)
    assert declared == EXPECTED
    for (method, path), (_, reach) in EXPECTED.items():
        for param in re.findall(r"\{(\w+)(?::path)?\}", path):
            allowed = reaches_allowed(method, path, param)
            assert allowed is None or reach in allowed, (method, path, reach, allowed)


# ---------------------------------------------------------------------- scope


CHANNEL_BOUND = "channel"  # a key bound to the channel 'web'
WAREHOUSE_BOUND = "warehouse"  # a warehouse user of MSK
BOTH = frozenset({CHANNEL_BOUND, WAREHOUSE_BOUND})
FOREIGN_CHANNEL = "zzshop"  # only ZZFAR serves it
FOREIGN_WAREHOUSE = "ZZFAR"
FOREIGN_CONNECTION = "zz-wb"  # zzshop's Wildberries account


@dataclass
class World:
    """Things of another channel and another warehouse than the limited callers', and the
    callers' own ones."""

    order: int = 0  # of zzshop, reserved at ZZFAR
    shipment: int = 0
    document: int = 0
    alert: int = 0
    run: int = 0
    customer: int = 0
    wave: str = ""
    transfer: str = ""  # ZZFAR -> KZN: of no channel
    ret: str = ""  # a return of a delivered zzshop order shipped from ZZFAR
    purchase: str = ""
    count: str = ""
    foreign_orders: tuple[int, ...] = ()  # every order of zzshop (at ZZFAR, or backordered)
    own_order: int = 0  # of web, reserved at MSK
    own_shipment: int = 0


def value(world: World, path: str, param: str, *, own: bool = False) -> tuple[str, frozenset[str]]:
    """What stands for ``param`` in ``path``, and to whom of the limited callers it is foreign."""
    none: frozenset[str] = frozenset()
    if own:
        mine = {
            "order_id": str(world.own_order),
            "shipment_id": str(world.own_shipment),
            "channel": "web",
            "warehouse": "MSK",
        }
        if param == "code" and path.startswith("/api/v1/channels/"):
            return "web", none
        if param == "code" and path.startswith("/api/v1/warehouses/"):
            return "MSK", none
        if param in mine:
            return mine[param], none
    by_prefix = {
        ("code", "/api/v1/channels/"): (FOREIGN_CHANNEL, frozenset({CHANNEL_BOUND})),
        ("code", "/api/v1/warehouses/"): (FOREIGN_WAREHOUSE, frozenset({WAREHOUSE_BOUND})),
        ("code", "/api/v1/legal-entities/"): (BUYER["code"], BOTH),
        ("code", "/api/v1/notification-switches/"): ("order_accepted", BOTH),
        ("number", "/api/v1/transfers/"): (world.transfer, frozenset({WAREHOUSE_BOUND})),
        ("number", "/api/v1/returns/"): (world.ret, BOTH),
        ("number", "/api/v1/purchase-orders/"): (world.purchase, frozenset({WAREHOUSE_BOUND})),
        ("number", "/api/v1/stock/counts/"): (world.count, frozenset({WAREHOUSE_BOUND})),
        ("number", "/api/v1/waves/"): (world.wave, BOTH),
        ("number", "/floor/waves/"): (world.wave, BOTH),
        ("code", "/api/v1/marketplaces/"): (FOREIGN_CONNECTION, frozenset({CHANNEL_BOUND})),
        ("number", "/stock/transfers/"): (world.transfer, frozenset({WAREHOUSE_BOUND})),
        ("number", "/returns/"): (world.ret, BOTH),
        ("number", "/stock/purchase-orders/"): (world.purchase, frozenset({WAREHOUSE_BOUND})),
    }
    for (name, prefix), found in by_prefix.items():
        if name == param and path.startswith(prefix):
            return found
    plain = {
        "order_id": (str(world.order), BOTH),
        "shipment_id": (str(world.shipment), BOTH),
        "document_id": (str(world.document), BOTH),
        "alert_id": (str(world.alert), BOTH),
        "run_id": (str(world.run), BOTH),
        "customer_id": (str(world.customer), BOTH),
        "subscription_id": ("999999", BOTH),
        "rule_id": ("999999", BOTH),
        "task_id": ("999999", BOTH),
        "receipt_id": ("999999", BOTH),
        "queue": ("nope", BOTH),
        "channel": (FOREIGN_CHANNEL, frozenset({CHANNEL_BOUND})),
        "warehouse": (FOREIGN_WAREHOUSE, frozenset({WAREHOUSE_BOUND})),
        "hold_no": ("1", none),
        "parcel_no": ("1", none),
        "sku": ("TOY", none),
        "category": ("nope", none),
        "location_code": ("ZZ-01", none),
        "username": ("nobody", none),
        "name": ("nokey", none),
        "carrier": ("sandbox", none),
        "language": ("ru", none),
        "topic": ("order_accepted", none),
        "stage": ("packed", none),
        "kind": ("topic", none),
        "token": ("no-such-tracking-token-0000000000", none),
        "campaign": ("21000001", none),  # Yandex Market's campaign of a connection
        "shipment": ("900101", none),  # Market's first-mile shipment
        "external_id": ("70000000000000001", none),  # a marketplace's order number
    }
    if param not in plain:
        pytest.fail(f"{path}: new path parameter '{param}': say here what stands for it")
    return plain[param]


def fill(world: World, path: str, *, own: bool = False) -> tuple[str, frozenset[str]]:
    """The URL of ``path`` with another's ids (or the caller's own), and whom it is foreign to."""
    foreign: set[str] = set()

    def one(match: re.Match[str]) -> str:
        found, to = value(world, path, match.group(1), own=own)
        foreign.update(to)
        return found

    return re.sub(r"\{(\w+)(?::path)?\}", one, path), frozenset(foreign)


# A change naming another's channel or warehouse in its body must be refused (403 or 404);
# every route declared `named` has one here, so a new one cannot go untried.
NAMED_BODIES: dict[tuple[str, str], tuple[str, dict[str, Any] | str]] = {
    ("PUT", "/api/v1/files/store-receipts"): (  # a CSV file, not JSON
        WAREHOUSE_BOUND,
        f"store,receipt,sku,quantity,price\n{FOREIGN_WAREHOUSE},R-1,TOY,1,1.00\n",
    ),
    ("PUT", "/api/v1/files/orders"): (  # a CSV file, not JSON
        CHANNEL_BOUND,
        f"channel,external_id,sku,quantity,city,address\n{FOREIGN_CHANNEL},zz-file,TOY,1,Выборг,"
        "Ленина 1\n",
    ),
    ("PUT", "/api/v1/files/stock-levels"): (  # a CSV file, not JSON
        WAREHOUSE_BOUND,
        f"warehouse,sku,on_hand\n{FOREIGN_WAREHOUSE},TOY,3\n",
    ),
    ("PUT", "/api/v1/files/stock-rules"): (  # a CSV file, not JSON
        WAREHOUSE_BOUND,
        f"warehouse,sku,min,max\n{FOREIGN_WAREHOUSE},TOY,1,5\n",
    ),
    ("POST", "/api/v1/marketplaces"): (
        CHANNEL_BOUND,
        {"code": "zz-mine", "marketplace": "wildberries", "channel": FOREIGN_CHANNEL, "token": "t"},
    ),
    ("POST", "/api/v1/orders"): (
        CHANNEL_BOUND,
        order_body([("TOY", 1)], channel=FOREIGN_CHANNEL, to=VYBORG, external_id="zz-mine"),
    ),
    ("POST", "/api/v1/sourcing/replans"): (
        CHANNEL_BOUND,
        {"channel": FOREIGN_CHANNEL, "apply": False},
    ),
    ("POST", "/api/v1/stock/receipts"): (
        WAREHOUSE_BOUND,
        {"warehouse": FOREIGN_WAREHOUSE, "sku": "TOY", "quantity": 1},
    ),
    ("POST", "/api/v1/stock/write-offs"): (
        WAREHOUSE_BOUND,
        {"warehouse": FOREIGN_WAREHOUSE, "sku": "TOY", "quantity": 1, "reason": "lost"},
    ),
    ("POST", "/api/v1/stock/counts"): (
        WAREHOUSE_BOUND,
        {"warehouse": FOREIGN_WAREHOUSE, "sku": "TOY", "expected_on_hand": 10, "counted": 9},
    ),
    ("PUT", "/api/v1/stock/levels"): (
        WAREHOUSE_BOUND,
        {"rows": [{"warehouse": FOREIGN_WAREHOUSE, "sku": "TOY", "on_hand": 3}]},
    ),
    ("POST", "/api/v1/stock/placements"): (
        WAREHOUSE_BOUND,
        {"warehouse": FOREIGN_WAREHOUSE, "sku": "TOY", "location": "ZZ-01"},
    ),
    ("POST", "/api/v1/stock/moves"): (
        WAREHOUSE_BOUND,
        {
            "warehouse": FOREIGN_WAREHOUSE,
            "sku": "TOY",
            "quantity": 1,
            "to": "unavailable",
            "reason": "damaged",
        },
    ),
    ("POST", "/api/v1/transfers"): (
        WAREHOUSE_BOUND,
        {
            "from_warehouse": FOREIGN_WAREHOUSE,
            "to_warehouse": "KZN",
            "lines": [{"sku": "TOY", "quantity": 1}],
        },
    ),
    ("POST", "/api/v1/purchase-orders"): (
        WAREHOUSE_BOUND,
        {
            "supplier": "ООО Игрушки",
            "warehouse": FOREIGN_WAREHOUSE,
            "lines": [{"sku": "TOY", "quantity": 5}],
        },
    ),
    ("POST", "/api/v1/waves"): (WAREHOUSE_BOUND, {"warehouse": FOREIGN_WAREHOUSE}),
    ("POST", "/api/v1/forecasts/latest/purchase-orders"): (
        WAREHOUSE_BOUND,
        {"supplier": "ООО Игрушки", "warehouse": FOREIGN_WAREHOUSE},
    ),
    ("POST", "/api/v1/forecasts/latest/transfers"): (
        WAREHOUSE_BOUND,
        {"warehouse": "KZN", "from_warehouse": FOREIGN_WAREHOUSE},
    ),
}


@dataclass
class Limited:
    """A caller limited to one channel or to some warehouses."""

    bound: str  # CHANNEL_BOUND or WAREHOUSE_BOUND
    holds: set[str]
    send: Callable[..., httpx.Response]
    markers: tuple[str, ...]  # what no answer of a list may show them (patterns)
    wrong: list[str] = field(default_factory=list)

    def permitted(self, needs: str) -> bool:
        return needs in ("public", "signed-in") or set(needs.split()) <= self.holds


def ok(answer: httpx.Response, what: str) -> dict[str, Any]:
    assert answer.status_code in (200, 201), f"{what}: {answer.status_code} {answer.text}"
    found: Any = answer.json()
    return found[0] if isinstance(found, list) else found


def build_foreign_world(live: LiveServer, admin: httpx.Client) -> World:
    """The callers' own order at MSK, and at ZZFAR (which serves zzshop only) an order of
    zzshop with a shipment, a hold, a document, a backordered order's alert, an order on a
    wave, a transfer, a purchase order, a count, a bin, a min/max rule and a re-plan run."""
    from potok.domain.channels import ChannelDraft, ChannelType
    from potok.domain.inventory.commands import ReceiveStock
    from potok.domain.network import WarehouseDraft, WarehouseType
    from potok.services import catalogue, inventory
    from tests.factories import TESTER

    build_world(live.potok, {("MSK", "KET"): 10})
    catalogue.create_channel(
        live.potok.uow(), ChannelDraft(FOREIGN_CHANNEL, "Elsewhere", ChannelType.WEB)
    )
    catalogue.create_warehouse(
        live.potok.uow(),
        WarehouseDraft(
            FOREIGN_WAREHOUSE,
            "Far DC",
            WarehouseType.WAREHOUSE,
            "Выборг",
            60.71,
            28.75,
            channels=(FOREIGN_CHANNEL,),
        ),
    )
    for sku, quantity in (("TOY", 10), ("MUG", 1)):
        inventory.receive_stock(
            live.potok.uow(), ReceiveStock(FOREIGN_WAREHOUSE, sku, quantity), TESTER
        )
    world = World()

    def order(channel: str, sku: str, external_id: str) -> dict[str, Any]:
        body = order_body([(sku, 1)], channel=channel, to=VYBORG, external_id=external_id)
        return ok(admin.post("/api/v1/orders", json=body), f"order {external_id}")

    foreign = order(FOREIGN_CHANNEL, "TOY", "zz-foreign-1")
    world.order, world.customer = foreign["id"], foreign["customer"]["id"]
    backordered = order(FOREIGN_CHANNEL, "MUG", "zz-foreign-2")
    waved = order(FOREIGN_CHANNEL, "TOY", "zz-foreign-3")
    world.own_order = order("web", "KET", "own-1")["id"]
    from tests.integration.test_returns import T0, Clock, _handed_over

    returned, _, _ = _handed_over(
        live.potok,
        [("TOY", 1)],
        Clock(T0),
        warehouse=FOREIGN_WAREHOUSE,
        channel=FOREIGN_CHANNEL,
        to=VYBORG,
        external_id="zz-foreign-4",
    )
    world.foreign_orders = (foreign["id"], backordered["id"], waved["id"], returned)
    world.ret = ok(
        admin.post(
            f"/api/v1/orders/{returned}/returns",
            json={"lines": [{"line_no": 1, "quantity": 1, "reason": "defective"}]},
        ),
        "return",
    )["number"]
    url = f"/api/v1/orders/{world.order}"
    world.shipment = ok(
        admin.post(f"{url}/shipments", json={"warehouse": FOREIGN_WAREHOUSE}), "shipment"
    )["id"]
    world.own_shipment = ok(
        admin.post(f"/api/v1/orders/{world.own_order}/shipments", json={"warehouse": "MSK"}),
        "own shipment",
    )["id"]
    for entity in (SELLER, BUYER):
        ok(admin.post("/api/v1/legal-entities", json=entity), "legal entity")
    world.document = ok(admin.post(f"{url}/documents", json={"kind": "invoice"}), "document")["id"]
    ok(admin.post(f"{url}/holds", json={"type": "manual", "reason": "check"}), "hold")
    ok(
        admin.post(
            f"/api/v1/orders/{backordered['id']}/shortages",
            json={"warehouse": FOREIGN_WAREHOUSE, "sku": "MUG", "missing": 1},
        ),
        "shortage",
    )
    alerts = ok(admin.get("/api/v1/alerts"), "alerts")["items"]
    world.alert = next(a["id"] for a in alerts if a["order_id"] == backordered["id"])
    world.wave = ok(
        admin.post("/api/v1/waves", json={"warehouse": FOREIGN_WAREHOUSE, "orders": [waved["id"]]}),
        "wave",
    )["number"]
    world.transfer = ok(
        admin.post("/api/v1/transfers", json=NAMED_BODIES[("POST", "/api/v1/transfers")][1]),
        "transfer",
    )["number"]
    world.purchase = ok(
        admin.post(
            "/api/v1/purchase-orders", json=NAMED_BODIES[("POST", "/api/v1/purchase-orders")][1]
        ),
        "purchase order",
    )["number"]
    for warehouse in (FOREIGN_WAREHOUSE, "MSK"):  # the same bin and rule at theirs and ours
        bins = f"/api/v1/warehouses/{warehouse}/locations"
        ok(admin.post(bins, json={"code": "ZZ-01"}), "bin")
        ok(admin.put(f"/api/v1/stock/rules/{warehouse}/TOY", json={"min": 1, "max": 5}), "rule")
    world.count = ok(admin.post("/api/v1/warehouses/ZZFAR/counts", json={}), "count")["number"]
    connection = {
        "code": FOREIGN_CONNECTION,
        "marketplace": "wildberries",
        "channel": FOREIGN_CHANNEL,
        "token": "zz-token",
        "base_url": "http://127.0.0.1:9",  # never called: the poll is refused before
    }
    ok(admin.post("/api/v1/marketplaces", json=connection), "marketplace connection")
    world.run = ok(
        admin.post(
            "/api/v1/sourcing/replans",
            json={"channel": FOREIGN_CHANNEL, "warehouse": FOREIGN_WAREHOUSE, "apply": False},
        ),
        "re-plan",
    )["id"]
    return world


# Lists whose page names every warehouse of the network on purpose (master data, as `GET
# /api/v1/warehouses` does): there another's warehouse code is no leak, its orders still are.
WAREHOUSES_NAMED = {("GET", "/stock/transfers"): "a new transfer may go to any warehouse"}


def foreign_filters(world: World) -> dict[str, str | int]:
    """Filters a list might take, naming another's channel, warehouse and order."""
    return {"channel": FOREIGN_CHANNEL, "warehouse": FOREIGN_WAREHOUSE, "order_id": world.order}


def markers(world: World, *names: str) -> tuple[str, ...]:
    """What of another's no list may show: their names, and their orders' numbers."""
    numbers = tuple(rf'"order_id": ?{n}\b' for n in world.foreign_orders)
    return (*(re.escape(n) for n in names), "zz-foreign", re.escape(BUYER["code"]), *numbers)


SCOPED_IN_PATH = {ORDER, SHIPMENT, CHANNEL, WAREHOUSE, RECORD}


def check_scope(caller: Limited, world: World, method: str, path: str) -> None:
    """One route as one limited caller, with another's ids, then (where the path names
    something of theirs) with the caller's own."""
    needs, reach = EXPECTED[(method, path)]
    url, foreign = fill(world, path)
    named = NAMED_BODIES.get((method, path))
    body: dict[str, Any] | str | None = {} if method in ("POST", "PUT", "PATCH") else None
    if named is not None and named[0] == caller.bound:
        body = named[1]
    if isinstance(body, str):
        answer = caller.send(method, url, content=body, headers={"Content-Type": "text/csv"})
    else:
        answer = caller.send(method, url, json=body)
    status, seen = answer.status_code, f"{caller.bound}-bound {method} {url}"
    if status >= 500:
        caller.wrong.append(f"{seen}: {status} {answer.text[:200]}")
    elif not caller.permitted(needs):
        if status != 403:
            caller.wrong.append(f"{seen}: {status}, wanted 403 (it needs {needs})")
    elif reach == UNLIMITED or (reach in SCOPED_IN_PATH and caller.bound in foreign):
        if status != 404:
            caller.wrong.append(f"{seen}: {status}, wanted 404 ({reach}) {answer.text[:200]}")
    elif reach == LISTED and method == "GET":
        # console pages echo their filters back in links: there the filters are not tried
        for params in ({}, foreign_filters(world)) if path.startswith("/api/") else ({},):
            listed = caller.send(method, url, params=params)
            shown = [m for m in caller.markers if re.search(m, listed.text)]
            if (method, path) in WAREHOUSES_NAMED:
                shown = [m for m in shown if m != re.escape(FOREIGN_WAREHOUSE)]
            if listed.status_code != 200 or shown:
                caller.wrong.append(f"{seen} {params}: {listed.status_code}, shows {shown}")
    elif named is not None and named[0] == caller.bound and status not in (403, 404):
        caller.wrong.append(f"{seen}: {status}, wanted 403 or 404 {answer.text[:200]}")
    if method == "GET" and reach in SCOPED_IN_PATH and caller.permitted(needs):
        mine, _ = fill(world, path, own=True)
        if mine != url:
            own = caller.send(method, mine)
            if own.status_code == 404 or own.status_code >= 500:
                caller.wrong.append(f"{caller.bound}-bound GET {mine} (its own): {own.status_code}")


def test_limited_callers_reach_nothing_of_another_channel_or_warehouse(
    live: LiveServer, api: httpx.Client
) -> None:
    world = build_foreign_world(live, api)
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("MSK",))
    picker: Session = sign_in(live.url, "picker")
    shop = live.client(
        headers={"Authorization": f"Bearer {key_for(live.potok, channel='web', name='shop')}"}
    )
    callers = [
        Limited(WAREHOUSE_BOUND, ROLES["warehouse"], picker.request, markers(world, "ZZFAR")),
        Limited(CHANNEL_BOUND, KEY_SCOPES, shop.request, markers(world, FOREIGN_CHANNEL)),
    ]
    table = routes(live)
    assert {(m, p) for (m, p), (_, r) in EXPECTED.items() if r == NAMED} == set(NAMED_BODIES)
    checked = 0
    for caller in callers:  # the warehouse user first: the key may change ZZFAR's things
        for route in table:
            if route.requirement is None or (route.method, route.path) == (
                "DELETE",
                "/api/v1/session",
            ):
                continue
            check_scope(caller, world, route.method, route.path)
            checked += 1
    shop.close()
    picker.client.close()
    wrong = [w for c in callers for w in c.wrong]
    assert not wrong, "\n".join(wrong)
    assert checked > 250


# ---------------------------------------------------------------------- roles and keys

PLACEHOLDERS = {
    "order_id": "999999",
    "customer_id": "999999",
    "hold_no": "1",
    "alert_id": "999999",
    "sku": "NOPE",
    "category": "NOPE",
    "code": "NOPE",
    "username": "nobody",
    "name": "nokey",
    "number": "NOPE",
    "location_code": "NOPE",
    "channel": "NOPE",
    "run_id": "999999",
    "shipment_id": "999999",
    "carrier": "NOPE",
    "parcel_no": "1",
    "document_id": "999999",
    "subscription_id": "999999",
    "rule_id": "999999",
    "task_id": "999999",
    "receipt_id": "999999",
    "queue": "NOPE",
    "warehouse": "MSK",  # the warehouse user's own: the scope test tries another's
    "language": "ru",
    "topic": "order_accepted",
    "stage": "packed",
    "kind": "topic",
    "token": "NOPE",
    "campaign": "21000001",
    "shipment": "900101",
    "external_id": "70000000000000001",
}

# API keys as callers: one with every scope a key may hold, bound to the channel 'web', and
# one with a single scope.
KEYS: dict[str, tuple[set[str], str | None]] = {
    "web-shop": (KEY_SCOPES, "web"),
    "orders-reader": ({"orders:read"}, None),
}

# `/settings` sends a caller to the first tab it may open; with none, it is refused.
ANY_OF = {
    ("GET", "/settings"): {
        "catalogue:read",
        "users:manage",
        "keys:manage",
        "sourcing:read",
        "webhooks:manage",
        "orders:read",  # the message templates
    },
}

# Routes outside FastAPI's route list (plain routes and mounts): what each is and an address
# to try. All are public, and each must answer.
PLAIN: dict[str, tuple[str, str]] = {
    "/api/v1/openapi.json": ("Route", "/api/v1/openapi.json"),
    "/static": ("Mount", "/static/console.css"),
    "/static-offline-docs": ("Mount", "/static-offline-docs/swagger-ui.css"),
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: PLACEHOLDERS[m.group(1)], path)


def test_the_written_out_roles_are_every_role_there_is() -> None:
    assert set(ROLES) == {role.value for role in Role}


def test_every_route_answers_every_role_and_key_as_the_matrix_says(live: LiveServer) -> None:
    build_world(live.potok)
    callers: dict[str, tuple[set[str], Callable[..., httpx.Response]]] = {}
    for role in Role:
        make_user(
            live.potok, role.value, role, warehouses=("MSK",) if role is Role.WAREHOUSE else ()
        )
        callers[role.value] = (ROLES[role.value], sign_in(live.url, role.value).request)
    clients = []
    for name, (scopes, channel) in KEYS.items():
        secret = key_for(
            live.potok, *(Permission(s) for s in sorted(scopes)), channel=channel, name=name
        )
        client = live.client(headers={"Authorization": f"Bearer {secret}"})
        clients.append(client)
        callers[f"key {name}"] = (scopes, client.request)
    anonymous = live.client()
    checked = 0
    wrong: list[str] = []
    for route in routes(live):
        if route.requirement is None:
            continue
        url = concrete(route.path)
        method, wanted = route.method, EXPECTED[(route.method, route.path)][0]
        body = {} if method in {"POST", "PUT", "PATCH"} else None
        answer = anonymous.request(method, url, json=body)
        if answer.status_code >= 500:
            wrong.append(f"anonymous {method} {route.path}: {answer.status_code}")
        elif wanted == "public":
            if answer.status_code in (401, 403):
                wrong.append(
                    f"anonymous {method} {route.path}: {answer.status_code} on a public route"
                )
        elif answer.status_code != 401:
            wrong.append(f"anonymous {method} {route.path}: {answer.status_code}, wanted 401")
        for name, (holds, send) in callers.items():
            if (method, route.path) == ("DELETE", "/api/v1/session"):
                continue  # signing out would end the session the rest of the test uses
            answer = send(method, url, json=body)
            allowed = wanted in ("public", "signed-in") or set(wanted.split()) <= holds
            if (method, route.path) in ANY_OF:
                allowed = bool(ANY_OF[(method, route.path)] & holds)
            status = answer.status_code
            if status >= 500:
                wrong.append(f"{name} {method} {route.path}: {status} {answer.text[:200]}")
            elif allowed and status in (401, 403):
                wrong.append(f"{name} {method} {route.path}: {status}, allowed by the matrix")
            elif not allowed and status != 403:
                wrong.append(f"{name} {method} {route.path}: {status}, wanted 403 ({wanted})")
            checked += 1
    for client in (*clients, anonymous):
        client.close()
    assert not wrong, "\n".join(wrong)
    assert checked > 1000


@pytest.mark.parametrize("backend", ["sqlite"])
def test_routes_outside_the_route_list_are_known_and_answer(live: LiveServer) -> None:
    plain = {
        route.path: type(route).__name__
        for route in app_of(live).routes
        if not isinstance(route, APIRoute) and getattr(route, "original_router", None) is None
    }
    assert plain == {path: kind for path, (kind, _) in PLAIN.items()}
    addresses = [address for _, address in PLAIN.values()]
    with live.client() as anonymous:
        for path in (*addresses, *sorted(DOCUMENTATION - {"/docs/oauth2-redirect"})):
            answer = anonymous.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
