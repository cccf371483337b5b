"""The unit-of-work protocol every use case depends on, and the retry of lost races."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self, TypeVar

from potok import timing
from potok.domain.errors import DuplicateRow, TransientConflict
from potok.domain.events import DomainEvent
from potok.domain.sourcing.setup import SourcingSetup
from potok.services.automation_ports import AutomationStore
from potok.services.carrier_label_ports import CarrierLabelStore
from potok.services.carrier_point_ports import CarrierPointStore
from potok.services.cod_remittance_ports import RemittanceStore
from potok.services.crm_ports import CrmSyncStore
from potok.services.document_ports import DocumentStore, LegalEntityStore
from potok.services.event_ports import ConsumerStore, EventLogStore, WebhookStore
from potok.services.fiscal_ports import FiscalStore
from potok.services.marketplace_ports import MarketplaceItemStore, MarketplaceStore
from potok.services.notification_ports import (
    NotificationStore,
    SwitchStore,
    TemplateStore,
    TrackingLinkStore,
)
from potok.services.onec_ports import OnecStore
from potok.services.overdue_ports import ThresholdStore
from potok.services.payment_ports import PaymentStore
from potok.services.ports import (
    AlertStore,
    ApiKeyStore,
    AuditStore,
    CategoryStore,
    ChannelStore,
    CustomerStore,
    IdempotencyStore,
    IntakeReader,
    LocationStore,
    OrderStore,
    PersonalDataStore,
    PositionStore,
    ProductStore,
    PurchaseOrderStore,
    QueryStore,
    SessionStore,
    ShipmentStore,
    SourcingStore,
    StockCountStore,
    StockRuleStore,
    StockStore,
    TransferStore,
    UserStore,
    WarehouseStore,
    WaveStore,
)
from potok.services.report_ports import ReportStore
from potok.services.return_ports import ReturnStore
from potok.services.store_ports import StoreReceiptStore
from potok.services.task_ports import TaskStore

T = TypeVar("T")

ATTEMPTS = 6


class UnitOfWork(Protocol):
    """One transaction: repositories inside it, events recorded with it, one commit."""

    @property
    def products(self) -> ProductStore: ...

    @property
    def categories(self) -> CategoryStore: ...

    @property
    def channels(self) -> ChannelStore: ...

    @property
    def warehouses(self) -> WarehouseStore: ...

    @property
    def customers(self) -> CustomerStore: ...

    @property
    def stock(self) -> StockStore: ...

    @property
    def orders(self) -> OrderStore: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    @property
    def queries(self) -> QueryStore: ...

    @property
    def intake(self) -> IntakeReader: ...

    @property
    def users(self) -> UserStore: ...

    @property
    def sessions(self) -> SessionStore: ...

    @property
    def api_keys(self) -> ApiKeyStore: ...

    @property
    def audit(self) -> AuditStore: ...

    @property
    def personal_data(self) -> PersonalDataStore: ...

    @property
    def transfers(self) -> TransferStore: ...

    @property
    def purchase_orders(self) -> PurchaseOrderStore: ...

    @property
    def positions(self) -> PositionStore: ...

    @property
    def locations(self) -> LocationStore: ...

    @property
    def stock_counts(self) -> StockCountStore: ...

    @property
    def stock_rules(self) -> StockRuleStore: ...

    @property
    def sourcing(self) -> SourcingStore: ...

    def sourcing_setup(self) -> SourcingSetup:
        """The tariffs and routing rules in force (a per-process copy, checked fresh)."""
        ...

    @property
    def alerts(self) -> AlertStore: ...

    @property
    def shipments(self) -> ShipmentStore: ...

    @property
    def waves(self) -> WaveStore: ...

    @property
    def legal_entities(self) -> LegalEntityStore: ...

    @property
    def documents(self) -> DocumentStore: ...

    @property
    def event_log(self) -> EventLogStore: ...

    @property
    def consumers(self) -> ConsumerStore: ...

    @property
    def webhooks(self) -> WebhookStore: ...

    @property
    def marketplaces(self) -> MarketplaceStore: ...

    @property
    def marketplace_items(self) -> MarketplaceItemStore: ...

    @property
    def crm_sync(self) -> CrmSyncStore: ...

    @property
    def returns(self) -> ReturnStore: ...

    @property
    def notifications(self) -> NotificationStore: ...

    @property
    def tracking_links(self) -> TrackingLinkStore: ...

    @property
    def notification_templates(self) -> TemplateStore: ...

    @property
    def overdue_thresholds(self) -> ThresholdStore: ...

    @property
    def notification_switches(self) -> SwitchStore: ...

    @property
    def onec(self) -> OnecStore: ...

    @property
    def store_receipts(self) -> StoreReceiptStore: ...

    @property
    def carrier_points(self) -> CarrierPointStore: ...

    @property
    def carrier_labels(self) -> CarrierLabelStore: ...

    @property
    def cod_remittances(self) -> RemittanceStore: ...

    @property
    def automation(self) -> AutomationStore: ...

    @property
    def tasks(self) -> TaskStore: ...

    @property
    def reports(self) -> ReportStore: ...

    @property
    def payments(self) -> PaymentStore: ...

    @property
    def fiscal(self) -> FiscalStore: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def read(self) -> Self: ...

    def record(self, *events: DomainEvent, audited: bool = True) -> None:
        """Events for the outbox, written with this transaction; each gets an audit row
        unless ``audited`` is False (one event of a bulk upload speaks for its changes)."""
        ...

    def unaudited(self, *events: DomainEvent) -> None:
        """These events - recorded already, or to be with an aggregate's save - go to the
        outbox without an audit row of their own: another event of the transaction speaks
        for them in the audit trail (an automation rule's ``rule.fired`` for the tags and
        notes it made)."""
        ...

    def flush_events(self) -> None:
        """Write the events recorded so far to the outbox now, in this transaction (a bulk
        change records many: memory stays bounded; the commit writes the rest)."""
        ...

    def commit(self) -> None: ...


def atomically(uow: UnitOfWork, work: Callable[[UnitOfWork], T]) -> T:
    """Run ``work`` in a write transaction and commit; run it afresh when a race was lost.

    Lost races (deadlocks, a duplicate arriving at the same moment) roll the whole
    transaction back; the next attempt sees what the winner committed.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with uow:
                result = work(uow)
                uow.commit()
                return result
        except (TransientConflict, DuplicateRow) as lost:  # a duplicate may be a race lost too
            if attempt == ATTEMPTS:
                raise
            timing.mark("retry", type(lost).__name__)
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")


def reading(uow: UnitOfWork, work: Callable[[UnitOfWork], T]) -> T:
    """Run ``work`` in a read-only transaction."""
    with uow.read():
        return work(uow)
