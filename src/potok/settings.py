"""Potok's settings: the only module that reads environment variables.

Every setting has the ``POTOK_`` prefix; nested groups are separated by ``__``,
for example ``POTOK_DB__URL`` or ``POTOK_API__PORT``.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///potok.db"
KEY_FILE_NAME = "potok-keys.json"


class PartitionSettings(BaseModel):
    """PostgreSQL's monthly partitions of the append-only tables: how many months are made
    ahead, and how many whole months before the current one each table keeps (0: all)."""

    ahead_months: int = Field(default=2, ge=1, le=24)
    history_months: int = Field(default=0, ge=0, le=1200)
    audit_months: int = Field(default=0, ge=0, le=1200)
    ledger_months: int = Field(default=0, ge=0, le=1200)
    decisions_months: int = Field(default=0, ge=0, le=1200)

    def keep(self) -> dict[str, int]:
        """Months kept per partitioned table (0: all)."""
        return {
            "order_history": self.history_months,
            "audit_log": self.audit_months,
            "stock_movements": self.ledger_months,
            "sourcing_decisions": self.decisions_months,
        }


class DatabaseSettings(BaseModel):
    """Where the data lives and how many connections a process keeps."""

    url: str = DEFAULT_DATABASE_URL
    pool_size: int = Field(default=8, ge=1, le=256)
    max_overflow: int = Field(default=4, ge=0, le=256)
    pool_timeout_s: float = Field(default=30.0, gt=0)
    echo: bool = False
    group_commit: bool = Field(
        default=True,
        description="PostgreSQL: intake commits of the same moment in one process sent as one "
        "statement (off: each order commits alone)",
    )
    partitions: PartitionSettings = Field(default_factory=PartitionSettings)

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        value = normalise_database_url(value)
        if not value.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError(
                "POTOK_DB__URL must be a sqlite:///path or postgresql://user@host/db URL"
            )
        return value


class ApiSettings(BaseModel):
    """How the HTTP API is served and how its problem documents are named."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    threads: int = Field(default=16, ge=1, le=256)
    problem_base_uri: str = "https://potok.dev/problems/"
    max_bulk_rows: int = Field(default=50_000, ge=1, le=50_000)
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="the largest request body taken (bytes); a larger one is answered with "
        "413 before it is read whole",
    )


class SecuritySettings(BaseModel):
    """Sessions, sign-in protection, API-key limits and the keys of personal data."""

    data_keys: SecretStr | None = Field(
        default=None,
        description="id:base64(32 bytes)[,id:key...]; the first encrypts, all decrypt",
    )
    index_key: SecretStr | None = Field(
        default=None, description="base64 of 32 bytes; keys the search hashes of phones/e-mails"
    )
    key_file: str | None = Field(
        default=None,
        description="where keys are kept when the two above are not set (created if missing, "
        "for a database without sealed data only); by default potok-keys.json beside the "
        "SQLite file, or <user data directory>/potok/<host>-<port>-<database>-keys.json for "
        "PostgreSQL - never the working directory",
    )
    key_check_seconds: float = Field(
        default=300,
        ge=0,
        le=86_400,
        description="how often readiness reads the database again for sealed data under keys "
        "this process lacks (a value a request could not open counts at once)",
    )
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    cookie_secure: bool = True
    login_attempts: int = Field(default=5, ge=1, le=100)
    lockout_minutes: float = Field(default=15, gt=0)
    key_rate_limit_per_minute: int = Field(default=600, ge=1, le=100_000)
    key_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="how long a process trusts a key it verified before asking the database "
        "again (0: every request); on PostgreSQL a key revoked in another process is "
        "forgotten at once (LISTEN/NOTIFY)",
    )


class WorkerSettings(BaseModel):
    """Timed jobs: expiry of unpaid reservations and of timed holds."""

    interval_s: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=200, ge=1)
    forecast_every_hours: float = Field(
        default=24.0,
        ge=0,
        le=24 * 366,
        description="demand forecasts are run and stored this often (0: never)",
    )


