"""Timed jobs, safe to run from several processes at once (each change locks its order);
on PostgreSQL one process of the fleet runs them at a time (``worker/leadership.py``), so
that each schedule is kept once, not once per process."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.unit_of_work import SqlUnitOfWork
from potok.domain.errors import PotokError
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.sourcing.stock_value import StockPricingRun
from potok.services.automation.schedules import ScheduledRun, run_scheduled_rules
from potok.services.cod_remittances import RemittanceRun, read_remittances
from potok.services.events import Pruned, prune_delivered
from potok.services.expiry import ExpiryRun, expire_lots
from potok.services.fiscal.sending import FiscalRun, work_the_queue
from potok.services.forecasting import StoredForecast, forecast_when_due
from potok.services.fulfilment.labels import LabelRun, retry_labels
from potok.services.fulfilment.tracking import TrackingOutcome, expire_pickups, poll_carriers
from potok.services.marketplaces import (
    CatalogueMatch,
    PollOutcome,
    map_catalogues_due,
    poll_due,
)
from potok.services.orders import (
    expire_holds,
    expire_unpaid_orders,
    retry_backorders_everywhere,
)
from potok.services.outside import Outside
from potok.services.payments.polling import PollRun, poll_payments
from potok.services.ports import AuditContext, ReplanRun
from potok.services.replanning import replan_held_when_due, replan_when_due
from potok.services.replenishment import CrossingSeen, announce_crossings
from potok.services.rerouting import Rerouted, expire_reservations
from potok.services.stock_pricing import price_stock_when_due
from potok.services.tasks import escalate_overdue_tasks
from potok.services.unit_of_work import atomically
from potok.worker.leadership import Leadership

log = logging.getLogger("potok.worker")

IDEMPOTENCY_KEYS_KEPT = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class JobReport:
    expired_orders: list[int]
    expired_holds: int
    forgotten_keys: int
    backorders_reserved: list[int]
    minimum_crossings: list[CrossingSeen] = field(default_factory=list)
    expired_lots: ExpiryRun | None = None
    lapsed_reservations: Rerouted | None = None
    replan: ReplanRun | None = None
    tracking: TrackingOutcome | None = None
    pickups_failed: list[int] = field(default_factory=list)
    marketplaces: list[PollOutcome] = field(default_factory=list)
    points_synced: list[object] = field(default_factory=list)  # per carrier: outcome or error
    catalogues: list[CatalogueMatch] = field(default_factory=list)
    escalated_tasks: list[int] = field(default_factory=list)  # operators' tasks past their SLA
    pruned: Pruned | None = None  # retention of the outbox and the delivery log
    labels: LabelRun | None = None  # carriers' labels fetched, bookings retried
    remittances: RemittanceRun | None = None  # carriers' cash-on-delivery registries read
    forecast: StoredForecast | None = None  # the demand forecast, when its schedule came
    stock_prices: StockPricingRun | None = None  # stock priced anew, when its schedule came
    scheduled_rules: ScheduledRun | None = None  # automation rules run on their schedule
    fiscal: FiscalRun | None = None  # fiscal receipts sent and their results read
    # PostgreSQL's monthly partitions made ahead and dropped per retention, once a day
    partitions: tuple[list[str], list[str]] | None = None
    payments: PollRun | None = None  # gateway payments in flight read back, when due
    held_replan: ReplanRun | None = None  # the held orders re-planned together, a wave due


def run_due_jobs(potok: Potok, *, clock: Clock = utc_now) -> JobReport:
    """Expire unpaid orders and timed holds whose time has come, give backordered orders
    another try, announce stock levels that crossed their minimum since the last run, make
    expired lots unavailable (re-sourcing their reservations), source orders again whose
    reservation outlived its location's reservation hours, forget old idempotency keys,
    re-plan open orders with the batch optimiser when its schedule says so, poll the
    marketplace connections whose schedule has come, book and fetch carriers' labels whose
    retry is due, read the carriers' cash-on-delivery registries when their schedule says
    so, escalate operators' tasks whose time is up, run the automation rules whose schedule
    has come, read back the gateway payments still in flight, prune delivered events and old
    delivery attempts (retention), run the demand forecast and price stock for the orders
    still to come when their schedules say so, send the queued fiscal receipts and read the
    results of the sent ones, and keep PostgreSQL's monthly partitions."""
    batch = potok.settings.worker.batch_size
    expired = expire_unpaid_orders(_uow(potok, "payment-deadline"), clock=clock, limit=batch)
    holds = expire_holds(_uow(potok, "hold-expiry"), clock=clock, limit=batch)
    served = retry_backorders_everywhere(_uow(potok, "backorders"), clock=clock, limit=batch)
    crossings = announce_crossings(_uow(potok, "stock-minimums"), clock=clock, limit=batch)
    lots = expire_lots(_uow(potok, "lot-expiry"), Actor.system("lot-expiry"), clock=clock)
    lapsed = expire_reservations(
        _uow(potok, "reservation-expiry"),
        Actor.system("reservation-expiry"),
        clock=clock,
        limit=batch,
    )
    cutoff = clock() - IDEMPOTENCY_KEYS_KEPT
    forgotten = atomically(
        _uow(potok, "housekeeping"), lambda uow: uow.idempotency.forget_older_than(cutoff)
    )
    sourcing = potok.settings.sourcing
    replanned = replan_when_due(
        _uow(potok, "replan"),
        sourcing.replan_every_minutes,
        clock=clock,
        time_limit_s=sourcing.replan_time_limit_s,
    )
    wave_minutes = sourcing.wave_minutes or sourcing.hold_minutes / 2
    refreshed: list[StockPricingRun] = []

    def price_for_wave() -> None:  # the wave plans with prices no older than a wave
        run = price_stock_when_due(
            _uow(potok, "stock-prices"),
            wave_minutes / 60,
            history_days=sourcing.stock_history_days,
            horizon_days=sourcing.stock_horizon_days,
            clock=clock,
        )
        refreshed.extend([run] if run is not None else [])

    held = replan_held_when_due(
        _uow(potok, "replan-held"),
        sourcing.hold_minutes,
        wave_minutes,
        clock=clock,
        time_limit_s=sourcing.replan_time_limit_s,
        before=price_for_wave,
    )
    pickups = expire_pickups(_uow(potok, "pickup-deadline"), clock=clock, limit=batch)
    labelled = retry_labels(
        _uow(potok, "carrier-labels"),
        potok.carriers,
        clock=clock,
        limit=batch,
        alert_after=potok.settings.carriers.booking_alert_after,
    )
    fiscal = work_the_queue(lambda: _uow(potok, "fiscal-receipts"), potok.fiscal, clock=clock)
    tracked = None
    if _tracking_due(potok, clock()):
        tracked = poll_carriers(_uow(potok, "carrier-tracking"), potok.carriers, clock=clock)
    polled = poll_due(
        _uow(potok, "marketplaces"),
        potok.marketplaces,
        clock=clock,
        batch=potok.settings.marketplaces.import_batch,
    )
    catalogues: list[CatalogueMatch] = []
    if _catalogues_due(potok, clock()):
        catalogues = map_catalogues_due(
            _uow(potok, "marketplace-catalogue"), potok.marketplaces, clock=clock
        )
    synced: list[object] = []
    if _points_due(potok, clock()):
        from potok.services.carrier_points import sync_all

        synced = list(sync_all(_uow(potok, "pickup-points"), potok.carriers, clock=clock))
    remitted = None
    if _remittances_due(potok, clock()):
        remitted = read_remittances(
            _uow(potok, "cod-remittances"),
            potok.carriers,
            days=potok.settings.carriers.remittance_days,
            clock=clock,
        )
    escalated = escalate_overdue_tasks(_uow(potok, "task-timers"), clock=clock, limit=batch)
    scheduled = run_scheduled_rules(_uow(potok, "rule-schedule"), clock=clock)
    forecast = forecast_when_due(
        _uow(potok, "forecast"), potok.settings.worker.forecast_every_hours, clock=clock
    )
    priced = (
        refreshed[0]
        if refreshed
        else price_stock_when_due(
            _uow(potok, "stock-prices"),
            sourcing.price_stock_every_hours,
            history_days=sourcing.stock_history_days,
            horizon_days=sourcing.stock_horizon_days,
            clock=clock,
        )
    )
    pruned = None
    if _retention_due(potok, clock()):
        pruned = prune_delivered(
            _uow(potok, "retention"),
            keep_events=_days(potok.settings.events.retention_days),
            keep_log=_days(potok.settings.events.delivery_log_days),
            clock=clock,
        )
    months = None
    if _partitions_due(potok, clock()):
        months = _maintain_partitions(potok, clock())
    payments = None
    if _payments_due(potok, clock()):
        payments = poll_payments(
            Outside(lambda: _uow(potok, "payments-poll"), potok.carriers, clock, potok.gateways),
            every_s=potok.settings.payments.poll_every_s,
            limit=potok.settings.payments.poll_batch,
            capture_after=timedelta(hours=potok.settings.payments.capture_held_after_h),
        )
    return JobReport(
        expired,
        holds,
        forgotten,
        served,
        crossings,
        lots,
        lapsed,
        replanned,
        tracked,
        pickups,
        polled,
        synced,
        catalogues,
        escalated,
        pruned,
        labelled,
        remitted,
        forecast,
        priced,
        scheduled,
        fiscal,
        months,
        payments,
        held,
    )


