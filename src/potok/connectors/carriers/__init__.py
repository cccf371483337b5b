"""Carriers: one interface (:class:`Carrier`, in ``interface.py``) and its implementations.

A carrier adapter turns Potok's shipment into the carrier's booking and the carrier's
tracking into Potok's tracking statuses. It never touches the database: Potok's services
call it outside their transactions and record what it answers.

To add a carrier (СДЭК, Почта России, ...):

1. Write a module here with a class that implements :class:`Carrier` - ``code`` and the
   methods ``quote``, ``book``, ``cancel``, ``track``, ``read_webhook`` and
   ``pickup_points`` - speaking the carrier's published format (``../shared/specs``) over
   ``httpx`` with every host a setting.
2. Map the carrier's statuses to :class:`TrackingStatus` (``in_transit``,
   ``ready_for_pickup``, ``delivered``, ``failed_delivery``, ``returning``,
   ``returned_to_sender``); statuses Potok need not act on (accepted at a hub, sorted)
   become ``in_transit`` events with the carrier's wording kept in ``description``.
3. Raise :class:`CarrierRefused` for a request the carrier turns down (an address it does
   not serve) and :class:`CarrierUnavailable` when it cannot be reached; both carry the
   carrier's own message.
4. Register it in :func:`potok.connectors.carriers.registry.build_registry` from its
   settings, and test it against a simulator of the carrier's API running as a real local
   HTTP server (the sandbox carrier's tests show the shape).

The built-in :class:`SandboxCarrier` needs no outside system: it books instantly and moves
parcels through realistic events over time, the same way for the same seed.
"""

from potok.connectors.carriers.interface import (
    Booking,
    BookingRequest,
    Carrier,
    CarrierError,
    CarrierRefused,
    CarrierUnavailable,
    PickupPoint,
    Quote,
    QuoteRequest,
    Tracked,
    TrackingEvent,
    TrackingStatus,
)
from potok.connectors.carriers.registry import CarrierNotFound, CarrierRegistry, build_registry
from potok.connectors.carriers.sandbox import SandboxCarrier

__all__ = [
    "Booking",
    "BookingRequest",
    "Carrier",
    "CarrierError",
    "CarrierNotFound",
    "CarrierRefused",
    "CarrierRegistry",
    "CarrierUnavailable",
    "PickupPoint",
    "Quote",
    "QuoteRequest",
    "SandboxCarrier",
    "Tracked",
    "TrackingEvent",
    "TrackingStatus",
    "build_registry",
]