class EventSettings(BaseModel):
    """The outbox dispatcher: webhooks, their retries, and who may receive them."""

    source: str = Field(
        default="urn:potok",
        min_length=1,
        max_length=200,
        description="the CloudEvents 'source' of every event that leaves this installation",
    )
    poll_s: float = Field(
        default=0.5, gt=0, le=60, description="the dispatcher looks for new events this often"
    )
    linger_s: float = Field(
        default=0.05,
        ge=0,
        le=5,
        description="after a round that found less than a full window, the dispatcher waits "
        "this long so the next one carries a batch (0: no pause; adds at most this much lag)",
    )
    batch_size: int = Field(default=100, ge=1, le=10_000)
    concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="deliveries in flight at once per subscription; the events of one order "
        "(one aggregate) always go one after another",
    )
    checkpoint_s: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="while a window of deliveries runs, its progress is written this often",
    )
    max_unconfirmed: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="deliveries at most made before their progress is written: what a worker "
        "killed outright (SIGKILL) may deliver again",
    )
    lease_s: float = Field(
        default=60,
        ge=1,
        le=3600,
        description="a worker holds a subscription this long without renewing; then another "
        "may take it over (and delivers its unconfirmed event again)",
    )
    timeout_s: float = Field(default=10, gt=0, le=60, description="one delivery's time limit")
    max_attempts: int = Field(
        default=10, ge=1, le=100, description="attempts before an event goes to dead letters"
    )
    backoff_s: float = Field(
        default=2, gt=0, le=3600, description="the first retry's delay; each next one doubles"
    )
    backoff_max_s: float = Field(default=600, gt=0, le=86_400)
    retention_days: float = Field(
        default=30,
        ge=0,
        le=3650,
        description="events every consumer has dealt with are pruned from the outbox once "
        "this old (0: kept for ever); the newest event is always kept, so numbering goes on",
    )
    delivery_log_days: float = Field(
        default=30,
        ge=0,
        le=3650,
        description="webhook delivery attempts are pruned from the log once this old (0: kept "
        "for ever); never those of events a subscription has not got past",
    )
    pause_after_failures: int = Field(
        default=50,
        ge=0,
        le=1_000_000,
        description="a subscription whose receiver failed this many attempts in a row is "
        "paused, with an operator alert (0: never)",
    )
    pause_after_s: float = Field(
        default=3600,
        ge=0,
        le=30 * 86_400,
        description="... and only once it has been failing this long (seconds), so that a "
        "short outage with many orders in flight does not pause it",
    )
    allow_private_addresses: bool = Field(
        default=False,
        description="let subscriptions reach loopback, private and link-local addresses "
        "(on for local trials and tests; off in production guards against SSRF)",
    )

    nats_url: str | None = Field(
        default=None,
        max_length=500,
        description="publish every event to NATS JetStream at this URL (nats://host:4222); "
        "unset: no stream",
    )
    nats_stream: str = Field(default="POTOK_EVENTS", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    nats_subject_prefix: str = Field(
        default="potok.events",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        max_length=100,
        description="an event of type order.created goes to <prefix>.order.created",
    )

    @model_validator(mode="after")
    def _timeout_within_lease(self) -> Self:
        if self.timeout_s * 2 > self.lease_s:
            raise ValueError("lease_s must be at least twice timeout_s")
        return self


class SourcingSettings(BaseModel):
    """The batch optimiser's schedule (how often the worker re-plans open orders) and the
    stock pricing job's (what a unit is worth to the orders still to come)."""

    replan_every_minutes: float = Field(
        default=0,
        ge=0,
        le=7 * 24 * 60,
        description="re-plan every open order when the latest applied run is at least this "
        "old (0: never on a schedule; run it with the API or the CLI)",
    )
    replan_time_limit_s: float = Field(
        default=30, ge=1, le=300, description="the solver's time budget of a scheduled run"
    )
    hold_minutes: float = Field(
        default=0,
        ge=0,
        le=24 * 60,
        description="orders placed within this many minutes and not yet released to a "
        "warehouse are re-planned together in waves, with the stock priced for the orders "
        "still to come (0: never; set it to the time an order waits before its warehouse "
        "releases it for picking)",
    )
    wave_minutes: float = Field(
        default=0,
        ge=0,
        le=24 * 60,
        description="how often the held orders are re-planned together (0: every half of "
        "`hold_minutes`, so each order is planned again twice before release)",
    )
    price_stock_every_hours: float = Field(
        default=0,
        ge=0,
        le=7 * 24,
        description="price stock for the orders still to come when the latest run is at "
        "least this old (0: never on a schedule; run `potok sourcing price-stock`)",
    )
    stock_history_days: int = Field(
        default=28, ge=1, le=365, description="days of orders the stock prices learn demand from"
    )
    stock_horizon_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="days ahead the stock prices look: demand over them against the stock and "
        "what arrives within them",
    )