RETENTION_EVERY = timedelta(minutes=10)
_LAST_PRUNE: dict[int, datetime] = {}


def _retention_due(potok: Potok, now: datetime) -> bool:
    """Old events and delivery attempts are pruned every ten minutes at most."""
    settings = potok.settings.events
    if not settings.retention_days and not settings.delivery_log_days:
        return False
    last = _LAST_PRUNE.get(id(potok))
    if last is not None and now - last < RETENTION_EVERY:
        return False
    _LAST_PRUNE[id(potok)] = now
    return True


PARTITIONS_EVERY = timedelta(hours=24)
_LAST_PARTITIONS: dict[int, datetime] = {}


def _partitions_due(potok: Potok, now: datetime) -> bool:
    """Months are made ahead and old ones dropped once a day by each process (from its
    start), on PostgreSQL."""
    if potok.engine.dialect.name != "postgresql":
        return False
    last = _LAST_PARTITIONS.get(id(potok))
    if last is not None and now - last < PARTITIONS_EVERY:
        return False
    _LAST_PARTITIONS[id(potok)] = now
    return True


def _maintain_partitions(potok: Potok, now: datetime) -> tuple[list[str], list[str]] | None:
    from potok.db.partitions import maintain

    settings = potok.settings.db.partitions
    try:
        made, dropped = maintain(
            potok.engine, now.date(), ahead=settings.ahead_months, keep=settings.keep()
        )
    except sa.exc.OperationalError as error:  # a lock not had in time: the next round again
        log.warning("partitions not maintained this time: %s", error)
        _LAST_PARTITIONS.pop(id(potok), None)
        return None
    for name in made:
        log.info("partition %s made", name)
    for name in dropped:
        log.info("partition %s dropped per retention", name)
    return made, dropped


