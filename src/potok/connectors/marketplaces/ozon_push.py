"""Ozon's push notifications as Ozon sends them (the Seller API document's ``push_*``
sections): a JSON object with ``message_type``; the posting kinds name a
``posting_number``; ``TYPE_PING`` checks that the seller's service answers.

Ozon signs nothing: its notifications come from its published networks
(:data:`OZON_NETWORKS`), and Potok additionally puts a secret in the URL it gives Ozon. A
notification is only a hint either way: Potok reads the posting back from Ozon before it
imports or moves anything, so a forged or stale notification changes nothing, and
notifications that arrive twice or out of order cannot undo a newer state.

The answers are Ozon's too: ``{"version", "name", "time"}`` to a ping, ``{"result": true}``
to a notification taken, ``{"error": {"code", "message", "details"}}`` with a 4xx or 5xx
status otherwise (codes ``ERROR_UNKNOWN``, ``ERROR_PARAMETER_VALUE_MISSED``,
``ERROR_REQUEST_DUPLICATED``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

OZON_NETWORKS = ("195.34.21.0/24", "185.73.192.0/22", "91.223.93.0/24")
"""Where Ozon's notifications come from (the document's «IP-адреса, с которых приходят
уведомления»)."""

PING = "TYPE_PING"
POSTING_KINDS = frozenset(
    {
        "TYPE_NEW_POSTING",
        "TYPE_POSTING_CANCELLED",
        "TYPE_STATE_CHANGED",
        "TYPE_POSTING_SHIPPED",
        "TYPE_CUTOFF_DATE_CHANGED",
        "TYPE_DELIVERY_DATE_CHANGED",
    }
)
"""The kinds about one FBS posting: each makes Potok read the posting back from Ozon."""

UNKNOWN = "ERROR_UNKNOWN"
MISSING = "ERROR_PARAMETER_VALUE_MISSED"


class NotificationRefused(ValueError):
    """A notification Potok cannot take, with Ozon's error code for the answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Notification:
    kind: str  # message_type
    posting_number: str | None = None  # the posting kinds
    seller_id: int | None = None
    sent_at: datetime | None = None  # time (ping), changed_state_date, ...

    @property
    def about_posting(self) -> bool:
        return self.kind in POSTING_KINDS


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def read_notification(body: Any) -> Notification:
    """What Ozon sent; :class:`NotificationRefused` when it is not a notification."""
    if not isinstance(body, Mapping):
        raise NotificationRefused(MISSING, "the body is not a JSON object")
    kind = body.get("message_type")
    if not isinstance(kind, str) or not kind:
        raise NotificationRefused(MISSING, "message_type is missing")
    seller = body.get("seller_id")
    seller_id = seller if isinstance(seller, int) and not isinstance(seller, bool) else None
    sent = _moment(body.get("time")) or _moment(body.get("changed_state_date"))
    if kind not in POSTING_KINDS:
        return Notification(kind, seller_id=seller_id, sent_at=sent)
    number = body.get("posting_number")
    if not isinstance(number, str) or not number.strip() or len(number) > 128:
        raise NotificationRefused(MISSING, f"{kind} without a posting_number")
    return Notification(kind, number.strip(), seller_id, sent)


def networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of a setting (comma-separated CIDRs); ValueError on a bad one."""
    return [ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip()]


def from_ozon(address: str | None, allowed: Iterable[Any]) -> bool:
    """Whether a caller's address is in the networks Ozon's notifications come from."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in allowed)


def ping_answer(version: str, now: datetime) -> dict[str, str]:
    return {"version": version, "name": "Potok", "time": _stamp(now)}


def error_answer(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message[:500], "details": None}}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