class CarrierSettings(BaseModel):
    """Carriers: the built-in sandbox, how often tracking is polled, pickup deadlines."""

    sandbox_seed: int = Field(
        default=7, ge=0, le=2**31, description="the same seed tells the same parcel stories"
    )
    sandbox_webhook_secret: SecretStr = Field(
        default=SecretStr("sandbox"), description="signs the sandbox's webhook calls"
    )
    storage_days: int = Field(
        default=7, ge=1, le=60, description="days a pickup point keeps a parcel, unless told"
    )
    poll_every_minutes: float = Field(
        default=10,
        ge=0,
        le=24 * 60,
        description="the worker asks carriers for tracking events this often (0: never)",
    )
    remittances_every_hours: float = Field(
        default=6,
        ge=0,
        le=24 * 7,
        description="the worker reads the carriers' cash-on-delivery registries this often "
        "(0: never; `potok carriers remittances` reads them at once)",
    )
    remittance_days: int = Field(
        default=3,
        ge=1,
        le=31,
        description="the days of registries each reading asks for (today and the days before)",
    )
    booking_alert_after: int = Field(
        default=5,
        ge=0,
        le=100,
        description="failed attempts of the worker to book a shipment with a carrier (30 s, "
        "1, 2, 4, 8 min apart) before the operators get an alert and a task (0: never)",
    )
    points_sync_hours: float = Field(
        default=24,
        ge=0,
        le=24 * 30,
        description="the worker syncs the carriers' pickup points into Potok this often "
        "(0: never; `potok carriers sync-points` does it at once)",
    )
    pochta_url: str = Field(
        default="https://otpravka-api.pochta.ru",
        max_length=500,
        description="Почта России's «Отправка» API",
    )
    pochta_token: SecretStr = Field(
        default=SecretStr(""), description="«Отправка»'s access token (empty: Почта is not used)"
    )
    pochta_login: str = Field(default="", max_length=200, description="«Отправка»'s login")
    pochta_password: SecretStr = Field(default=SecretStr(""), description="and its password")
    pochta_index_from: str = Field(
        default="",
        max_length=6,
        description="the postal code of the post office the warehouse hands parcels to",
    )
    pochta_mail_type: str = Field(
        default="POSTAL_PARCEL", max_length=40, description="«Отправка»'s mail-type"
    )
    pochta_mail_category: str = Field(
        default="ORDINARY", max_length=60, description="«Отправка»'s mail-category"
    )
    pochta_tracking_url: str = Field(
        default="https://tracking.russianpost.ru/rtm34",
        max_length=500,
        description="Почта's tracking service (single access, SOAP)",
    )
    pochta_point_cities: str = Field(
        default="",
        max_length=2000,
        description="cities whose post offices the pickup-point directory keeps, comma "
        "separated (Почта lists no offices country-wide; empty: none)",
    )
    pochta_tracking_login: str = Field(default="", max_length=200)
    pochta_tracking_password: SecretStr = Field(default=SecretStr(""))
    cdek_url: str = Field(
        default="https://api.cdek.ru",
        max_length=500,
        description="СДЭК's API v2 (its test environment: https://api.edu.cdek.ru)",
    )
    cdek_client_id: str = Field(
        default="", max_length=200, description="СДЭК's account (empty: СДЭК is not used)"
    )
    cdek_client_secret: SecretStr = Field(
        default=SecretStr(""), description="СДЭК's secure password of the account"
    )
    cdek_webhook_secret: SecretStr = Field(
        default=SecretStr(""),
        description="the secret in the URL СДЭК posts its webhooks to (?secret=...); "
        "webhooks are refused while it is empty",
    )
    cdek_shipment_point: str = Field(
        default="",
        max_length=255,
        description="the СДЭК office the warehouse drops parcels at (empty: a courier collects "
        "them at the warehouse's door)",
    )
    cdek_sender_name: str = Field(
        default="Potok", max_length=255, description="the sender's name on СДЭК's waybill"
    )
    cdek_timeout_s: float = Field(default=20.0, gt=0, le=300)
    cdek_attempts: int = Field(
        default=3, ge=1, le=10, description="tries of one call through 429s, 5xx and timeouts"
    )
    cdek_booking_wait_s: float = Field(
        default=30.0,
        ge=0,
        le=300,
        description="how long a booking waits for СДЭК to register the order (it answers "
        "asynchronously); longer counts as СДЭК being unavailable",
    )
    cdek_check_every_s: float = Field(
        default=2.0, ge=0, le=60, description="pause between checks of a pending request"
    )
    cdek_quote_ttl_s: float = Field(
        default=600.0, ge=0, le=86400, description="how long a СДЭК price is reused"
    )
    price_ttl_s: float = Field(
        default=600.0,
        ge=0,
        le=86400,
        description="how long a carrier's price counts as live for sourcing by carrier "
        "(after that it is a cached price, used while the carrier does not answer)",
    )
    price_deadline_s: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="how long sourcing waits for carriers' prices; a carrier slower than "
        "this is priced by its cached price, else by Potok's tariff table",
    )


