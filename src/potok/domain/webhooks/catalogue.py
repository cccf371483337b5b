"""The catalogue of event types that leave Potok, read from the event classes themselves
(so the documentation generated from it cannot drift from the code)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from potok.domain.access import events as access_events
from potok.domain.alerts import events as alert_events
from potok.domain.automation import events as automation_events
from potok.domain.catalogue import events as catalogue_events
from potok.domain.channels import events as channel_events
from potok.domain.customers import events as customer_events
from potok.domain.documents import events as document_events
from potok.domain.events import DomainEvent
from potok.domain.fiscal import events as fiscal_events
from potok.domain.fulfilment import events as fulfilment_events
from potok.domain.inventory import events as inventory_events
from potok.domain.inventory import purchasing, transfers
from potok.domain.network import events as network_events
from potok.domain.orders import events as order_events
from potok.domain.returns import events as return_events
from potok.domain.sourcing import events as sourcing_events
from potok.domain.stores import events as store_events
from potok.domain.tasks import events as task_events
from potok.domain.webhooks.model import INTERNAL_AGGREGATES

MODULES = (
    access_events,
    alert_events,
    automation_events,
    catalogue_events,
    channel_events,
    customer_events,
    document_events,
    fiscal_events,
    fulfilment_events,
    inventory_events,
    purchasing,
    transfers,
    network_events,
    order_events,
    return_events,
    sourcing_events,
    store_events,
    task_events,
)


@dataclass(frozen=True, slots=True)
class EventKind:
    type: str
    aggregate: str
    about: str
    fields: tuple[str, ...]


BASES = frozenset({"ShipmentTracked"})
"""Bases never recorded themselves, besides those named ``...Event`` (``OrderEvent``)."""


def _concrete(cls: type[DomainEvent]) -> bool:
    """Bases that only share fields (``OrderEvent``, ``StockEvent``) are never recorded."""
    if cls.__name__.endswith("Event") or cls.__name__ in BASES:
        return False
    return cls.__module__ in {m.__name__ for m in MODULES}


def event_kinds() -> list[EventKind]:
    """Every event type an integrator may receive, sorted by type."""
    seen: dict[str, EventKind] = {}
    stack: list[type[DomainEvent]] = [DomainEvent]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not _concrete(cls) or cls.aggregate_type in INTERNAL_AGGREGATES:
            continue
        doc = (cls.__doc__ or "").strip()
        about = "" if doc.startswith(cls.__name__ + "(") else " ".join(doc.split())
        fields = tuple(f.name for f in dataclasses.fields(cls))
        seen[cls.event_type()] = EventKind(cls.event_type(), cls.aggregate_type, about, fields)
    return [seen[t] for t in sorted(seen)]


def event_types() -> frozenset[str]:
    return frozenset(k.type for k in event_kinds())
