"""A connection to a marketplace: which account, which sales channel its orders join,
how its warehouses and articles map to Potok's, and how healthy its last polls were."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from potok.domain.errors import Conflict, InvalidInput, NotFound
from potok.domain.validation import Problems

MAX_WAREHOUSES = 200
"""The most marketplace warehouses one connection maps."""


class Marketplace(StrEnum):
    """The marketplaces Potok has a connector for."""

    WILDBERRIES = "wildberries"
    OZON = "ozon"
    RETAILCRM = "retailcrm"  # a CRM whose orders Potok fulfils, polled like a marketplace
    YANDEX_MARKET = "yandex_market"  # FBS: the seller's campaigns (stores) and their orders
    AVITO = "avito"  # a seller account: orders polled, its listings' stock


class Health(StrEnum):
    """What the health view shows for a connection."""

    NEW = "new"  # never polled
    OK = "ok"  # the last poll succeeded
    FAILING = "failing"  # the last poll failed; it will be tried again
    REFUSED = "refused"  # the marketplace refused the credentials: a person must act


class Credentials:
    """The secret a connection signs in with; never shown, never logged."""

    __slots__ = ("_token", "client_id")

    def __init__(self, token: str, client_id: str | None = None) -> None:
        self._token = token
        self.client_id = client_id  # Ozon's Client-Id, Market's businessId (not secret)

    def reveal(self) -> str:
        """The token itself, for the one header that carries it."""
        return self._token

    def __repr__(self) -> str:
        return "Credentials(token='**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Credentials)
            and other._token == self._token
            and other.client_id == self.client_id
        )

    def __hash__(self) -> int:
        return hash((self._token, self.client_id))


class ConnectionNotFound(NotFound):
    code = "marketplace-connection-not-found"
    title = "Marketplace connection not found"
    template = "There is no marketplace connection '{connection}'."


class StickerNotKept(Conflict):
    """The shipment exists; its marketplace sticker is not (yet) there."""

    code = "marketplace-sticker-not-kept"
    title = "Marketplace sticker not kept"
    template = (
        "Shipment {shipment_id} has no marketplace sticker yet: it comes from a marketplace "
        "that prints one (Wildberries) and is fetched at the first poll after the order was "
        "packed there."
    )


class ConnectionCodeTaken(Conflict):
    code = "marketplace-connection-taken"
    title = "The connection code already exists"
    template = "A marketplace connection named '{connection}' already exists."


@dataclass(frozen=True, slots=True)
class ConnectionDraft:
    """What an integrator gives to connect a marketplace account; checked by ``validate``."""

    code: str
    marketplace: Marketplace
    channel: str
    credentials: Credentials
    base_url: str
    warehouses: Mapping[str, str] = field(default_factory=dict)  # theirs -> location code
    poll_every_s: int = 60
    active: bool = True

    def validate(self) -> None:
        problems = Problems()
        problems.code("code", self.code)
        problems.code("channel", self.channel)
        token = self.credentials.reveal()
        if not token or len(token) > 4096 or not token.isprintable():
            problems.add("token", "give the API token (1-4096 printable characters)", "required")
        if self.marketplace is Marketplace.OZON and not self.credentials.client_id:
            problems.add("client_id", "Ozon needs the Client-Id beside the API key", "required")
        if (
            self.marketplace is Marketplace.YANDEX_MARKET
            and not (self.credentials.client_id or "").isdigit()
        ):
            problems.add(
                "client_id",
                "Yandex Market needs the cabinet's businessId (digits) beside the Api-Key",
                "required",
            )
        if self.marketplace is Marketplace.AVITO and not self.credentials.client_id:
            problems.add(
                "client_id", "Avito needs the Client ID beside the Client Secret", "required"
            )
        if self.marketplace is Marketplace.RETAILCRM and not self.base_url:
            problems.add(
                "base_url", "give the account's address, https://<account>.retailcrm.ru", "required"
            )
        elif not self.base_url.startswith(("http://", "https://")) or len(self.base_url) > 500:
            problems.add("base_url", "must be an http(s) URL of at most 500 characters", "bad-url")
        if not 10 <= self.poll_every_s <= 86_400:
            problems.add("poll_every_s", "must be from 10 seconds to one day", "out-of-range")
        if len(self.warehouses) > MAX_WAREHOUSES:
            problems.add("warehouses", f"at most {MAX_WAREHOUSES} warehouses", "too-many")
        for theirs, ours in self.warehouses.items():
            if not theirs or len(theirs) > 64 or not theirs.isprintable():
                problems.add("warehouses", f"'{theirs}' is not a marketplace warehouse id", "bad")
            problems.code(f"warehouses.{theirs}", ours)
        if problems:
            raise InvalidInput(problems.errors)


@dataclass(frozen=True, slots=True)
class ConnectionChanges:
    """What an integrator changes on a connection; None leaves a field as it is."""

    credentials: Credentials | None = None
    base_url: str | None = None
    warehouses: Mapping[str, str] | None = None  # replaces the whole map
    poll_every_s: int | None = None
    active: bool | None = None

    def applied_to(self, connection: Connection, credentials: Credentials) -> ConnectionDraft:
        """The connection as it will be, as a draft to check."""
        given = self.credentials
        if given is not None and given.client_id is None:  # a new token, the same Client-Id
            given = Credentials(given.reveal(), credentials.client_id)
        return ConnectionDraft(
            code=connection.code,
            marketplace=connection.marketplace,
            channel=connection.channel_code,
            credentials=given or credentials,
            base_url=self.base_url if self.base_url is not None else connection.base_url,
            warehouses=self.warehouses if self.warehouses is not None else connection.warehouses,
            poll_every_s=self.poll_every_s or connection.poll_every_s,
            active=connection.active if self.active is None else self.active,
        )

    @property
    def named(self) -> list[str]:
        """The fields it changes (the token is named, never shown)."""
        fields = {
            "token": self.credentials,
            "base_url": self.base_url,
            "warehouses": self.warehouses,
            "poll_every_s": self.poll_every_s,
            "active": self.active,
        }
        return [name for name, value in fields.items() if value is not None]


@dataclass(frozen=True, slots=True)
class Connection:
    """A connected marketplace account and what its polls have shown so far."""

    id: int
    code: str
    marketplace: Marketplace
    channel_code: str
    base_url: str
    warehouses: Mapping[str, str]
    poll_every_s: int
    active: bool
    created_at: datetime
    updated_at: datetime
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0  # polls failed in a row
    refused: bool = False  # the marketplace refused the credentials
    rate_limit_waits: int = 0
    rate_limit_wait_s: float = 0.0
    imported: int = 0
    open_journal: int = 0
    cursor: str | None = None  # where the next poll reads the marketplace's changes from

    @property
    def health(self) -> Health:
        if self.refused:
            return Health.REFUSED
        if self.last_poll_at is None:
            return Health.NEW
        return Health.FAILING if self.failures else Health.OK

    def lag(self, now: datetime) -> timedelta | None:
        """How long since the marketplace was last read successfully."""
        return now - self.last_success_at if self.last_success_at else None

    def due(self, now: datetime) -> bool:
        """Whether its schedule says to poll now."""
        if not self.active:
            return False
        return self.last_poll_at is None or now - self.last_poll_at >= timedelta(
            seconds=self.poll_every_s
        )


class JournalKind(StrEnum):
    """Why an order from a marketplace was not imported (yet)."""

    UNKNOWN_SKU = "unknown-sku"
    UNKNOWN_WAREHOUSE = "unknown-warehouse"
    REFUSED = "refused"  # Potok's intake refused it (currency, inactive product, ...)
    MALFORMED = "malformed"  # the marketplace's payload could not be read
    PUSH_FAILED = "push-failed"  # the marketplace refused what Potok told it (packed, ...)
    STOCK_REFUSED = "stock-refused"  # the marketplace refused an item's stock ("stock W/SKU")
    CHANGE_REFUSED = "change-refused"  # Potok refused a change made in the CRM ("crm/<record>")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A marketplace order kept aside for an operator, with the marketplace's payload."""

    id: int
    connection_code: str
    external_id: str
    kind: JournalKind
    detail: str
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int
    resolved_at: datetime | None