class MarketplaceSettings(BaseModel):
    """Marketplace connectors: default hosts (each connection may name its own, so that
    sandboxes and simulators can stand in), timeouts and how long a rate limit is waited."""

    wildberries_url: str = Field(
        default="https://marketplace-api.wildberries.ru",
        max_length=500,
        description="Wildberries' marketplace API (FBS orders, supplies, stocks)",
    )
    ozon_url: str = Field(
        default="https://api-seller.ozon.ru", max_length=500, description="Ozon's Seller API"
    )
    avito_url: str = Field(
        default="https://api.avito.ru",
        max_length=500,
        description="Avito's API (order-management, stock-management, token)",
    )
    yandex_market_url: str = Field(
        default="https://api.partner.market.yandex.ru",
        max_length=500,
        description="Yandex Market's Partner API (orders, boxes, labels, stocks)",
    )
    wildberries_sticker_type: Literal["png", "svg", "zplv", "zplh"] = Field(
        default="png",
        description="the format of WB's assembly task stickers Potok fetches (zplv/zplh: "
        "vertical/horizontal ZPL for thermal printers)",
    )
    wildberries_sticker_size: Literal["58x40", "40x30"] = Field(
        default="58x40", description="the size of WB's stickers, mm (the two WB prints)"
    )
    retailcrm_url: str = Field(
        default="",
        max_length=500,
        description="RetailCRM has a host per account (https://<account>.retailcrm.ru): "
        "each connection names its own; this is the one used when it does not",
    )
    retailcrm_time_zone: str = Field(
        default="Europe/Moscow",
        max_length=64,
        description="the RetailCRM account's time zone (its API gives times without one)",
    )
    retailcrm_packed_status: str = Field(
        default="assembling-complete",
        min_length=1,
        max_length=100,
        description="the RetailCRM status code Potok sets when an order is packed",
    )
    retailcrm_shipped_status: str = Field(
        default="send-to-delivery",
        min_length=1,
        max_length=100,
        description="the RetailCRM status code Potok sets when an order is handed over",
    )
    retailcrm_cancelled_status: str = Field(
        default="cancel-other",
        min_length=1,
        max_length=100,
        description="the RetailCRM status code Potok sets when it cancels an order",
    )

    retailcrm_mirror_statuses: dict[str, str] = Field(
        default_factory=dict,
        description="the RetailCRM status codes of Potok's orders of other channels told to "
        'the CRM, by Potok\'s status (JSON, e.g. {"reserved": "prepayed"}); a status '
        "not named keeps RetailCRM's default code (new, availability-confirmed, assembling, "
        "send-to-delivery, complete, cancel-other)",
    )
    retailcrm_payment_type: str = Field(
        default="bank-card",
        min_length=1,
        max_length=100,
        description="the RetailCRM payment type code of the payment of an order Potok tells it",
    )
    crm_push_every_s: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="the least pause between two pushes of changed orders to a CRM (many "
        "changes of an order in between go as one)",
    )

    @field_validator("retailcrm_time_zone")
    @classmethod
    def _known_crm_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone such as Europe/Moscow") from None
        return value

    ozon_push_networks: str = Field(
        default="195.34.21.0/24,185.73.192.0/22,91.223.93.0/24",
        max_length=2000,
        description="comma-separated networks Ozon's push notifications are taken from (the "
        "ones Ozon publishes; a proxy in front of Potok must pass the caller's address on)",
    )
    yandex_market_push_networks: str = Field(
        default="5.45.207.0/25,141.8.142.0/25,5.255.253.0/25",
        max_length=2000,
        description="comma-separated networks Yandex Market's API notifications are taken from "
        "(the ones Market publishes; a proxy in front of Potok must pass the caller's address on)",
    )
    timeout_s: float = Field(default=30.0, gt=0, le=300)
    attempts: int = Field(
        default=5, ge=1, le=20, description="tries of one call through 429s, 5xx and timeouts"
    )
    longest_wait_s: float = Field(
        default=120.0,
        ge=0,
        le=3600,
        description="a 429 asking to wait longer than this ends the poll (tried at the next)",
    )
    import_batch: int = Field(
        default=1000, ge=1, le=10_000, description="orders imported per poll at most"
    )
    stock_reserve: int = Field(
        default=0,
        ge=0,
        le=100_000,
        description="units held back from every quantity pushed to a marketplace warehouse "
        "(a margin against selling the last unit twice while a push is on its way)",
    )
    stock_push_every_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="stock changes are gathered this long and pushed together; Ozon takes "
        "one update of an item at a warehouse per 30 seconds",
    )
    stock_events_batch: int = Field(
        default=5000, ge=1, le=100_000, description="stock events read for one push at most"
    )
    catalogue_every_hours: float = Field(
        default=6.0,
        ge=0,
        le=168,
        description="the item map of connections whose marketplace lists its catalogue "
        "(Ozon) is filled from it this often (and at a connection's first poll); 0 never",
    )


