"""The CRM's side of keeping Potok and a CRM in step: the events after which the CRM is
told an order again, which CRM statuses only follow Potok, and the errors."""

from __future__ import annotations

from potok.domain.errors import NotFound, Rejected

CRM_ORDER_EVENTS = (
    "order.created",  # a new order: the CRM creates it
    "order.status_changed",  # confirmed, reserved, shipped, delivered, cancelled, returned...
    "order.payment_changed",
    "order.edited",  # lines or delivery
)

CRM_FOLLOWS_POTOK = {
    "assembling": frozenset({"in_fulfilment"}),
    "delivery": frozenset({"partially_shipped", "shipped"}),
    "complete": frozenset({"delivered", "partially_returned", "returned"}),
}
"""CRM status groups that only follow what Potok's warehouses and carriers did, and the
Potok statuses in which an order already is in them: a CRM status of such a group on an
order in another status is refused, never forced."""


class CrmStatusNotApplied(Rejected):
    """A status set in the CRM that the order's state machine does not allow from where
    the order stands in Potok."""

    code = "crm-status-not-applied"
    title = "A status set in the CRM was not applied"
    template = (
        "The CRM set status '{status}' (group {group}) on order {order_id}, which is "
        "{order_status} in Potok: {why}"
    )


class NotACrm(Rejected):
    code = "connection-not-a-crm"
    title = "The connection is not a CRM"
    template = (
        "Connection '{connection}' is a {marketplace} connection: only a CRM (RetailCRM) "
        "connection is told Potok's orders."
    )


class BackfillNotFound(NotFound):
    code = "crm-backfill-not-found"
    title = "No back-fill of this connection"
    template = (
        "Connection '{connection}' has no back-fill yet: start one with POST "
        "/api/v1/marketplaces/{connection}/crm-backfills or 'potok marketplaces backfill'."
    )
