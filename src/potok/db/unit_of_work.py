"""The SQL unit of work: one connection, one transaction, the outbox written in the same commit."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar, overload

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from potok import timing
from potok.db import lite
from potok.db.engine import WRITE_OPTION, write_lock
from potok.db.group_commit import group_commit
from potok.db.integrity import integrity_conflict
from potok.db.lite_writers import WritersQueue
from potok.db.network_cache import NetworkCache
from potok.db.personal import PersonalData
from potok.db.pg import Section, StagedReservation, driver, end_explicit
from potok.db.queries import Queries
from potok.db.queries.reports import Reports
from potok.db.repositories.access import ApiKeyRepository, SessionRepository, UserRepository
from potok.db.repositories.alerts import AlertRepository
from potok.db.repositories.audit import AuditLog, audit_rows
from potok.db.repositories.automation import AutomationRepository
from potok.db.repositories.carrier_labels import CarrierLabelRepository
from potok.db.repositories.carrier_points import CarrierPointRepository
from potok.db.repositories.catalogue import ProductRepository
from potok.db.repositories.categories import CategoryRepository
from potok.db.repositories.channels import ChannelRepository
from potok.db.repositories.cod_remittances import CodRemittanceRepository
from potok.db.repositories.crm_sync import CrmSyncRepository
from potok.db.repositories.customers import CustomerRepository
from potok.db.repositories.documents import DocumentRepository
from potok.db.repositories.events import Consumers, EventLog, WebhookRepository
from potok.db.repositories.fiscal import FiscalRepository
from potok.db.repositories.idempotency import IdempotencyKeys
from potok.db.repositories.intake import IntakeReads
from potok.db.repositories.legal_entities import LegalEntityRepository
from potok.db.repositories.locations import LocationRepository
from potok.db.repositories.marketplace_items import MarketplaceItemRepository
from potok.db.repositories.marketplaces import MarketplaceRepository
from potok.db.repositories.network import WarehouseRepository
from potok.db.repositories.notification_switches import NotificationSwitchRepository
from potok.db.repositories.notification_templates import NotificationTemplateRepository
from potok.db.repositories.notifications import NotificationRepository
from potok.db.repositories.onec import OnecRepository
from potok.db.repositories.orders import OrderRepository
from potok.db.repositories.outbox import Outbox, outbox_rows
from potok.db.repositories.overdue_thresholds import OverdueThresholdRepository
from potok.db.repositories.payments import PaymentRepository
from potok.db.repositories.positions import PositionRepository
from potok.db.repositories.purchasing import PurchaseOrderRepository
from potok.db.repositories.returns import ReturnRepository
from potok.db.repositories.shipments import ShipmentRepository, WaveRepository
from potok.db.repositories.sourcing import SourcingRepository
from potok.db.repositories.stock import StockRepository
from potok.db.repositories.stock_counts import StockCountRepository
from potok.db.repositories.stock_rules import StockRuleRepository
from potok.db.repositories.stores import StoreReceiptRepository
from potok.db.repositories.tasks import TaskRepository
from potok.db.repositories.tracking_links import TrackingLinkRepository
from potok.db.repositories.transfers import TransferRepository
from potok.db.tables import audit_log, outbox_events
from potok.domain.errors import (
    PotokError,
    SchemaNotReady,
    TransientConflict,
    Unavailable,
    ValueOutOfRange,
)
from potok.domain.events import DomainEvent
from potok.domain.sourcing.setup import SourcingSetup
from potok.security.data import DataProtector
from potok.services.ports import AuditContext

T = TypeVar("T")

_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}
DOCUMENT_FROM = 100
"""Events flushed together from which PostgreSQL gets them as one JSON document."""


class _Made(Generic[T]):
    """A repository of the unit of work, made when its transaction first uses it and kept
    for the rest of that transaction (in the instance's dictionary, where a look-up finds
    it before this descriptor). A new transaction starts without them: a unit of work
    offers some fifty repositories, and an order's intake uses eight."""

    def __init__(self, make: Callable[[SqlUnitOfWork], T]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...

    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type) -> T: ...

    def __get__(self, uow: SqlUnitOfWork | None, owner: type) -> T | Self:
        if uow is None:
            return self
        made = self.make(uow)
        uow.__dict__[self.name] = made
        uow._made.append(self.name)
        return made