RETURN_REASONS = [
    "changed_mind",
    "wrong_size",
    "defective",
    "damaged_in_transit",
    "not_as_described",
    "wrong_item",
]


class ReturnSettings(BaseModel):
    """Returns: the reasons a customer may give, and when the delivery fee is refunded."""

    reasons: list[str] = Field(
        default_factory=lambda: list(RETURN_REASONS),
        min_length=1,
        max_length=100,
        description="the reasons a return line may name (codes; `unclaimed` is kept for "
        "parcels that came back undelivered)",
    )
    shipping_refund: str = Field(
        default="full_return",
        pattern="^(never|full_return)$",
        description="`full_return`: the delivery fee goes back with the return that brings "
        "the last shipped unit back; `never`: it is not refunded",
    )
    shipping_refund_by_channel: dict[str, str] = Field(
        default_factory=dict,
        max_length=1000,
        description="the same per channel code, over the default",
    )

    @field_validator("reasons")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for reason in value:
            if not 1 <= len(reason) <= 40 or not reason.replace("_", "").isalnum():
                raise ValueError(f"'{reason}': a reason is a code of letters, digits and _")
        return value

    @field_validator("shipping_refund_by_channel")
    @classmethod
    def _policies(cls, value: dict[str, str]) -> dict[str, str]:
        for channel, policy in value.items():
            if policy not in ("never", "full_return"):
                raise ValueError(f"channel '{channel}': '{policy}' is not never or full_return")
        return value


