"""Yandex Market's API notifications as Market sends them (its notification API document,
``POST /notification``, ``SendNotificationRequest``): a JSON object whose
``notificationType`` says what happened; the order kinds name an ``orderId`` and the
``campaignId`` it belongs to; ``PING`` checks that the seller's service answers (within
one second).

Market signs nothing: its notifications come from its published networks
(:data:`MARKET_NETWORKS`), and Potok additionally puts a secret in the URL it gives Market.
A notification is only a hint either way: Potok reads the order back from Market
(``getBusinessOrders`` by ``orderIds``) before it imports or moves anything, so a forged,
repeated or late notification changes nothing Market itself does not say now.

The answers are Market's too: ``{"version", "name", "time"}`` (``SendNotificationResponse``)
to every notification taken; ``{"error": {"type", "message"}}``
(``SendNotificationErrorResponse``) with 400 for a notification that cannot be read
(``WRONG_EVENT_FORMAT``) and 500 when Potok could not handle it now (``UNKNOWN``; Market
sends it again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MARKET_NETWORKS = ("5.45.207.0/25", "141.8.142.0/25", "5.255.253.0/25")
"""Where Market's notifications come from (the partner documentation's «Диапазоны
IP-адресов, которые использует Маркет»)."""

PING = "PING"
ORDER_KINDS = frozenset(
    {
        "ORDER_CREATED",
        "ORDER_CANCELLED",
        "ORDER_STATUS_UPDATED",
        "ORDER_UPDATED",
        "ORDER_CANCELLATION_REQUEST",
        "ORDER_RETURN_CREATED",
        "ORDER_RETURN_STATUS_UPDATED",
    }
)
"""The kinds about one order: each makes Potok read the order back from Market."""
RETURN_KINDS = frozenset({"ORDER_RETURN_CREATED", "ORDER_RETURN_STATUS_UPDATED"})
"""The kinds about a return of an order: Potok reads the return back too."""
OTHER_KINDS = frozenset(
    {
        "GOODS_FEEDBACK_CREATED",
        "GOODS_FEEDBACK_COMMENT_CREATED",
        "CHAT_CREATED",
        "CHAT_MESSAGE_SENT",
        "CHAT_ARBITRAGE_STARTED",
        "CHAT_ARBITRAGE_FINISHED",
        "QUESTION_CREATED",
        "QUESTION_ANSWER_CREATED",
        "QUESTION_COMMENT_CREATED",
    }
)
"""Kinds Market may send that Potok takes and leaves alone (chats, reviews, questions)."""

WRONG_FORMAT = "WRONG_EVENT_FORMAT"
UNKNOWN = "UNKNOWN"
MAX_ID = 2**63 - 1


class NotificationRefused(ValueError):
    """A notification Potok cannot take, with Market's error type for the answer."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Notification:
    kind: str  # notificationType
    order_id: str | None = None  # the order kinds
    campaign_id: str | None = None
    return_id: str | None = None  # the return kinds

    @property
    def about_order(self) -> bool:
        return self.kind in ORDER_KINDS


def _id(body: dict[str, Any], name: str, kind: str) -> str:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise NotificationRefused(WRONG_FORMAT, f"{kind} without a positive whole {name}")
    return str(value)


def read_notification(body: Any) -> Notification:
    """What Market sent; :class:`NotificationRefused` when it is not a notification."""
    if not isinstance(body, dict):
        raise NotificationRefused(WRONG_FORMAT, "the body is not a JSON object")
    kind = body.get("notificationType")
    if not isinstance(kind, str) or not kind:
        raise NotificationRefused(WRONG_FORMAT, "notificationType is missing")
    if kind == PING or kind in OTHER_KINDS:
        return Notification(kind)
    if kind not in ORDER_KINDS:
        raise NotificationRefused(WRONG_FORMAT, f"unknown notificationType '{kind[:64]}'")
    order, campaign = _id(body, "orderId", kind), _id(body, "campaignId", kind)
    if kind in RETURN_KINDS:
        return Notification(kind, order, campaign, _id(body, "returnId", kind))
    return Notification(kind, order, campaign)


def answer(version: str, now: datetime) -> dict[str, str]:
    """``SendNotificationResponse``: the integration's name and version, and when Potok
    began handling the notification."""
    return {"version": version[:100], "name": "Potok", "time": _stamp(now)}


def error_answer(kind: str, message: str) -> dict[str, Any]:
    """``SendNotificationErrorResponse``."""
    return {"error": {"type": kind, "message": message[:500]}}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
