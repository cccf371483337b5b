"""The payment gateways this process talks to: one client per shop account, made on first
use from the account's credentials and the gateway's host in the settings."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import httpx

from potok.connectors.payments.interface import PaymentGateway
from potok.connectors.payments.yookassa import CODE as YOOKASSA
from potok.connectors.payments.yookassa import YooKassa
from potok.domain.payments.accounts import AccountKey
from potok.settings import PaymentSettings


class Gateways:
    """Clients per (gateway, shop, key); a changed secret key gets a new client."""

    def __init__(
        self,
        settings: PaymentSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or PaymentSettings()
        self._transport = transport
        self._sleep = sleep
        self._clients: dict[tuple[str, str, str], YooKassa] = {}
        self._lock = threading.Lock()

    def get(self, gateway: str, key: AccountKey) -> PaymentGateway:
        if gateway != YOOKASSA:
            raise LookupError(f"no payment gateway '{gateway}'")
        fingerprint = hashlib.sha256(key.secret_key.encode()).hexdigest()
        with self._lock:
            client = self._clients.get((gateway, key.shop_id, fingerprint))
            if client is None:
                client = self._clients[(gateway, key.shop_id, fingerprint)] = YooKassa(
                    base_url=self.settings.yookassa_url,
                    shop_id=key.shop_id,
                    secret_key=key.secret_key,
                    timeout_s=self.settings.timeout_s,
                    attempts=self.settings.attempts,
                    transport=self._transport,
                    sleep=self._sleep,
                )
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