class NotificationSettings(BaseModel):
    """Customer messages: sent by the worker after each change commits, over SMTP (or to
    the log when no SMTP host is set)."""

    enabled: bool = Field(default=False, description="send customer notifications at all")
    smtp_host: str | None = Field(
        default=None, max_length=255, description="the SMTP server; unset: messages go to the log"
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: str = Field(
        default="none",
        pattern="^(none|starttls|tls)$",
        description="`starttls` upgrades the connection, `tls` opens it encrypted (port 465)",
    )
    smtp_username: str | None = Field(default=None, max_length=255)
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=20, gt=0, le=300)
    sender: str = Field(
        default="Potok <no-reply@localhost>", max_length=255, description="the From header"
    )
    shop_name: str = Field(default="Potok", max_length=120, description="signs the messages")
    language: str = Field(default="ru", pattern="^(ru|en)$")
    language_by_channel: dict[str, str] = Field(default_factory=dict, max_length=1000)
    topics_off: list[str] = Field(
        default_factory=list, max_length=20, description="topics not sent (order_accepted, ...)"
    )
    channels_off: list[str] = Field(
        default_factory=list, max_length=1000, description="channels whose customers get none"
    )
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_s: float = Field(default=5, gt=0, le=3600)
    backoff_max_s: float = Field(default=900, gt=0, le=86_400)
    tracking_url: str | None = Field(
        default=None,
        max_length=500,
        description="the public address of Potok; messages link to <tracking_url>/track/<token>",
    )
    media: list[str] = Field(
        default_factory=lambda: ["email"],
        max_length=2,
        description="how customers are reached unless they chose: email, sms or both",
    )
    sms_url: str | None = Field(
        default=None,
        max_length=500,
        description="the HTTP provider's endpoint for SMS and messenger messages (a JSON POST "
        "per message); unset: no SMS",
    )
    sms_auth_header: str = Field(
        default="Authorization", max_length=100, description="the header carrying the credential"
    )
    sms_auth_value: SecretStr | None = Field(
        default=None, description="its value, e.g. `Bearer <token>`"
    )
    sms_body: str = Field(
        default='{"to": "{to}", "text": "{text}", "sender": "{sender}", "id": "{message_id}"}',
        max_length=4000,
        description="the JSON body, in the provider's shape; strings may hold {to}, {text}, "
        "{sender}, {message_id}, {topic}, {language}",
    )
    sms_sender: str = Field(default="", max_length=64, description="the sender name or number")
    sms_timeout_s: float = Field(default=10, gt=0, le=120)
    log_file: str | None = Field(
        default=None,
        max_length=1000,
        description="without an SMTP host or SMS provider, messages are written to this file "
        "(the demo's outbox)",
    )

    @field_validator("media")
    @classmethod
    def _media(cls, value: list[str]) -> list[str]:
        for medium in value:
            if medium not in ("email", "sms"):
                raise ValueError(f"'{medium}' is not email or sms")
        return value

    @field_validator("sms_body")
    @classmethod
    def _sms_body(cls, value: str) -> str:
        from potok.connectors.messaging.http_provider import check_body_template

        check_body_template(value)
        return value

    @field_validator("language_by_channel")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        for channel, language in value.items():
            if language not in ("ru", "en"):
                raise ValueError(f"channel '{channel}': '{language}' is not ru or en")
        return value


