"""Who may do what: the permission matrix, in one place.

Every HTTP route declares the one permission it needs; a user's role grants a set of
permissions, an API key carries scopes that are permissions too. The authorisation test
calls every route as every role and checks the answer against this table.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"  # take orders (intake)
    ORDERS_MANAGE = "orders:manage"  # confirm, cancel, hold, payment
    STOCK_READ = "stock:read"
    STOCK_WRITE = "stock:write"
    STOCK_APPROVE = "stock:approve"  # approve stock counts: post their differences to the books
    CATALOGUE_READ = "catalogue:read"  # products, channels, warehouses
    CATALOGUE_WRITE = "catalogue:write"
    SOURCING_READ = "sourcing:read"  # shipping tariffs, routing rules, sourcing explanations
    SOURCING_WRITE = "sourcing:write"  # import tariffs, change routing rules
    PERSONAL_DATA = "personal_data:read"  # see customers' names, phones, e-mails, addresses
    CUSTOMERS_MANAGE = "customers:manage"  # export and anonymise one customer's data
    USERS_MANAGE = "users:manage"
    KEYS_MANAGE = "keys:manage"
    AUDIT_READ = "audit:read"
    EVENTS_READ = "events:read"  # the change feed: every business event, in commit order
    WEBHOOKS_MANAGE = "webhooks:manage"  # subscribe receivers, read their delivery logs
    EVENTS_MANAGE = "events:manage"  # forget a reader of the outbox that no longer moves
    METRICS_READ = "metrics:read"  # Prometheus metrics (operations figures, no business data)
    NOTIFICATIONS_MANAGE = "notifications:manage"  # change customer message templates
    SETTINGS_MANAGE = "settings:manage"  # change console settings: overdue thresholds
    ERP_EXCHANGE = "erp:exchange"  # 1C's exchange: catalogue, prices and stock in, orders out


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    OPERATOR = "operator"
    WAREHOUSE = "warehouse"  # limited to the warehouses the user is assigned to
    ANALYST = "analyst"  # reads everything but personal data
    INTEGRATION = "integration"  # a technical user; its API keys carry the scopes


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset(
        {
            P.ORDERS_READ,
            P.ORDERS_WRITE,
            P.ORDERS_MANAGE,
            P.STOCK_READ,
            P.STOCK_WRITE,
            P.STOCK_APPROVE,
            P.CATALOGUE_READ,
            P.CATALOGUE_WRITE,
            P.SOURCING_READ,
            P.SOURCING_WRITE,
            P.PERSONAL_DATA,
            P.CUSTOMERS_MANAGE,
            P.AUDIT_READ,
            P.EVENTS_READ,
            P.WEBHOOKS_MANAGE,
        }
    ),
    Role.OPERATOR: frozenset(
        {
            P.ORDERS_READ,
            P.ORDERS_WRITE,
            P.ORDERS_MANAGE,
            P.STOCK_READ,
            P.CATALOGUE_READ,
            P.SOURCING_READ,
            P.PERSONAL_DATA,
        }
    ),
    Role.WAREHOUSE: frozenset(
        {P.ORDERS_READ, P.STOCK_READ, P.STOCK_WRITE, P.CATALOGUE_READ, P.PERSONAL_DATA}
    ),
    Role.ANALYST: frozenset(
        {P.ORDERS_READ, P.STOCK_READ, P.CATALOGUE_READ, P.SOURCING_READ, P.EVENTS_READ}
    ),
    Role.INTEGRATION: frozenset(
        {
            P.ORDERS_READ,
            P.ORDERS_WRITE,
            P.STOCK_READ,
            P.STOCK_WRITE,
            P.CATALOGUE_READ,
            P.EVENTS_READ,
            P.WEBHOOKS_MANAGE,
            P.ERP_EXCHANGE,
        }
    ),
}

KEY_SCOPES: frozenset[Permission] = frozenset(
    {
        P.ORDERS_READ,
        P.ORDERS_WRITE,
        P.ORDERS_MANAGE,
        P.STOCK_READ,
        P.STOCK_WRITE,
        P.STOCK_APPROVE,
        P.CATALOGUE_READ,
        P.CATALOGUE_WRITE,
        P.SOURCING_READ,
        P.SOURCING_WRITE,
        P.PERSONAL_DATA,
        P.EVENTS_READ,
        P.WEBHOOKS_MANAGE,
        P.METRICS_READ,
        P.ERP_EXCHANGE,
    }
)
"""What an API key may be given: business scopes, never administration."""
