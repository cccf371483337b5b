"""Every route, called as every role and as nobody, answers as the permission matrix says.

The routes are read from the application's route table, so a new route cannot slip
through: one without a declared requirement fails the first test, and every declared
requirement is exercised by the second.
"""

from __future__ import annotations

import re

import httpx
import pytest

from potok.api.app import api_routes, create_app
from potok.api.security import Requirement, requirement_of
from potok.domain.access import ROLE_PERMISSIONS, Permission, Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import build_world

# What each route needs, written out independently of the routes' own declarations: a new
# route, or a changed requirement, fails until this table says so too.
EXPECTED: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/session"): "public",
    ("DELETE", "/api/v1/session"): "signed-in",
    ("GET", "/api/v1/me"): "signed-in",
    ("POST", "/api/v1/me/password"): "signed-in",
    ("GET", "/api/v1/users"): "users:manage",
    ("POST", "/api/v1/users"): "users:manage",
    ("GET", "/api/v1/users/{username}"): "users:manage",
    ("PATCH", "/api/v1/users/{username}"): "users:manage",
    ("POST", "/api/v1/users/{username}/password-reset"): "users:manage",
    ("GET", "/api/v1/api-keys"): "keys:manage",
    ("POST", "/api/v1/api-keys"): "keys:manage",
    ("DELETE", "/api/v1/api-keys/{name}"): "keys:manage",
    ("GET", "/api/v1/audit"): "audit:read",
    ("POST", "/api/v1/orders"): "orders:write",
    ("GET", "/api/v1/orders"): "orders:read",
    ("GET", "/api/v1/orders/{order_id}"): "orders:read",
    ("POST", "/api/v1/orders/{order_id}/confirmation"): "orders:manage",
    ("POST", "/api/v1/orders/{order_id}/cancellation"): "orders:manage",
    ("POST", "/api/v1/orders/{order_id}/holds"): "orders:manage",
    ("POST", "/api/v1/orders/{order_id}/holds/{hold_no}/release"): "orders:manage",
    ("POST", "/api/v1/orders/{order_id}/payment"): "orders:manage",
    ("GET", "/api/v1/customers/{customer_id}"): "personal_data:read",
    ("GET", "/api/v1/customers/{customer_id}/export"): "customers:manage",
    ("POST", "/api/v1/customers/{customer_id}/anonymisation"): "customers:manage",
    ("PUT", "/api/v1/files/stock-levels"): "stock:write",
    ("GET", "/api/v1/files/stock-levels"): "stock:read",
    ("PUT", "/api/v1/files/products"): "catalogue:write",
    ("GET", "/api/v1/files/orders"): "orders:read",
    ("GET", "/api/v1/files/movements"): "stock:read",
    ("PUT", "/api/v1/files/stock-rules"): "stock:write",
    ("GET", "/api/v1/files/stock-rules"): "stock:read",
    ("GET", "/api/v1/files/products"): "catalogue:read",
    ("POST", "/api/v1/products"): "catalogue:write",
    ("GET", "/api/v1/products"): "catalogue:read",
    ("GET", "/api/v1/products/{sku}"): "catalogue:read",
    ("PUT", "/api/v1/products/{sku}"): "catalogue:write",
    ("PATCH", "/api/v1/products/{sku}"): "catalogue:write",
    ("DELETE", "/api/v1/products/{sku}"): "catalogue:write",
    ("POST", "/api/v1/channels"): "catalogue:write",
    ("GET", "/api/v1/channels"): "catalogue:read",
    ("GET", "/api/v1/channels/{code}"): "catalogue:read",
    ("PUT", "/api/v1/channels/{code}"): "catalogue:write",
    ("PATCH", "/api/v1/channels/{code}"): "catalogue:write",
    ("DELETE", "/api/v1/channels/{code}"): "catalogue:write",
    ("POST", "/api/v1/warehouses"): "catalogue:write",
    ("GET", "/api/v1/warehouses"): "catalogue:read",
    ("GET", "/api/v1/warehouses/{code}"): "catalogue:read",
    ("PUT", "/api/v1/warehouses/{code}"): "catalogue:write",
    ("PATCH", "/api/v1/warehouses/{code}"): "catalogue:write",
    ("DELETE", "/api/v1/warehouses/{code}"): "catalogue:write",
    ("POST", "/api/v1/stock/receipts"): "stock:write",
    ("POST", "/api/v1/stock/write-offs"): "stock:write",
    ("POST", "/api/v1/stock/counts"): "stock:write",
    ("PUT", "/api/v1/stock/levels"): "stock:write",
    ("GET", "/api/v1/stock/levels"): "stock:read",
    ("GET", "/api/v1/stock/movements"): "stock:read",
    ("GET", "/api/v1/stock/reconciliation"): "stock:read",
    ("GET", "/api/v1/stock/expiring"): "stock:read",
    ("GET", "/api/v1/products/{sku}/availability"): "stock:read",
    ("GET", "/api/v1/channels/{code}/availability"): "stock:read",
    ("PUT", "/api/v1/stock/rules/{warehouse}/{sku}"): "stock:write",
    ("GET", "/api/v1/stock/rules/{warehouse}/{sku}"): "stock:read",
    ("DELETE", "/api/v1/stock/rules/{warehouse}/{sku}"): "stock:write",
    ("GET", "/api/v1/stock/rules"): "stock:read",
    ("GET", "/api/v1/stock/replenishment"): "stock:read",
    ("POST", "/api/v1/stock/moves"): "stock:write",
    ("POST", "/api/v1/stock/placements"): "stock:write",
    ("GET", "/api/v1/warehouses/{code}/locations"): "stock:read",
    ("POST", "/api/v1/warehouses/{code}/locations"): "stock:write",
    ("GET", "/api/v1/warehouses/{code}/locations/{location_code}"): "stock:read",
    ("PATCH", "/api/v1/warehouses/{code}/locations/{location_code}"): "stock:write",
    ("DELETE", "/api/v1/warehouses/{code}/locations/{location_code}"): "stock:write",
    ("GET", "/api/v1/orders/{order_id}/pick-list"): "stock:read",
    ("POST", "/api/v1/warehouses/{code}/counts"): "stock:write",
    ("GET", "/api/v1/stock/counts"): "stock:read",
    ("GET", "/api/v1/stock/counts/{number}"): "stock:read",
    ("POST", "/api/v1/stock/counts/{number}/entries"): "stock:write",
    ("POST", "/api/v1/stock/counts/{number}/submission"): "stock:write",
    ("POST", "/api/v1/stock/counts/{number}/approval"): "stock:approve",
    ("POST", "/api/v1/stock/counts/{number}/cancellation"): "stock:write",
    ("POST", "/api/v1/transfers"): "stock:write",
    ("GET", "/api/v1/transfers"): "stock:read",
    ("GET", "/api/v1/transfers/{number}"): "stock:read",
    ("POST", "/api/v1/transfers/{number}/ship"): "stock:write",
    ("POST", "/api/v1/transfers/{number}/receive"): "stock:write",
    ("POST", "/api/v1/transfers/{number}/cancel"): "stock:write",
    ("POST", "/api/v1/purchase-orders"): "stock:write",
    ("GET", "/api/v1/purchase-orders"): "stock:read",
    ("GET", "/api/v1/purchase-orders/{number}"): "stock:read",
    ("POST", "/api/v1/purchase-orders/{number}/receive"): "stock:write",
    ("POST", "/api/v1/purchase-orders/{number}/cancel"): "stock:write",
    ("GET", "/api/v1/stock/incoming"): "stock:read",
    ("PUT", "/api/v1/sourcing/tariffs"): "sourcing:write",
    ("GET", "/api/v1/sourcing/tariffs"): "sourcing:read",
    ("PUT", "/api/v1/sourcing/rules/{channel}"): "sourcing:write",
    ("GET", "/api/v1/sourcing/rules/{channel}"): "sourcing:read",
    ("GET", "/api/v1/sourcing/rules/{channel}/versions"): "sourcing:read",
    ("GET", "/api/v1/orders/{order_id}/sourcing"): "sourcing:read",
    ("POST", "/api/v1/orders/{order_id}/shortages"): "stock:write",
    ("GET", "/api/v1/alerts"): "orders:read",
    ("POST", "/api/v1/alerts/{alert_id}/acknowledgement"): "orders:manage",
    ("POST", "/api/v1/sourcing/replans"): "sourcing:write",
    ("GET", "/api/v1/sourcing/replans"): "sourcing:read",
    ("GET", "/api/v1/sourcing/replans/{run_id}"): "sourcing:read",
    ("GET", "/api/v1/shipments"): "orders:read",
    ("GET", "/api/v1/shipments/{shipment_id}"): "orders:read",
    ("GET", "/api/v1/orders/{order_id}/shipments"): "orders:read",
    ("POST", "/api/v1/orders/{order_id}/shipments"): "stock:write",
    ("GET", "/api/v1/shipments/{shipment_id}/pick-list"): "stock:read",
    ("GET", "/api/v1/shipments/{shipment_id}/pick-list/pdf"): "stock:read",
    ("GET", "/api/v1/shipments/{shipment_id}/packing-slip/pdf"): "stock:read personal_data:read",
    ("POST", "/api/v1/shipments/{shipment_id}/picking"): "stock:write",
    ("POST", "/api/v1/shipments/{shipment_id}/picks"): "stock:write",
    ("POST", "/api/v1/shipments/{shipment_id}/shortages"): "stock:write",
    ("POST", "/api/v1/shipments/{shipment_id}/parcels"): "stock:write",
    ("DELETE", "/api/v1/shipments/{shipment_id}/parcels/{parcel_no}"): "stock:write",
    ("POST", "/api/v1/shipments/{shipment_id}/handover"): "stock:write",
    ("POST", "/api/v1/waves"): "stock:write",
    ("GET", "/api/v1/waves"): "stock:read",
    ("GET", "/api/v1/waves/{number}"): "stock:read",
    ("POST", "/api/v1/waves/{number}/picking"): "stock:write",
    ("POST", "/api/v1/waves/{number}/picks"): "stock:write",
    ("PATCH", "/api/v1/orders/{order_id}"): "orders:manage",
    ("POST", "/api/v1/orders/{order_id}/line-cancellations"): "orders:manage",
    ("POST", "/api/v1/shipments/{shipment_id}/cancellation"): "orders:manage",
    ("GET", "/api/v1/carriers"): "orders:read",
    ("GET", "/api/v1/carriers/{carrier}/pickup-points"): "orders:read",
    ("POST", "/api/v1/carriers/{carrier}/events"): "public",
    ("GET", "/api/v1/shipments/{shipment_id}/quotes"): "orders:read",
    ("POST", "/api/v1/shipments/{shipment_id}/booking"): "stock:write",
    ("POST", "/api/v1/legal-entities"): "catalogue:write",
    ("GET", "/api/v1/legal-entities"): "catalogue:read",
    ("GET", "/api/v1/legal-entities/{code}"): "catalogue:read",
    ("PUT", "/api/v1/legal-entities/{code}"): "catalogue:write",
    ("PUT", "/api/v1/orders/{order_id}/buyer"): "orders:manage",
    ("POST", "/api/v1/orders/{order_id}/documents"): "orders:manage",
    ("GET", "/api/v1/documents"): "orders:read",
    ("GET", "/api/v1/documents/{document_id}"): "orders:read",
    ("GET", "/api/v1/documents/{document_id}/pdf"): "orders:read",
    ("GET", "/api/v1/documents/{document_id}/xml"): "orders:read",
    ("POST", "/api/v1/documents/{document_id}/corrections"): "orders:manage",
    ("GET", "/api/v1/health"): "public",
    # the operator console's pages (they read; their changes go through the routes above)
    ("GET", "/"): "orders:read",
    ("GET", "/language/{language}"): "public",
    ("GET", "/orders"): "orders:read",
    ("GET", "/orders/{order_id}"): "orders:read",
    ("GET", "/stock"): "stock:read",
    ("GET", "/floor"): "stock:read",
    ("GET", "/floor/waves/{number}"): "stock:read",
    ("GET", "/floor/shipments/{shipment_id}"): "stock:read",
    ("GET", "/settings"): "signed-in",
    ("GET", "/settings/warehouses"): "catalogue:read",
    ("GET", "/settings/channels"): "catalogue:read",
    ("GET", "/settings/users"): "users:manage",
    ("GET", "/settings/keys"): "keys:manage",
    ("GET", "/settings/routing"): "sourcing:read",
    ("GET", "/settings/tariffs"): "sourcing:read",
    ("GET", "/openapi.json"): "public",
}


