"""What the payments area refuses, in words an operator understands."""

from __future__ import annotations

from potok.domain.errors import Conflict, NotFound, Rejected, Unavailable

__all__ = [
    "AccountNotFound",
    "CaptureAboveAuthorised",
    "GatewayPaymentNotFound",
    "GatewayRefusedAction",
    "GatewayUnreachable",
    "MarketplaceTakesNoGateway",
    "NotificationMalformed",
    "NotificationNotFromGateway",
    "PaymentNotCancellable",
    "PaymentNotCapturable",
]


class AccountNotFound(NotFound):
    code = "payment-account-not-found"
    title = "The channel takes no gateway payments"
    template = "Channel '{channel}' has no payment gateway account; connect one first."


class GatewayPaymentNotFound(NotFound):
    code = "gateway-payment-not-found"
    title = "The order has no gateway payment"
    template = "Order {order_id} has no gateway payment: {why}."


class MarketplaceTakesNoGateway(Rejected):
    code = "marketplace-takes-no-gateway"
    title = "Marketplace orders are paid to the marketplace"
    template = (
        "Channel '{channel}' is a marketplace: its orders are paid to the marketplace, never "
        "through the shop's gateway."
    )


class PaymentNotCapturable(Conflict):
    code = "payment-not-capturable"
    title = "The payment cannot be captured now"
    template = "The payment of order {order_id} is {status}; only an authorised one is captured."


class PaymentNotCancellable(Conflict):
    code = "payment-not-cancellable"
    title = "The payment cannot be cancelled now"
    template = (
        "The payment of order {order_id} is {status}; only an authorised one is cancelled "
        "(a captured one is refunded)."
    )


class CaptureAboveAuthorised(Rejected):
    code = "capture-above-authorised"
    title = "The order owes more than the customer authorised"
    template = (
        "Order {order_id} owes {owed} {currency} but only {authorised} {currency} was "
        "authorised; capture at most that, and take the rest another way."
    )


class GatewayRefusedAction(Rejected):
    code = "gateway-refused"
    title = "The payment gateway refused"
    template = "{gateway} refused to {action}: {reason}"


class GatewayUnreachable(Unavailable):
    code = "gateway-unavailable"
    title = "The payment gateway cannot be reached"
    template = "{gateway} could not be reached: {reason}"


class NotificationNotFromGateway(NotFound):
    """A 404, as for a path that is not there: strangers learn nothing of the endpoint."""

    code = "notification-not-from-gateway"
    title = "Notifications are taken from the gateway's networks only"
    template = (
        "{address} is not in the networks {gateway} sends notifications from "
        "(setting payments.yookassa_networks)."
    )


class NotificationMalformed(Rejected):
    code = "notification-malformed"
    title = "This is not a notification the gateway sends"
    template = "{why}"