def _days(days: float) -> timedelta | None:
    return timedelta(days=days) if days else None


_LAST_POLL: dict[int, datetime] = {}


def _tracking_due(potok: Potok, now: datetime) -> bool:
    """Carriers are asked every ``carriers.poll_every_minutes`` by each process (applying
    the same event twice is harmless); 0 never."""
    every = potok.settings.carriers.poll_every_minutes
    if every <= 0:
        return False
    last = _LAST_POLL.get(id(potok))
    if last is not None and now - last < timedelta(minutes=every):
        return False
    _LAST_POLL[id(potok)] = now
    return True


_LAST_PAYMENTS_POLL: dict[int, datetime] = {}


def _payments_due(potok: Potok, now: datetime) -> bool:
    """Gateway payments in flight are read back every ``payments.poll_every_s`` by each
    process (applying the same status twice changes nothing) - when a channel takes them."""
    last = _LAST_PAYMENTS_POLL.get(id(potok))
    if last is not None and now - last < timedelta(seconds=potok.settings.payments.poll_every_s):
        return False
    _LAST_PAYMENTS_POLL[id(potok)] = now
    return True


_LAST_SYNC: dict[int, datetime] = {}


def _points_due(potok: Potok, now: datetime) -> bool:
    """The carriers' pickup points are synced every ``carriers.points_sync_hours`` by each
    process (a second sync changes nothing); 0 never."""
    every = potok.settings.carriers.points_sync_hours
    if every <= 0:
        return False
    last = _LAST_SYNC.get(id(potok))
    if last is not None and now - last < timedelta(hours=every):
        return False
    _LAST_SYNC[id(potok)] = now
    return True


_LAST_REMITTANCES: dict[int, datetime] = {}


def _remittances_due(potok: Potok, now: datetime) -> bool:
    """The carriers' cash-on-delivery registries are read every
    ``carriers.remittances_every_hours`` by each process (a registry read again settles
    nothing twice); 0 never."""
    every = potok.settings.carriers.remittances_every_hours
    if every <= 0:
        return False
    last = _LAST_REMITTANCES.get(id(potok))
    if last is not None and now - last < timedelta(hours=every):
        return False
    _LAST_REMITTANCES[id(potok)] = now
    return True