DOCUMENTATION = {"/docs", "/docs/oauth2-redirect", "/redoc", "/api/v1/openapi.json"}
PLACEHOLDERS = {
    "order_id": "999999",
    "customer_id": "999999",
    "hold_no": "1",
    "alert_id": "999999",
    "sku": "NOPE",
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
    "warehouse": "MSK",  # the warehouse user's own: out of scope would be a 403
    "language": "ru",
}


def routes(live: LiveServer) -> list[tuple[str, str, Requirement | None]]:
    app = create_app(potok=live.potok)
    found = [
        (method, route.path, requirement_of(route.dependencies))
        for route in api_routes(app.routes)
        for method in sorted(route.methods - {"HEAD"})
    ]
    assert len(found) > 40
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], path)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_route_declares_who_may_call_it_as_the_table_says(live: LiveServer) -> None:
    declared = {}
    for method, path, requirement in routes(live):
        if requirement is None:
            assert path in DOCUMENTATION, f"{method} {path} declares no requirement"
            continue
        declared[(method, path)] = needed(requirement)
    assert declared == EXPECTED


def needed(requirement: Requirement) -> str:
    if requirement.public:
        return "public"
    if not requirement.permissions:
        return "signed-in"
    return " ".join(p.value for p in requirement.permissions)


