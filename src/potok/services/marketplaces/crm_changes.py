"""Changes made in a CRM (RetailCRM) to orders Potok has - its own orders told to the CRM,
and the CRM's orders Potok imported - taken back into Potok through the operators' paths.

The poll reads the CRM's order history from its cursor (``filter[sinceId]``); records made
by Potok's own key are not changes to take (they are what Potok told the CRM: reading them
back must not apply them again). What a record asks is done as an operator's action does it,
with its history entry and outbox event, under the connection's system actor:

- a **status** of an order Potok told the CRM, by the CRM's fixed status group (the
  CRM's own orders keep having their statuses followed by group, a cancellation
  cancelling): ``cancel`` cancels the order (its stock goes back) while it may still be
  cancelled; ``approval`` confirms a new order; ``new`` and the groups Potok's warehouses
  and carriers drive (``assembling``, ``delivery``, ``complete``) are taken only when the
  order already stands there - otherwise the change is refused, never forced;
- the **customer** (first/last name, patronymic, phone, e-mail) and the **delivery address**
  as the CRM's order has them now, by the order-edit use case (``PATCH /orders/{id}``), so
  its rules hold: an address no longer changes once picking started;
- a **comment** (the customer's or the manager's) as a note in the order's history.

A change Potok refuses goes to the connection's journal (``change-refused``, named
``crm/<record id>``, with the rule that refused it) and to the poll's outcome.

Each change is applied in a transaction of its own under the order's lock, together with
the order's mark in ``crm_orders``: the last history record applied to it. A record at or
below the mark has been applied, so two pollers reading the same history (or a poll run
again after it failed half way) apply each record once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from potok.connectors.marketplaces import HistoryChange
from potok.connectors.marketplaces.retailcrm import ADDRESS_FIELD, RetailCrm
from potok.domain.errors import InvalidInput, PotokError, TransientConflict
from potok.domain.kernel import Actor, Clock
from potok.domain.marketplaces import Connection, JournalKind
from potok.domain.marketplaces.crm import CRM_FOLLOWS_POTOK, CrmStatusNotApplied
from potok.domain.marketplaces.events import MarketplaceOrderKeptAside
from potok.domain.orders import Address, DeliveryMethod, Order, OrderState, OrderStatus
from potok.domain.orders.commands import DeliveryRequest
from potok.domain.orders.edits import Change, allows
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.order_edits import ContactChange, EditOrder, edit_loaded
from potok.services.orders import cancel_loaded
from potok.services.unit_of_work import UnitOfWork, atomically, reading

CONTACT_FIELDS = frozenset({"first_name", "last_name", "patronymic", "phone", "email"})
COMMENTS = {"customer_comment": "the customer's comment", "manager_comment": "manager's comment"}
JOURNAL_PREFIX = "crm/"
"""How a refused change is named in the connection's journal: by its history record."""


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do to one order: the last history record it covers, what it is."""

    record: int
    kind: str  # status, contact, delivery, comment
    field: str  # the CRM's field (a contact or address step: the last one)
    value: str | None = None  # the status code; the comment


def steps_of(changes: Sequence[HistoryChange]) -> list[Step]:
    """One order's history records as steps, oldest first: each status and comment a step
    of its own; contact fields one step, address fields one step (both read as the order
    is now), placed at the last record they cover."""
    steps: list[Step] = []
    merged: dict[str, Step] = {}
    for change in sorted(changes, key=lambda c: c.record):
        if change.field == "status":
            if isinstance(change.new, str) and change.new:
                steps.append(Step(change.record, "status", change.field, change.new))
        elif change.field in COMMENTS:
            text = str(change.new or "").strip()
            if text:
                steps.append(Step(change.record, "comment", change.field, text[:1000]))
        elif change.field in CONTACT_FIELDS:
            merged["contact"] = Step(change.record, "contact", change.field)
        elif change.field.startswith(ADDRESS_FIELD):
            merged["delivery"] = Step(change.record, "delivery", change.field)
    return sorted([*steps, *merged.values()], key=lambda s: s.record)


def apply_crm_changes(
    uow: UnitOfWork,
    connection: Connection,
    client: RetailCrm,
    outcome: PollOutcome,
    actor: Actor,
    clock: Clock,
) -> None:
    """Take the changes the client read from the CRM's history (see the module's text);
    the CRM's answers it needs (orders as they are now, the status groups) are read first,
    outside any transaction."""
    changes = client.changes
    if not changes:
        return
    orders, told = _potok_orders(uow, connection, changes)
    by_order: dict[int, list[HistoryChange]] = {}
    for change in changes:
        if change.order not in orders:
            continue
        if change.field == "status" and change.order not in told:
            continue  # the CRM's own order: its statuses are followed by their groups
        by_order.setdefault(change.order, []).append(change)
    plans = {crm_id: steps_of(found) for crm_id, found in by_order.items()}
    wanted = [
        i for i, steps in plans.items() if any(s.kind in ("contact", "delivery") for s in steps)
    ]
    now = client.orders_by_id(wanted) if wanted else {}
    statuses = any(s.kind == "status" for steps in plans.values() for s in steps)
    groups = client.status_groups() if statuses else {}
    for crm_id, steps in plans.items():
        for step in steps:
            _take(
                uow,
                connection,
                orders[crm_id],
                step,
                now.get(crm_id),
                groups,
                outcome,
                actor,
                clock,
            )


def _potok_orders(
    uow: UnitOfWork, connection: Connection, changes: Sequence[HistoryChange]
) -> tuple[dict[int, int], set[int]]:
    """CRM order id -> Potok order id, for the orders Potok has: its own the CRM was told
    (their external id is Potok's order id, and Potok noted telling them: the second
    member names their CRM ids), and the CRM's orders Potok imported."""

    def work(uow: UnitOfWork) -> tuple[dict[int, int], set[int]]:
        named = {
            c.order: int(c.external_id)
            for c in changes
            if c.external_id is not None and c.external_id.isdigit()
        }
        told = uow.crm_sync.told(connection.id, set(named.values()))
        found = {crm_id: order_id for crm_id, order_id in named.items() if order_id in told}
        ours = set(found)
        for crm_id in {c.order for c in changes} - found.keys():
            link = uow.marketplaces.linked(connection.id, str(crm_id))
            if link is not None:
                found[crm_id] = link.order_id
        return found, ours

    return reading(uow, work)