class OnecSettings(BaseModel):
    """1C's exchange with Potok as a site (CommerceML 2): how its files map onto Potok."""

    schema_file: str = Field(
        default="",
        max_length=1000,
        description="the CommerceML 2.10 XSD; when set, every file 1C sends is checked against "
        "it before anything is read from it",
    )
    warehouses: dict[str, str] = Field(
        default_factory=dict,
        description="1C's warehouse Ид -> Potok warehouse code (unmapped: the code is the Ид)",
    )
    price_type: str = Field(
        default="",
        max_length=200,
        description="the 1C price type (name or Ид) Potok sells at; empty: the first of the file",
    )
    default_vat_rate: Decimal = Field(
        default=Decimal(22), ge=0, lt=100, description="for new products whose VAT 1C omits"
    )
    default_warehouse: str = Field(
        default="",
        max_length=64,
        description="where an offer's total quantity goes when it names no warehouse (empty: "
        "nowhere)",
    )
    zip: bool = Field(default=True, description="ask 1C to send its files zipped")
    file_limit_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="the largest part of a file 1C sends in one request (also capped by "
        "api.max_body_bytes)",
    )
    max_file_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1024 * 1024,
        le=4 * 1024 * 1024 * 1024,
        description="the largest whole file (or file inside a zip) an exchange takes",
    )
    session_hours: float = Field(default=4, gt=0, le=48, description="an exchange's lifetime")
    orders_per_query: int = Field(
        default=500, ge=1, le=10_000, description="orders sent to 1C per `query` at most"
    )
    time_zone: str = Field(
        default="Europe/Moscow",
        max_length=64,
        description="the zone of the dates and times in the documents 1C takes",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a time zone such as Europe/Moscow") from None
        return value


class PaymentSettings(BaseModel):
    """Card payments through a gateway (ЮKassa) for the channels connected to one."""

    yookassa_url: str = Field(
        default="https://api.yookassa.ru/v3",
        max_length=500,
        description="ЮKassa's API (a simulator or a proxy may stand in)",
    )
    yookassa_networks: str = Field(
        default="185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,77.75.154.128/25,"
        "2a02:5180:0:1509::/64,2a02:5180:0:2655::/64,2a02:5180:0:1533::/64,"
        "2a02:5180:0:2669::/64",
        max_length=2000,
        description="comma-separated networks ЮKassa's notifications are taken from (the ones "
        "ЮKassa publishes; a proxy in front of Potok must pass the caller's address on)",
    )
    timeout_s: float = Field(default=20.0, gt=0, le=300)
    attempts: int = Field(
        default=3, ge=1, le=10, description="tries of one call (same idempotence key)"
    )
    poll_every_s: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="how often payments and refunds still in flight are read back from the "
        "gateway (the safety net behind its notifications)",
    )
    poll_batch: int = Field(default=100, ge=1, le=10_000)
    capture_held_after_h: float = Field(
        default=156.0,
        gt=0,
        le=168,
        description="a payment held this many hours and not captured yet (its goods not "
        "handed over) is captured by the poller before ЮKassa lets the hold go (7 days for "
        "cards): the money is then a prepayment, fiscalised as one",
    )

    @field_validator("yookassa_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        import ipaddress

        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip())
        return value


class FiscalAccountSettings(BaseModel):
    """One account (a group of cash registers) at the cloud cash-register provider."""

    provider: str = Field(default="atol", pattern="^atol$", description="АТОЛ Онлайн (v5)")
    url: str = Field(
        default="https://online.atol.ru/possystem/v5",
        max_length=500,
        description="the provider's API (АТОЛ's test stand: https://testonline.atol.ru/"
        "possystem/v5)",
    )
    login: str = Field(max_length=200, description="from the account's integration settings")
    password: SecretStr = Field(description="and its password")
    group_code: str = Field(max_length=200, description="the group of registers that prints")
    timeout_s: float = Field(default=20.0, gt=0, le=300)


class FiscalEntitySettings(BaseModel):
    """A legal entity's fiscal settings (its ИНН comes from the entity in Potok)."""

    account: str = Field(max_length=64, description="the provider account that prints for it")
    taxation: str = Field(
        default="osn",
        pattern="^(osn|usn_income|usn_income_outcome|esn|patent)$",
        description="the taxation system (СНО) printed on its receipts",
    )
    payment_address: str = Field(
        max_length=256, description="where the sale happens: the shop's site for a web sale"
    )
    email: str = Field(max_length=64, description="the sender's e-mail on the receipt")


class FiscalAgentSettings(BaseModel):
    """A channel whose sales the seller makes as an agent (commission) for a supplier."""

    type: str = Field(
        default="commission_agent",
        pattern="^(bank_paying_agent|bank_paying_subagent|paying_agent|paying_subagent|"
        "attorney|commission_agent|another)$",
    )
    supplier_inn: str = Field(pattern=r"^(\d{10}|\d{12})$")
    supplier_name: str = Field(default="", max_length=256)
    supplier_phones: list[str] = Field(default_factory=list, max_length=5)


