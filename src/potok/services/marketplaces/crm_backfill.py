"""A CRM connection's back-fill: Potok's orders of the other channels that existed before
the connection (the order push tells only what changes after it) told to the CRM, with
their customers, in batches.

Started once (``POST /api/v1/marketplaces/{code}/crm-backfills``, ``potok marketplaces
backfill``), it takes every order of another channel up to the newest one at that moment,
oldest first, 50 at a time (RetailCRM's upload limit): the batch's customers by
``customers/upload`` (one the CRM has already is left as it is), then the orders by
``orders/upload`` linked to them (one the CRM has already - told by the push meanwhile, or
by a back-fill before - is brought up to date by ``orders/{externalId}/edit`` instead), so
running it twice leaves one of each in the CRM. After each batch the CRM took, the
back-fill's cursor (the last order id told) and its counts are committed: a back-fill cut
off (the CRM down, the process stopped) goes on from there, and a CRM that cannot be
reached keeps the cursor where it was with its words in ``last_error``. One runner at a
time: it holds the back-fill under a lease, renewed with every batch. An order the CRM
refuses goes to the connection's journal (``push-failed``, ``potok/<order id>``) and the
order push tells it again until the CRM takes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import cast

from potok.connectors.marketplaces import (
    MIRRORS_ORDERS,
    CredentialsRefused,
    MarketplaceClient,
    MarketplaceClients,
    MarketplaceError,
    MarketplaceNotSupported,
    MirroredCustomer,
    MirroredOrder,
    OrderMirror,
)
from potok.connectors.marketplaces.retailcrm import UPLOAD_BATCH
from potok.domain.kernel import Clock, utc_now
from potok.domain.marketplaces import Connection, ConnectionNotFound, Credentials, JournalKind
from potok.domain.marketplaces.crm import BackfillNotFound, NotACrm
from potok.services.crm_ports import Backfill, BackfillStep
from potok.services.idempotency import Once, atomically_once
from potok.services.marketplaces.crm_orders import JOURNAL_PREFIX, mirrored
from potok.services.marketplaces.journal import keep_aside
from potok.services.unit_of_work import UnitOfWork, atomically, reading

LEASE = timedelta(minutes=2)
"""How long a runner holds the back-fill without telling a batch before another may take it."""


@dataclass(frozen=True, slots=True)
class BackfillView:
    """A connection's back-fill as its readers see it."""

    connection: str
    backfill: Backfill


def _connection(uow: UnitOfWork, code: str) -> Connection:
    connection = uow.marketplaces.get_by_code(code)
    if connection is None:
        raise ConnectionNotFound(connection=code)
    if connection.marketplace not in MIRRORS_ORDERS:
        raise NotACrm(connection=code, marketplace=connection.marketplace.value)
    return connection


def start_backfill(
    uow: UnitOfWork,
    code: str,
    *,
    restart: bool = False,
    clock: Clock = utc_now,
    once: Once[BackfillView] | None = None,
) -> BackfillView:
    """Start telling the CRM the orders of other channels up to the newest one now; a
    back-fill that is running already is left to go on (``restart``: from the first order
    again - harmless, the CRM keeps one of each)."""

    def work(uow: UnitOfWork) -> BackfillView:
        connection = _connection(uow, code)
        found = uow.crm_sync.backfill(connection.id)
        if found is None or found.state != "running" or restart:
            channel = uow.channels.get_by_code(connection.channel_code)
            assert channel is not None
            total, through = uow.crm_sync.count_to_tell(channel.id)
            uow.crm_sync.start_backfill(connection.id, through=through, total=total, at=clock())
            found = uow.crm_sync.backfill(connection.id)
        assert found is not None
        return BackfillView(connection.code, found)

    return atomically_once(uow, once, work)


def get_backfill(uow: UnitOfWork, code: str) -> BackfillView:
    """Where the connection's back-fill stands."""

    def work(uow: UnitOfWork) -> BackfillView:
        connection = _connection(uow, code)
        found = uow.crm_sync.backfill(connection.id)
        if found is None:
            raise BackfillNotFound(connection=code)
        return BackfillView(connection.code, found)

    return reading(uow, work)


@dataclass(frozen=True, slots=True)
class _Batch:
    orders: list[MirroredOrder]
    customers: list[MirroredCustomer]
    last: int  # the highest order id in it
    count: int  # orders it was read for


