"""The reactions registry: the one place that says "when X happens, do Y".

Two tables: :data:`REACTIONS` for what follows a trigger inside the use case's
transaction, and :data:`AFTER_COMMIT` for what follows a committed event later, from the
dispatcher (anything that calls the outside world or is heavy).

Use cases change the domain, record their domain events for the outbox and say what
happened to other parts of Potok as a trigger (``domain/triggers.py``), by calling
:func:`react`. The table :data:`REACTIONS` maps each trigger to its handlers, in the order
they run, and says for each whether it runs inside the use case's transaction (and why
it must) or after commit. A handler is small, named for what it does, and may raise
further triggers, which are handled at once (depth first), so the order of work is
exactly what it would be if the calls were written out in the use case.

No service module calls another area's reactions directly; a test holds the tree to that.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from potok.domain.alerts import Alert
from potok.domain.automation.model import SCHEDULE, TRIGGERS
from potok.domain.marketplaces.crm import CRM_ORDER_EVENTS
from potok.domain.marketplaces.stock import STOCK_EVENTS
from potok.domain.notifications import EVENT_TOPICS, RULE_NOTICE
from potok.domain.orders import Order
from potok.domain.tasks.system import SYSTEM_QUEUES, system_task
from potok.domain.triggers import (
    OrdersDisplaced,
    OrdersLeftShort,
    ParcelCameBack,
    StockFiguresMoved,
    StockFreed,
    Trigger,
)
from potok.domain.webhooks import StoredEvent
from potok.domain.webhooks.catalogue import event_types
from potok.services.alerts import raise_alerts
from potok.services.allocation import resource, retry_backorders
from potok.services.fiscal.queueing import EVENTS as FISCAL_EVENTS
from potok.services.fiscal.queueing import fiscal_events, queue_fiscal_receipts
from potok.services.fulfilment.bookings import call_off_carrier_booking
from potok.services.outside import EventHandler, Outside, Settle, WindowHandler
from potok.services.replenishment import CrossingSeen, check_minimums
from potok.services.reports import FACT_EVENTS, refresh_facts_of_many
from potok.services.tasks import open_system_task
from potok.services.unit_of_work import UnitOfWork


class Phase(StrEnum):
    """When a reaction runs."""

    IN_TRANSACTION = "in_transaction"  # with the change, committed or rolled back with it
    AFTER_COMMIT = "after_commit"  # later, from the outbox dispatcher, at least once


@dataclass
class Effects:
    """What the reactions did, for the use case to report to its caller."""

    resourced: list[Order] = field(default_factory=list)  # displaced orders sourced again
    short: list[Order] = field(default_factory=list)  # of those, the ones left backordered
    alerts: list[Alert] = field(default_factory=list)  # raised for operators
    reserved: list[int] = field(default_factory=list)  # backordered orders now reserved
    crossings: list[CrossingSeen] = field(default_factory=list)  # min/max crossings announced
    returns: list[str] = field(default_factory=list)  # returns opened for parcels back

    @property
    def resourced_ids(self) -> list[int]:
        return [o.id for o in self.resourced if o.id is not None]

    @property
    def short_ids(self) -> list[int]:
        return [o.id for o in self.short if o.id is not None]

    @property
    def alert_ids(self) -> list[int]:
        return [a.id for a in self.alerts]


Handler = Callable[[UnitOfWork, Any, Effects], None]

Selector = Callable[[Outside, UnitOfWork, Sequence[StoredEvent]], list[StoredEvent]]
"""Of a window's events of a reaction's types, the ones its handler may act on (inside the
dispatcher's read of the window): the handler would do nothing with the others."""

Narrower = Callable[[UnitOfWork], Collection[str]]
"""Of a reaction's types, those it may act on at all now (inside the dispatcher's read of
the window, before the events are read)."""


@dataclass(frozen=True, slots=True)
class Reaction:
    """One handler of one trigger, when it runs, and why there."""

    handler: Handler
    phase: Phase
    because: str

    @property
    def name(self) -> str:
        return self.handler.__name__


# ---------------------------------------------------------------------- handlers


def retry_backorders_on_stock_freed(uow: UnitOfWork, trigger: StockFreed, effects: Effects) -> None:
    """Orders waiting for the freed products get another try, most urgent first."""
    if trigger.product_ids:
        effects.reserved += retry_backorders(uow, trigger.product_ids, trigger.at, trigger.actor)


def resource_displaced_orders(uow: UnitOfWork, trigger: OrdersDisplaced, effects: Effects) -> None:
    """Orders that lost their reservations are sourced again, elsewhere if need be."""
    orders = list(trigger.orders)
    short = resource(
        uow, orders, trigger.at, trigger.actor, trigger=trigger.why, avoid=trigger.avoid
    )
    effects.resourced += orders
    effects.short += short
    _raise(uow, OrdersLeftShort(at=trigger.at, orders=short, why=trigger.why), effects)


def alert_operators_of_shortage(
    uow: UnitOfWork, trigger: OrdersLeftShort, effects: Effects
) -> None:
    """Operators are told which orders re-routing could not cover, and what is short."""
    effects.alerts += raise_alerts(uow, trigger.orders, trigger.at, trigger.why)


def announce_minimum_crossings(
    uow: UnitOfWork, trigger: StockFiguresMoved, effects: Effects
) -> None:
    """A position whose projected level crossed its minimum says so, once per crossing."""
    effects.crossings += check_minimums(uow, trigger.positions, trigger.at)


def open_return_for_unclaimed_parcel(
    uow: UnitOfWork, trigger: ParcelCameBack, effects: Effects
) -> None:
    """A parcel back undelivered becomes a return, received at once where it came back."""
    # imported here: the returns area posts through the stock services, which reach this
    # registry themselves
    from potok.services.returns.unclaimed import open_unclaimed_return

    ret, moved = open_unclaimed_return(
        uow, trigger.order, trigger.shipment, trigger.at, trigger.actor
    )
    if ret is not None:
        effects.returns.append(ret.number)
    _raise(uow, StockFiguresMoved(at=trigger.at, positions=moved), effects)


# ---------------------------------------------------------------------- the table

_WITH_THE_CHANGE = (
    "the use case reports the result to its caller, and the change and its consequence "
    "commit together"
)

REACTIONS: Mapping[type[Trigger], tuple[Reaction, ...]] = {
    OrdersDisplaced: (
        Reaction(
            resource_displaced_orders,
            Phase.IN_TRANSACTION,
            "an order must never be left without reservations and without a backorder; "
            + _WITH_THE_CHANGE,
        ),
    ),
    OrdersLeftShort: (
        Reaction(alert_operators_of_shortage, Phase.IN_TRANSACTION, _WITH_THE_CHANGE),
    ),
    StockFreed: (
        Reaction(
            retry_backorders_on_stock_freed,
            Phase.IN_TRANSACTION,
            "freed units go to waiting orders before new intake can take them; " + _WITH_THE_CHANGE,
        ),
    ),
    ParcelCameBack: (
        Reaction(
            open_return_for_unclaimed_parcel,
            Phase.IN_TRANSACTION,
            "the units come back into stock with the shipment's last step, and the return "
            "that says what to do with them must exist from that moment; " + _WITH_THE_CHANGE,
        ),
    ),
    StockFiguresMoved: (
        Reaction(
            announce_minimum_crossings,
            Phase.IN_TRANSACTION,
            "a crossing is announced once, by the transaction that made it; "
            + _WITH_THE_CHANGE
            + " (crossings made by reservations are announced by the timed job)",
        ),
    ),
}


# ---------------------------------------------------------------------- after commit


@dataclass(frozen=True, slots=True)
class EventReaction:
    """A reaction to outbox events that waits for the commit: the dispatcher runs it under
    a cursor of its own (``consumer``), at least once, in order, with retries. One with a
    ``handler`` is run by the dispatcher's reaction runner (``worker/reactions.py``): its
    outside calls happen with no transaction open, and what it writes commits with its
    cursor, once per event."""

    consumer: str
    types: tuple[str, ...]
    does: str
    because: str
    handler: EventHandler | None = None
    window_handler: WindowHandler | None = None  # instead of ``handler``: a window at once
    # of a window's events of its types, those that may call for work, found before the
    # lease is taken (from the payloads, or in a read or two for the whole window); when
    # none is left the cursor is passed over them with the others' in one statement
    selects: Selector | None = None
    # of its types, those that may call for work at all now (read in the transaction that
    # reads the window, before it): events of the others are not read for it - its cursor
    # passes over them - rather than read, decoded and left out by ``selects``
    narrows: Narrower | None = None
    # whether its handlers read the events' payloads: a window read for reactions none of
    # which does leaves them out (neither sent by the server nor decoded)
    payloads: bool = True

    @property
    def name(self) -> str:
        return self.consumer


NOTIFY_CUSTOMERS = EventReaction(
    "notifications",
    tuple(sorted({*EVENT_TOPICS, RULE_NOTICE})),
    "the customer gets an e-mail of the step, or of the template an automation rule named "
    "(worker/notifier.py)",
    "it calls the outside world (an SMTP server) and may wait and be retried; an order's "
    "change must never wait for it or fail because of it",
)

CALL_OFF_BOOKINGS = EventReaction(
    "reaction:call_off_carrier_booking",
    ("shipment.cancelled",),
    "a cancelled shipment that a carrier had booked is called off with the carrier",
    "it calls the carrier's API, and no network call is made while an order's transaction is open",
    handler=call_off_carrier_booking,
)

PUSH_MARKETPLACE_STOCK = EventReaction(
    "marketplace-stock/{connection}",
    STOCK_EVENTS,
    "each marketplace connection is told the stock figures the events moved, many changes "
    "in one call per interval (services/marketplaces/stock.py)",
    "it calls the marketplaces, which limit the rate and fail; a stock change must never "
    "wait for them or fail because of them",
)


PUSH_CRM_ORDERS = EventReaction(
    "crm-orders/{connection}",
    CRM_ORDER_EVENTS,
    "each CRM connection (RetailCRM) is told the orders of other channels the events "
    "touched, each order once per interval as it is then (services/marketplaces/"
    "crm_orders.py)",
    "it calls the CRM, which limits the rate and fails; an order's change must never wait "
    "for it or fail because of it",
)


def apply_automation_rules(outside: Outside, events: Sequence[StoredEvent]) -> Settle | None:
    """The automation rules waiting for these order events run, in their order."""
    # imported here: the rules act through the order use cases, which reach this registry
    from potok.services.automation.running import apply_automation_rules as run

    return run(outside, events)


def events_rules_wait_for(
    outside: Outside, uow: UnitOfWork, events: Sequence[StoredEvent]
) -> list[StoredEvent]:
    """The order events some active rule waits for (the rules are kept per process while
    their stamp holds: one statement)."""
    rules = uow.automation.active_rules()
    return [
        e
        for e in events
        if e.type in rules and e.aggregate_type == "order" and e.aggregate_id.isdigit()
    ]


def types_rules_wait_for(uow: UnitOfWork) -> frozenset[str]:
    """The event types some active rule waits for: the rules' own changes (a tag, a note)
    are events too, read back for the rules only while a rule waits for their type."""
    return frozenset(uow.automation.active_rules())


APPLY_AUTOMATION_RULES = EventReaction(
    "reaction:apply_automation_rules",
    tuple(sorted(set(TRIGGERS) - {SCHEDULE})),
    "the automation rules waiting for the order events run in their order, a window of "
    "events read at once and acting in one transaction (services/automation/running.py)",
    "a rule acts as an operator would, after the change that set it off is committed: the "
    "change never waits for the rules nor fails because of one, and a rule's own changes "
    "are events that other rules may follow (with loops cut)",
    window_handler=apply_automation_rules,
    selects=events_rules_wait_for,
    narrows=types_rules_wait_for,
    payloads=False,  # the rules read the order, not the event's payload
)


def events_calling_for_tasks(
    outside: Outside, uow: UnitOfWork, events: Sequence[StoredEvent]
) -> list[StoredEvent]:
    """The events that call for a task, from their payloads (an order placed with its
    stock is not one)."""
    return [e for e in events if system_task(e.type, e.payload) is not None]


OPEN_SYSTEM_TASKS = EventReaction(
    "reaction:open_system_tasks",
    tuple(sorted(SYSTEM_QUEUES)),
    "a task for a person in the queue of a fixed code when the shop has it: a failed "
    "delivery, a return to inspect, a backordered order, a connector's refusal "
    "(domain/tasks/system.py)",
    "the change that needs a person is done already; the task is written once with the "
    "reaction's cursor, and a missing queue or a busy one never holds the change back",
    handler=open_system_task,
    selects=events_calling_for_tasks,
)

REFRESH_ORDER_FACTS = EventReaction(
    "reaction:refresh_order_facts",
    FACT_EVENTS,
    "the order's row of the reports' read model (order facts) is written afresh",
    "reports may lag a moment behind an order's change, and an order's change must never "
    "wait for the reports or fail because of them",
    window_handler=refresh_facts_of_many,  # each order once a window, one transaction
)


def drive_gateway_payments(outside: Outside, event: StoredEvent) -> Settle | None:
    """The payment gateway is asked what the event calls for (services/payments/flow.py)."""
    # imported here: the flow applies what the gateway says through the order and return
    # use cases, which reach this registry themselves
    from potok.services.payments.flow import drive_gateway_payments as drive

    return drive(outside, event)


def events_for_gateways(
    outside: Outside, uow: UnitOfWork, events: Sequence[StoredEvent]
) -> list[StoredEvent]:
    """The events of orders a payment gateway may have to hear of (services/payments/
    flow.py): one read of the active accounts, one of the orders with a payment."""
    from potok.services.payments.flow import gateway_events

    return gateway_events(outside, uow, events)


DRIVE_GATEWAY_PAYMENTS = EventReaction(
    "reaction:gateway_payments",
    ("order.cancelled", "order.created", "return.refund_changed", "shipment.handed_over"),
    "an own-shop order's payment at the gateway (ЮKassa) is created at intake, captured at "
    "hand-over (partly, when lines were cancelled), cancelled with the order, and refunded "
    "for a return's refund (services/payments/flow.py)",
    "it calls the gateway, which may be slow or down; the intake answers without waiting "
    "for it, a failure is retried with the reaction's cursor held, and what the gateway "
    "answers is applied once",
    handler=drive_gateway_payments,
    selects=events_for_gateways,
)

QUEUE_FISCAL_RECEIPTS = EventReaction(
    "reaction:queue_fiscal_receipts",
    FISCAL_EVENTS,
    "the fiscal receipts (54-ФЗ) a payment, a hand-over, a delivery paid on delivery or a "
    "paid refund calls for are queued for the worker to send, or recorded as skipped with "
    "why (services/fiscal/queueing.py)",
    "a receipt is printed by a cash-register provider that may be down or slow; the "
    "payment, hand-over or refund is done and must never wait for it or fail because of "
    "it, whoever made it (the gateway, the API, a CRM, an operator)",
    window_handler=queue_fiscal_receipts,  # a window in one transaction, in commit order
    selects=fiscal_events,
)

AFTER_COMMIT: tuple[EventReaction, ...] = (
    NOTIFY_CUSTOMERS,
    CALL_OFF_BOOKINGS,
    PUSH_MARKETPLACE_STOCK,
    PUSH_CRM_ORDERS,
    APPLY_AUTOMATION_RULES,
    OPEN_SYSTEM_TASKS,
    REFRESH_ORDER_FACTS,
    DRIVE_GATEWAY_PAYMENTS,
    QUEUE_FISCAL_RECEIPTS,
)


# ---------------------------------------------------------------------- dispatch


def react(uow: UnitOfWork, *triggers: Trigger) -> Effects:
    """Run the reactions to these triggers inside the caller's unit of work, in order."""
    effects = Effects()
    for trigger in triggers:
        _raise(uow, trigger, effects)
    return effects


def _raise(uow: UnitOfWork, trigger: Trigger, effects: Effects) -> None:
    for reaction in REACTIONS.get(type(trigger), ()):
        if reaction.phase is Phase.IN_TRANSACTION:
            reaction.handler(uow, trigger, effects)


def check_registry(
    registry: Mapping[type[Trigger], tuple[Reaction, ...]] = REACTIONS,
    after_commit: tuple[EventReaction, ...] = AFTER_COMMIT,
) -> None:
    """Refuse a registry that cannot work: a trigger nobody handles, a reaction with no
    reason for its phase, an after-commit reaction to an event type that does not exist
    or sharing another's cursor. Called at start-up and by the tests."""
    known = event_types()
    consumers = [r.consumer for r in after_commit]
    if len(set(consumers)) != len(consumers):
        raise ValueError(f"after-commit reactions share a cursor: {sorted(consumers)}")
    for event_reaction in after_commit:
        unknown = sorted(set(event_reaction.types) - known)
        if unknown:
            raise LookupError(f"{event_reaction.consumer} reacts to no event type: {unknown}")
        if not event_reaction.because:
            raise ValueError(f"{event_reaction.consumer} does not say why it waits for the commit")
    for kind in Trigger.__subclasses__():
        if not registry.get(kind):
            raise LookupError(f"no reaction is registered for {kind.__name__}")
    for kind, reactions in registry.items():
        for reaction in reactions:
            if not reaction.because:
                raise ValueError(
                    f"{reaction.name} on {kind.__name__} does not say why it runs there"
                )
            if reaction.phase is Phase.AFTER_COMMIT:
                raise ValueError(
                    f"{reaction.name} on {kind.__name__}: triggers carry live orders and "
                    "cannot wait for the commit; react to an outbox event instead"
                )