def _take(
    uow: UnitOfWork,
    connection: Connection,
    order_id: int,
    step: Step,
    crm_order: Mapping[str, Any] | None,
    groups: Mapping[str, str],
    outcome: PollOutcome,
    actor: Actor,
    clock: Clock,
) -> None:
    def work(uow: UnitOfWork) -> bool | None:
        order = uow.orders.get(order_id, lock=True)
        if order is None:
            return None
        if uow.crm_sync.history_mark(connection.id, order_id) >= step.record:
            return None  # applied already (another poller, or a poll before)
        at = clock()
        changed = _act(uow, order, step, crm_order, groups, at, str(actor))
        uow.orders.save(order)
        uow.crm_sync.mark_history(connection.id, order_id, step.record, at)
        return changed

    try:
        changed = atomically(uow, work)
    except TransientConflict:
        raise
    except InvalidInput as refused:
        detail = "; ".join(f"{e.field}: {e.message}" for e in refused.errors) or refused.detail
        _refuse(uow, connection, order_id, step, detail, outcome, clock)
    except PotokError as refused:
        _refuse(uow, connection, order_id, step, refused.detail, outcome, clock)
    else:
        if changed:
            outcome.crm_changes.append(f"{order_id}:{step.kind}")


def _refuse(
    uow: UnitOfWork,
    connection: Connection,
    order_id: int,
    step: Step,
    detail: str,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    """The change is not taken: journalled once, and the order's mark moves past it."""
    name = f"{JOURNAL_PREFIX}{step.record}"
    words = f"a change made in the CRM ({step.field}) was not applied to order {order_id}: {detail}"

    def work(uow: UnitOfWork) -> bool:
        if uow.orders.get(order_id, lock=True) is None:
            return False
        if uow.crm_sync.history_mark(connection.id, order_id) >= step.record:
            return False
        at = clock()
        uow.crm_sync.mark_history(connection.id, order_id, step.record, at)
        payload = {"order_id": order_id, "field": step.field, "value": step.value}
        uow.marketplaces.keep_aside(
            connection.id, name, JournalKind.CHANGE_REFUSED, words[:2000], payload, at
        )
        uow.record(
            MarketplaceOrderKeptAside(
                occurred_at=at,
                connection=connection.code,
                external_id=name,
                kind=JournalKind.CHANGE_REFUSED.value,
                detail=words[:2000],
            )
        )
        return True

    if atomically(uow, work):
        outcome.crm_refused.append(name)


def _act(
    uow: UnitOfWork,
    order: Order,
    step: Step,
    crm_order: Mapping[str, Any] | None,
    groups: Mapping[str, str],
    at: datetime,
    actor: str,
) -> bool:
    """Do one step to the locked order; whether it changed anything."""
    if step.kind == "comment":
        which = COMMENTS[step.field]
        order.add_note(f"RetailCRM, {which}: {step.value}", at, actor, crm_record=step.record)
        return True
    if step.kind == "status":
        return _status(uow, order, str(step.value), groups, at, actor)
    if crm_order is None:
        return False  # the CRM no longer lists it: nothing to read the change from
    if step.kind == "contact":
        return _contact(uow, order, crm_order, at, actor)
    return _delivery(uow, order, crm_order, at, actor)


def _status(
    uow: UnitOfWork,
    order: Order,
    code: str,
    groups: Mapping[str, str],
    at: datetime,
    actor: str,
) -> bool:
    group = groups.get(code, "")
    status = order.status

    def refused(why: str) -> CrmStatusNotApplied:
        return CrmStatusNotApplied(
            status=code, group=group or "?", order_id=order.id, order_status=status.value, why=why
        )

    if group == "cancel":
        if status is OrderStatus.CANCELLED:
            return False
        if not allows(status, Change.CANCEL):
            raise refused("it can no longer be cancelled (what left comes back as a return)")
        cancel_loaded(uow, order, at, actor, f"cancelled in the CRM (status '{code}')")
        return True
    if group == "approval":
        if order.state is OrderState.NEW:
            order.confirm(at, actor, automatically=False, reason=f"confirmed in the CRM ('{code}')")
            return True
        if status is OrderStatus.CANCELLED:
            raise refused("a cancelled order is not confirmed again")
        return False
    if group == "new":
        if status is OrderStatus.NEW:
            return False
        raise refused("Potok does not move an order back to new")
    if group in CRM_FOLLOWS_POTOK:
        if status.value in CRM_FOLLOWS_POTOK[group]:
            return False
        raise refused(
            "Potok's warehouses and carriers move an order there; it is not set from the CRM"
        )
    raise refused("the CRM's reference of statuses has no such status")


def _contact(
    uow: UnitOfWork, order: Order, crm_order: Mapping[str, Any], at: datetime, actor: str
) -> bool:
    parts = (crm_order.get(k) for k in ("firstName", "patronymic", "lastName"))
    name = " ".join(str(p).strip() for p in parts if p and str(p).strip())
    contact = ContactChange(
        name=name or order.contact.name,
        phone=str(crm_order["phone"]) if crm_order.get("phone") else None,
        email=str(crm_order["email"]) if crm_order.get("email") else None,
    )
    before = order.contact
    command = EditOrder(order.id or 0, None, contact=contact, reason="changed in the CRM")
    edit_loaded(uow, order, command, at, actor)
    return order.contact != before


def _delivery(
    uow: UnitOfWork, order: Order, crm_order: Mapping[str, Any], at: datetime, actor: str
) -> bool:
    delivery = crm_order.get("delivery")
    found = delivery.get("address") if isinstance(delivery, Mapping) else None
    if not isinstance(found, Mapping):
        return False
    parts = [found.get(k) for k in ("street", "building", "flat")]
    line = str(found.get("text") or ", ".join(str(p) for p in parts if p) or "").strip()
    city = str(found.get("city") or "").strip()
    if not line or not city:
        return False
    had = order.delivery.address
    if had is not None and city[:120] == had.city:
        told = ", ".join(p for p in (had.line1, had.line2) if p)
        if line[:255] in (had.line1, told):
            return False  # what Potok has (and told the CRM itself)
    method = order.delivery.method
    request = DeliveryRequest(
        method=DeliveryMethod.COURIER if method is DeliveryMethod.PICKUP else method,
        address=Address(
            city=city[:120], line1=line[:255], postal_code=str(found.get("index") or "")[:20]
        ),
        price=order.delivery.price,
        vat_rate=order.delivery.vat_rate,
    )
    command = EditOrder(order.id or 0, None, delivery=request, reason="changed in the CRM")
    edit_loaded(uow, order, command, at, actor)
    return True