def run_backfill(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    worker: str,
    *,
    batches: int | None = None,
    batch: int = UPLOAD_BATCH,
    lease: timedelta = LEASE,
    clock: Clock = utc_now,
    progress: Callable[[Backfill], None] | None = None,
) -> Backfill | None:
    """Tell the CRM the back-fill's next ``batches`` batches (all that are left: None);
    None when the connection has no back-fill running or another runner holds it.
    ``progress`` hears the back-fill after each batch."""

    def claim(uow: UnitOfWork) -> tuple[Connection, Credentials, int] | None:
        connection = _connection(uow, code)
        at = clock()
        if not uow.crm_sync.claim_backfill(connection.id, worker, at, at + lease):
            return None
        channel = uow.channels.get_by_code(connection.channel_code)
        assert channel is not None
        return connection, uow.marketplaces.credentials(connection.id), channel.id

    claimed = atomically(uow, claim)
    if claimed is None:
        return None
    connection, credentials, channel_id = claimed
    try:
        client = clients.build(connection, credentials)
    except MarketplaceNotSupported as error:
        words = error.detail
        atomically(
            uow, lambda uow: uow.crm_sync.fail_backfill(connection.id, worker, words, clock())
        )
        _release(uow, connection.id, worker)
        return reading(uow, lambda uow: uow.crm_sync.backfill(connection.id))
    try:
        done = 0
        while batches is None or done < batches:
            found = reading(uow, lambda uow: _next(uow, connection.id, channel_id, worker, batch))
            if found is None:
                break  # done, restarted, or somebody else's now
            state, told = found
            if told is None:
                end = BackfillStep(state.through_order_id)
                _advance(uow, connection, worker, end, True, lease, clock)
                break
            step = _tell(uow, connection, worker, client, told, clock)
            if step is None:  # the CRM could not be reached: the cursor stays
                break
            finished = told.count < batch or told.last >= state.through_order_id
            if not _advance(uow, connection, worker, step, finished, lease, clock):
                break  # somebody restarted it, or took it over after our lease ran out
            done += 1
            if progress is not None:
                now = reading(uow, lambda uow: uow.crm_sync.backfill(connection.id))
                if now is not None:
                    progress(now)
            if finished:
                break
    finally:
        client.close()
        _release(uow, connection.id, worker)
    return reading(uow, lambda uow: uow.crm_sync.backfill(connection.id))


def _next(
    uow: UnitOfWork, connection_id: int, channel_id: int, worker: str, size: int
) -> tuple[Backfill, _Batch | None] | None:
    """The back-fill while ``worker`` runs it, and its next batch (None: nothing is left)."""
    state = uow.crm_sync.backfill(connection_id)
    if state is None or state.state != "running" or state.worker != worker:
        return None
    ids = uow.crm_sync.orders_to_tell(
        channel_id, after=state.after_order_id, through=state.through_order_id, limit=size
    )
    return state, (_gather(uow, ids) if ids else None)


def _gather(uow: UnitOfWork, ids: Sequence[int]) -> _Batch:
    """The batch's orders as the CRM is told them, and their customers."""
    orders = uow.orders.get_many(list(ids))
    customers: dict[int, MirroredCustomer] = {}
    for order in orders:
        if order.customer_id is None or order.customer_id in customers:
            continue
        customer = uow.customers.get(order.customer_id)
        if customer is None or customer.anonymised_at is not None:
            continue
        customers[order.customer_id] = MirroredCustomer(
            external_id=str(order.customer_id),
            name=customer.name,
            phone=customer.phone,
            email=customer.email,
            created_at=customer.created_at,
        )
    told = [
        mirrored(o, customer=str(o.customer_id) if o.customer_id in customers else None)
        for o in sorted(orders, key=lambda o: o.id or 0)
    ]
    return _Batch(told, list(customers.values()), max(ids), len(ids))


def _tell(
    uow: UnitOfWork,
    connection: Connection,
    worker: str,
    client: MarketplaceClient,
    batch: _Batch,
    clock: Clock,
) -> BackfillStep | None:
    """Tell the CRM one batch; None (and the CRM's words kept) when it could not be told."""
    crm = cast(OrderMirror, client)
    try:
        people = crm.mirror_customers(batch.customers) if batch.customers else None
        refused_people = set(people.refused) if people is not None else set()
        orders = [
            o if o.customer not in refused_people else _without_customer(o) for o in batch.orders
        ]
        told = crm.mirror_orders(orders, [])
    except (CredentialsRefused, MarketplaceError) as error:
        words = str(error)
        atomically(
            uow, lambda uow: uow.crm_sync.fail_backfill(connection.id, worker, words, clock())
        )
        return None
    by_id = {o.external_id: o for o in orders}
    for external_id, reason in told.refused.items():
        order = by_id.get(external_id)
        keep_aside(
            uow,
            connection,
            JOURNAL_PREFIX + external_id,
            JournalKind.PUSH_FAILED,
            f"the CRM refused Potok's order {external_id}: {reason}",
            {"order_id": int(external_id), "number": order.number if order else ""},
            clock,
        )
    taken = [int(i) for i in (*told.created, *told.updated) if i.isdigit()]
    at = clock()
    atomically(uow, lambda uow: uow.crm_sync.note_told(connection.id, taken, at))
    return BackfillStep(
        after_order_id=batch.last,
        sent=len(orders),
        created=len(told.created),
        updated=len(told.updated),
        refused=len(told.refused),
        customers=len(people.created) if people is not None else 0,
        requests=told.requests + (people.requests if people is not None else 0),
    )


def _without_customer(order: MirroredOrder) -> MirroredOrder:
    return replace(order, customer=None)


def _advance(
    uow: UnitOfWork,
    connection: Connection,
    worker: str,
    step: BackfillStep,
    done: bool,
    lease: timedelta,
    clock: Clock,
) -> bool:
    at = clock()
    return atomically(
        uow,
        lambda uow: uow.crm_sync.advance_backfill(
            connection.id, worker, step, at=at, until=at + lease, done=done
        ),
    )


def _release(uow: UnitOfWork, connection_id: int, worker: str) -> None:
    atomically(uow, lambda uow: uow.crm_sync.release_backfill(connection_id, worker))