class SqlUnitOfWork:
    """``with uow:`` opens a write transaction; ``with uow.read():`` a read-only one.

    Nothing is written until :meth:`commit`; leaving the block without committing rolls
    back. Database failures leave as domain errors: lost races and deadlocks as
    :class:`TransientConflict` (the caller may retry the whole use case), a broken
    reference, uniqueness or check as an :class:`IntegrityConflict` naming the rule (a
    duplicate is retried too, as it may be a race lost), an unreachable database as
    :class:`Unavailable`. Customers' personal data is sealed with ``protector``
    on the way in and opened on the way out. ``grouped``: on PostgreSQL, intake's
    commits join the process's group commit (``db/group_commit.py``); off, each commits
    alone (``POTOK_DB__GROUP_COMMIT``).
    """

    def __init__(
        self,
        engine: Engine,
        protector: DataProtector,
        network: NetworkCache | None = None,
        context: AuditContext | None = None,
        *,
        grouped: bool = True,
    ) -> None:
        self.engine = engine
        self.protector = protector
        self.network = network or NetworkCache()
        self.context = context or AuditContext(actor="system:potok", via="system")
        self._pipelined = engine.dialect.name == "postgresql"
        self._write_lock = write_lock(engine)
        self._group = group_commit(engine) if self._pipelined and grouped else None
        self._held_lock: WritersQueue | None = None
        self._connection: sa.Connection | None = None
        self._events: list[DomainEvent] = []
        self._unaudited: set[int] = set()  # ids of recorded events that get no audit row
        self._staged: list[Section] = []
        self._reserving = StagedReservation()
        self._setup: SourcingSetup | None = None
        self._write = True
        self._read_only = False  # this transaction reads only (begun READ ONLY on PostgreSQL)
        self._made: list[str] = []  # the repositories made in this transaction

    # the repositories, each made when a transaction first uses it (intake uses a few)
    products = _Made(lambda uow: ProductRepository(uow.connection))
    categories = _Made(lambda uow: CategoryRepository(uow.connection))
    channels = _Made(lambda uow: ChannelRepository(uow.connection))
    warehouses = _Made(lambda uow: WarehouseRepository(uow.connection))
    customers = _Made(lambda uow: CustomerRepository(uow.connection, uow.protector))
    stock = _Made(lambda uow: StockRepository(uow.connection, uow._reserving))
    orders = _Made(
        lambda uow: OrderRepository(uow.connection, uow._events, uow._staged, uow.protector)
    )
    outbox = _Made(lambda uow: Outbox(uow.connection, uow._group))
    idempotency = _Made(lambda uow: IdempotencyKeys(uow.connection, uow.protector, uow._staged))
    queries = _Made(lambda uow: Queries(uow.connection, uow.protector))
    intake = _Made(
        lambda uow: IntakeReads(
            uow.connection, uow.orders, uow.customers, uow.network, uow.idempotency, uow._staged
        )
    )
    personal_data = _Made(lambda uow: PersonalData(uow.connection, uow.protector))
    users = _Made(lambda uow: UserRepository(uow.connection))
    sessions = _Made(lambda uow: SessionRepository(uow.connection))
    api_keys = _Made(lambda uow: ApiKeyRepository(uow.connection))
    audit = _Made(lambda uow: AuditLog(uow.connection))
    stock_rules = _Made(lambda uow: StockRuleRepository(uow.connection))
    sourcing = _Made(lambda uow: SourcingRepository(uow.connection))
    positions = _Made(lambda uow: PositionRepository(uow.connection))
    locations = _Made(lambda uow: LocationRepository(uow.connection))
    stock_counts = _Made(lambda uow: StockCountRepository(uow.connection))
    transfers = _Made(lambda uow: TransferRepository(uow.connection))
    purchase_orders = _Made(lambda uow: PurchaseOrderRepository(uow.connection))
    alerts = _Made(lambda uow: AlertRepository(uow.connection))
    shipments = _Made(lambda uow: ShipmentRepository(uow.connection, uow._events))
    waves = _Made(lambda uow: WaveRepository(uow.connection, uow._events))
    returns = _Made(lambda uow: ReturnRepository(uow.connection, uow._events))
    notifications = _Made(lambda uow: NotificationRepository(uow.connection, uow.protector))
    tracking_links = _Made(lambda uow: TrackingLinkRepository(uow.connection))
    notification_templates = _Made(lambda uow: NotificationTemplateRepository(uow.connection))
    overdue_thresholds = _Made(lambda uow: OverdueThresholdRepository(uow.connection))
    notification_switches = _Made(lambda uow: NotificationSwitchRepository(uow.connection))
    legal_entities = _Made(lambda uow: LegalEntityRepository(uow.connection))
    documents = _Made(lambda uow: DocumentRepository(uow.connection, uow.protector))
    event_log = _Made(lambda uow: EventLog(uow.connection))
    consumers = _Made(lambda uow: Consumers(uow.connection))
    webhooks = _Made(lambda uow: WebhookRepository(uow.connection, uow.protector))
    marketplaces = _Made(
        lambda uow: MarketplaceRepository(uow.connection, uow.protector, uow._staged)
    )
    marketplace_items = _Made(lambda uow: MarketplaceItemRepository(uow.connection))
    crm_sync = _Made(lambda uow: CrmSyncRepository(uow.connection))
    onec = _Made(lambda uow: OnecRepository(uow.connection))
    store_receipts = _Made(lambda uow: StoreReceiptRepository(uow.connection))
    carrier_points = _Made(lambda uow: CarrierPointRepository(uow.connection))
    carrier_labels = _Made(lambda uow: CarrierLabelRepository(uow.connection))
    cod_remittances = _Made(lambda uow: CodRemittanceRepository(uow.connection))
    automation = _Made(lambda uow: AutomationRepository(uow.connection, uow._staged))
    tasks = _Made(lambda uow: TaskRepository(uow.connection))
    reports = _Made(lambda uow: Reports(uow.connection))
    payments = _Made(lambda uow: PaymentRepository(uow.connection, uow._events, uow.protector))
    fiscal = _Made(lambda uow: FiscalRepository(uow.connection))

    # ------------------------------------------------------------------ transaction

    def __enter__(self) -> Self:
        return self._begin(write=True)

    def read(self) -> Self:
        """Use as ``with uow.read():`` for a transaction that only reads."""
        self._write = False
        return self

    def _begin(self, *, write: bool) -> Self:
        write = write and self._write
        self._write = True
        if write and self._write_lock is not None:
            self._write_lock.acquire()
            self._held_lock = self._write_lock
        try:
            connection = self.engine.connect().execution_options(**{WRITE_OPTION: write})
            timing.mark("connected")
            self._read_only = not write and self._pipelined
            if self._read_only:
                # psycopg begins it READ ONLY (nothing is sent now), so that it may end
                # with COMMIT: a ROLLBACK makes psycopg drop every statement it prepared
                # on the connection - intake's two were planned afresh for a while
                # after each read-only transaction on the connection (a key's look-up)
                driver(connection).read_only = True
            connection.begin()
        except sa.exc.DBAPIError as error:
            self._release_lock()
            raise translate_error(error) from error
        except sa.exc.TimeoutError as error:  # the pool had no free connection in time
            self._release_lock()
            raise Unavailable(detail="every database connection is busy; retry shortly") from error
        made = self.__dict__
        for name in self._made:  # the last transaction's repositories
            del made[name]
        self._made.clear()
        self._connection = connection
        self._events = []
        self._unaudited = set()
        self._staged = []
        self._reserving = StagedReservation()
        self._setup = None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection = self._connection
        self._connection = None
        try:
            if connection is not None:
                try:
                    if connection.in_transaction():
                        if self._read_only and (exc is None or isinstance(exc, PotokError)):
                            connection.commit()  # read only: the same as a rollback
                        else:
                            connection.rollback()
                    if self._pipelined and not connection.invalidated:
                        raw = driver(connection)
                        end_explicit(raw)  # intake began its own transaction
                        if self._read_only:
                            raw.read_only = None
                    self._release_lock()  # SQLite: the next writer need not wait for the pool
                except (sa.exc.DBAPIError, psycopg.Error) as lost:
                    # the connection died under the driver (a dropped session, a restarted
                    # server): never back into the pool, and the first failure is the one
                    # the caller hears of (as Unavailable, below), not this rollback's
                    connection.invalidate(lost)
                    if exc is None:
                        raise translate_error(lost) from lost
                finally:
                    connection.close()
        finally:
            self._release_lock()
        if isinstance(exc, sa.exc.DBAPIError | psycopg.Error):
            raise translate_error(exc) from exc
        if isinstance(exc, OverflowError):  # SQLite: a number wider than 64 bits
            raise ValueOutOfRange(where=_first_line(str(exc))) from exc

    def _release_lock(self) -> None:
        if self._held_lock is not None:
            self._held_lock.release()
            self._held_lock = None

    @property
    def connection(self) -> sa.Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside a 'with' block")
        return self._connection

    def sourcing_setup(self) -> SourcingSetup:
        if self._setup is None:  # read once per transaction
            self._setup = self.network.fresh(self.connection).sourcing
        return self._setup

    def record(self, *events: DomainEvent, audited: bool = True) -> None:
        """Events to write to the outbox with this transaction, each with its audit row
        unless ``audited`` is False (a bulk upload's changes: one event of the upload's
        own speaks for them in the audit trail)."""
        self._events.extend(events)
        if not audited:
            self._unaudited.update(id(event) for event in events)

    def unaudited(self, *events: DomainEvent) -> None:
        # by identity: each event object lives until the transaction writes it
        self._unaudited.update(id(event) for event in events)

    def flush_events(self) -> None:
        if not self._events:
            return
        try:
            payloads = [event.payload() for event in self._events]
            trail = audit_rows(self.context, self._events, payloads, self._unaudited)
            if self._pipelined and len(self._events) > DOCUMENT_FROM:
                self.outbox.add_as_document(self._events, payloads, [(audit_log, trail)])
            elif len(self._events) > DOCUMENT_FROM:  # SQLite: each table's rows at once
                lite.write_document(
                    self.connection,
                    [(outbox_events, outbox_rows(self._events, payloads)), (audit_log, trail)],
                )
            else:
                self.outbox.add(self._events, payloads)
                self.audit.add(trail)
        except (sa.exc.DBAPIError, psycopg.Error) as error:
            raise translate_error(error) from error
        self._events.clear()
        self._unaudited.clear()

    def commit(self) -> None:
        connection = self.connection
        try:
            payloads = [event.payload() for event in self._events]  # made once for both
            trail = audit_rows(self.context, self._events, payloads, self._unaudited)
            if self._pipelined:
                self.outbox.write_and_commit(
                    [*self._staged, (audit_log, trail)], self._events, payloads, self._reserving
                )
            else:  # SQLite: each table's rows in one statement, then COMMIT
                lite.write_document(
                    connection,
                    [
                        *self._staged,
                        (outbox_events, outbox_rows(self._events, payloads)),
                        (audit_log, trail),
                    ],
                    self._reserving,
                )
                connection.commit()
            self._staged.clear()
            self._reserving.clear()
            self._events.clear()
            self._unaudited.clear()
        except (sa.exc.DBAPIError, psycopg.Error) as error:
            raise translate_error(error) from error


def translate_error(error: sa.exc.DBAPIError | psycopg.Error) -> PotokError:
    """The domain's name for a database failure; anything unexpected is raised again."""
    original = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    sqlstate = getattr(original, "sqlstate", None)
    message = str(original)
    if sqlstate in ("42P01", "42703") or "no such table" in message or "no such column" in message:
        return SchemaNotReady()
    if sqlstate in _RETRYABLE_SQLSTATES:
        return TransientConflict(detail=f"concurrent change ({sqlstate}); retry the request")
    if isinstance(
        error,
        sa.exc.IntegrityError | sa.exc.DataError | psycopg.IntegrityError | psycopg.DataError,
    ):
        statement = error.statement if isinstance(error, sa.exc.DBAPIError) else None
        conflict = integrity_conflict(original or error, statement, sqlstate)
        if conflict is not None:
            return conflict
    if "database is locked" in message:
        return TransientConflict(detail="the database is busy; retry the request")
    invalidated = isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
    if isinstance(error, sa.exc.OperationalError | psycopg.OperationalError) or invalidated:
        return Unavailable(detail=f"the database cannot be reached ({_first_line(message)})")
    raise error


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "no details"