_LAST_CATALOGUE: dict[int, datetime] = {}


def _catalogues_due(potok: Potok, now: datetime) -> bool:
    """Marketplace catalogues are read every ``marketplaces.catalogue_every_hours`` by each
    process (a second reading maps nothing new); 0 never."""
    every = potok.settings.marketplaces.catalogue_every_hours
    if every <= 0:
        return False
    last = _LAST_CATALOGUE.get(id(potok))
    if last is not None and now - last < timedelta(hours=every):
        return False
    _LAST_CATALOGUE[id(potok)] = now
    return True


def _uow(potok: Potok, job: str) -> SqlUnitOfWork:
    """A unit of work whose audit trail names the job."""
    return potok.uow(AuditContext(actor=str(Actor.system(job)), via="worker"))


def run_forever(potok: Potok, stop: threading.Event) -> None:
    """Run the jobs every ``worker.interval_s`` seconds until ``stop`` is set, in the one
    process of the fleet that holds the jobs' lock."""
    interval = potok.settings.worker.interval_s
    leadership = Leadership(potok.engine)
    try:
        while not stop.is_set():
            if leadership.held():
                _round(potok)
            stop.wait(interval)
    finally:
        leadership.release()


def _round(potok: Potok) -> None:
    """One round of the jobs, its outcome logged; a failure is logged, never raised."""
    try:
        report = run_due_jobs(potok)
        if report.replan is not None:
            log.info(
                "re-planned %d open orders: %d changed, %d skipped (run %s)",
                report.replan.orders_considered,
                report.replan.orders_changed,
                report.replan.orders_skipped,
                report.replan.id,
            )
        if report.held_replan is not None:
            log.info(
                "re-planned %d held orders together: %d changed, %d skipped (run %s)",
                report.held_replan.orders_considered,
                report.held_replan.orders_changed,
                report.held_replan.orders_skipped,
                report.held_replan.id,
            )
        if report.expired_orders or report.expired_holds:
            log.info(
                "expired %d unpaid orders and %d holds",
                len(report.expired_orders),
                report.expired_holds,
            )
        for polled in report.marketplaces:
            if polled.error:
                log.warning("marketplace %s: %s", polled.connection, polled.error)
            elif polled.imported or polled.cancelled:
                log.info(
                    "marketplace %s: %d orders imported, %d cancelled, %d kept aside",
                    polled.connection,
                    len(polled.imported),
                    len(polled.cancelled),
                    len(polled.kept_aside),
                )
        if report.forecast is not None:
            log.info(
                "demand forecast %d stored: %d series",
                report.forecast.id,
                len(report.forecast.run.series),
            )
        if report.stock_prices is not None:
            log.info(
                "stock priced for the orders still to come: %d positions (run %s, %.1f s)",
                report.stock_prices.priced,
                report.stock_prices.id,
                report.stock_prices.seconds,
            )
        if report.pruned is not None and (report.pruned.events or report.pruned.deliveries):
            log.info(
                "retention: pruned %d events and %d delivery attempts",
                report.pruned.events,
                report.pruned.deliveries,
            )
        labelled = report.labels
        if labelled is not None and (labelled.ready or labelled.failed):
            log.info(
                "carrier labels: %d ready, %d refused, %d still waiting",
                len(labelled.ready),
                len(labelled.failed),
                len(labelled.waiting),
            )
        fiscal = report.fiscal
        if fiscal is not None and (fiscal.busy or fiscal.waiting):
            log.info(
                "fiscal receipts: %d sent, %d registered, %d failed, %d waiting",
                len(fiscal.sent),
                len(fiscal.done),
                len(fiscal.failed),
                len(fiscal.waiting),
            )
        lapsed = report.lapsed_reservations
        if lapsed is not None and lapsed.orders:
            log.info(
                "re-sourced %d orders whose reservations lapsed (%d backordered)",
                len(lapsed.orders),
                len(lapsed.backordered),
            )
    except PotokError as error:
        log.warning("timed jobs failed: %s", error.detail)
    except Exception:
        log.exception("timed jobs failed")


def start_in_background(potok: Potok) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(potok, stop), name="potok-worker", daemon=True
    )
    thread.start()
    return thread, stop
