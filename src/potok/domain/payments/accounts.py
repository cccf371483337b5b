"""A channel's account with a payment gateway: which own-shop channels take card payments
through the gateway, with whose shop id (its secret key is kept sealed beside it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from potok.domain.errors import InvalidInput
from potok.domain.validation import Problems

YOOKASSA = "yookassa"
GATEWAYS = (YOOKASSA,)
MAX_URL = 2000


@dataclass(frozen=True, slots=True)
class AccountDraft:
    """What an administrator gives to connect a channel to the gateway."""

    channel_code: str
    shop_id: str
    secret_key: str  # an empty one keeps the key already stored (when changing)
    return_url: str
    gateway: str = YOOKASSA
    active: bool = True

    def validate(self, *, new: bool) -> None:
        problems = Problems()
        if self.gateway not in GATEWAYS:
            problems.add("gateway", f"one of {', '.join(GATEWAYS)}", "unknown-gateway")
        if not self.shop_id.strip().isdigit() or len(self.shop_id.strip()) > 20:
            problems.add("shop_id", "the shop id ЮKassa shows (digits)", "invalid-shop-id")
        if new and not self.secret_key.strip():
            problems.add("secret_key", "the shop's secret key is required", "required")
        if len(self.secret_key) > 200:
            problems.add("secret_key", "at most 200 characters", "too-long")
        url = self.return_url.strip()
        if not url.startswith(("https://", "http://")) or len(url) > MAX_URL:
            problems.add(
                "return_url", "where the customer returns after paying (an http(s) URL)", "url"
            )
        if problems:
            raise InvalidInput(problems.errors)


@dataclass(frozen=True, slots=True)
class PaymentAccount:
    """A channel's gateway account as stored (the secret key stays sealed in the store)."""

    channel_id: int
    channel_code: str
    gateway: str
    shop_id: str
    return_url: str
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AccountKey:
    """The credentials the connector signs its calls with (opened only for the call)."""

    shop_id: str
    secret_key: str

    def __repr__(self) -> str:
        return f"AccountKey(shop_id={self.shop_id!r}, secret_key='***')"