class FiscalSettings(BaseModel):
    """Fiscal receipts (54-ФЗ): which channels are fiscalised when, which legal entity
    prints through which provider account, and how often the worker works the queue."""

    enabled: bool = Field(
        default=False, description="Potok prints receipts (off: no receipt is queued)"
    )
    mode: str = Field(
        default="at_payment",
        pattern="^(at_payment|at_handover|marketplace|off)$",
        description="when a channel not named below is fiscalised (marketplace channels "
        "default to `marketplace`: their receipts are the marketplace's)",
    )
    modes_by_channel: dict[str, str] = Field(default_factory=dict, max_length=1000)
    entities: dict[str, FiscalEntitySettings] = Field(default_factory=dict, max_length=100)
    accounts: dict[str, FiscalAccountSettings] = Field(default_factory=dict, max_length=100)
    agents_by_channel: dict[str, FiscalAgentSettings] = Field(default_factory=dict, max_length=1000)
    callback_url: str = Field(
        default="",
        max_length=256,
        description="Potok's address of `/api/v1/fiscal/atol/callback` as the provider "
        "reaches it (empty: results are polled only)",
    )
    poll_after_s: float = Field(
        default=5.0, ge=0, le=3600, description="first look at a sent receipt's result"
    )
    batch: int = Field(default=200, ge=1, le=10_000, description="receipts a worker run takes")

    @field_validator("modes_by_channel")
    @classmethod
    def _modes(cls, value: dict[str, str]) -> dict[str, str]:
        for channel, mode in value.items():
            if mode not in ("at_payment", "at_handover", "marketplace", "off"):
                raise ValueError(
                    f"channel '{channel}': '{mode}' is not at_payment, at_handover, "
                    "marketplace or off"
                )
        return value

    @model_validator(mode="after")
    def _accounts_known(self) -> FiscalSettings:
        for code, entity in self.entities.items():
            if entity.account not in self.accounts:
                raise ValueError(f"legal entity '{code}' prints through an unknown account")
        return self


class Settings(BaseSettings):
    """All of Potok's configuration, read once by an entry point."""

    model_config = SettingsConfigDict(
        env_prefix="POTOK_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    db: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()
    worker: WorkerSettings = WorkerSettings()
    sourcing: SourcingSettings = SourcingSettings()
    security: SecuritySettings = SecuritySettings()
    carriers: CarrierSettings = CarrierSettings()
    events: EventSettings = EventSettings()
    marketplaces: MarketplaceSettings = MarketplaceSettings()
    returns: ReturnSettings = ReturnSettings()
    notifications: NotificationSettings = NotificationSettings()
    onec: OnecSettings = OnecSettings()
    payments: PaymentSettings = PaymentSettings()
    fiscal: FiscalSettings = FiscalSettings()


def key_file_for(settings: Settings) -> Path | None:
    """Where this process keeps its generated keys: the configured file; else beside the SQLite
    file, or in the user's data directory for a server database. None for an in-memory
    database, whose keys need outlive no process."""
    if settings.security.key_file:
        return Path(settings.security.key_file).expanduser().absolute()
    from sqlalchemy.engine import make_url

    url = make_url(settings.db.url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite":
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database).expanduser().absolute().parent / KEY_FILE_NAME
    name = f"{url.host or 'localhost'}-{url.port or 5432}-{database or 'postgres'}-keys.json"
    return user_data_dir() / "potok" / name


def user_data_dir() -> Path:
    """The per-user data directory: $XDG_DATA_HOME, else ~/.local/share (%LOCALAPPDATA% on
    Windows)."""
    for variable in ("XDG_DATA_HOME", "LOCALAPPDATA"):
        found = os.environ.get(variable)
        if found:
            return Path(found)
    return Path.home() / ".local" / "share"


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; entry points call this, nothing else does."""
    return Settings()