def test_every_route_answers_every_role_as_the_matrix_says(live: LiveServer) -> None:
    build_world(live.potok)
    for role in Role:
        make_user(
            live.potok, role.value, role, warehouses=("MSK",) if role is Role.WAREHOUSE else ()
        )
    sessions = {role: sign_in(live.url, role.value) for role in Role}
    anonymous = httpx.Client(base_url=live.url, timeout=30)
    checked = 0
    wrong: list[str] = []
    for method, path, requirement in routes(live):
        if requirement is None:
            continue
        url = concrete(path)
        body = {} if method in {"POST", "PUT", "PATCH"} else None
        answer = anonymous.request(method, url, json=body)
        if EXPECTED[(method, path)] == "public":
            if answer.status_code in (401, 403):
                wrong.append(f"anonymous {method} {path}: {answer.status_code} on a public route")
        elif answer.status_code != 401:
            wrong.append(f"anonymous {method} {path}: {answer.status_code}, wanted 401")
        for role, session in sessions.items():
            if path == "/api/v1/session" and method == "DELETE":
                continue  # signing out would end the session the rest of the test uses
            answer = session.request(method, url, json=body)
            wanted = EXPECTED[(method, path)]
            allowed = (
                wanted in ("public", "signed-in")
                or {Permission(p) for p in wanted.split()} <= ROLE_PERMISSIONS[role]
            )
            denied = answer.status_code in (401, 403)
            if allowed == denied:
                wrong.append(
                    f"{role.value} {method} {path}: {answer.status_code}, "
                    f"{'allowed' if allowed else 'denied'} by the matrix"
                )
            checked += 1
    assert wrong == []
    assert checked > 200
