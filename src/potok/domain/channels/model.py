"""A sales channel and the rules orders from it follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from potok.domain.errors import Conflict, InvalidInput, NotFound, Rejected
from potok.domain.kernel import ChannelId
from potok.domain.orders import PaymentMethod
from potok.domain.validation import Problems

PAYMENT_DEADLINE_MAX_MINUTES = 60 * 24 * 30
"""The longest a channel lets an order wait for its payment: 30 days."""

EVERY_PAYMENT_METHOD = tuple(PaymentMethod)
"""What a channel takes unless it says otherwise: every payment method."""


class ChannelType(StrEnum):
    WEB = "web"
    MARKETPLACE = "marketplace"
    APP = "app"
    POS = "pos"
    PHONE = "phone"
    OTHER = "other"


class ConfirmationPolicy(StrEnum):
    """When an order from the channel is confirmed without an operator."""

    AUTO = "auto"  # on arrival
    WHEN_PAID = "when_paid"  # as soon as the payment is authorised or paid
    MANUAL = "manual"  # an operator confirms


class BackorderPolicy(StrEnum):
    """What happens to an order the network cannot cover."""

    BACKORDER = "backorder"  # accept it and wait for stock
    REJECT = "reject"  # refuse it at intake


class ChannelNotFound(NotFound):
    code = "channel-not-found"
    title = "Channel not found"
    template = "There is no channel with code '{channel}'."


class ChannelInactive(Rejected):
    code = "channel-inactive"
    title = "The channel is not active"
    template = "Channel '{channel}' is deactivated and does not take orders."


class ChannelCodeTaken(Conflict):
    code = "channel-code-taken"
    title = "The channel code already exists"
    template = "A channel with code '{channel}' already exists."


class ChannelInUse(Conflict):
    code = "channel-in-use"
    title = "The channel is in use"
    template = "Channel '{channel}' {why}; deactivate it instead of deleting it."


@dataclass(frozen=True, slots=True)
class ChannelDraft:
    """What a caller gives to create or replace a channel; checked by :meth:`validate`."""

    code: str
    name: str
    type: ChannelType
    currency: str = "RUB"
    confirmation: ConfirmationPolicy = ConfirmationPolicy.AUTO
    backorders: BackorderPolicy = BackorderPolicy.BACKORDER
    safety_buffer: int = 0
    payment_deadline_minutes: int | None = None
    active: bool = True
    min_shelf_life_days: int = 0
    payment_methods: tuple[PaymentMethod, ...] = EVERY_PAYMENT_METHOD

    def validate(self) -> None:
        problems = Problems()
        problems.code("code", self.code)
        problems.text("name", self.name)
        problems.currency("currency", self.currency)
        if self.safety_buffer < 0:
            problems.add("safety_buffer", "must not be negative", "negative")
        if self.payment_deadline_minutes is not None and not (
            1 <= self.payment_deadline_minutes <= PAYMENT_DEADLINE_MAX_MINUTES
        ):
            problems.add(
                "payment_deadline_minutes", "must be from 1 minute to 30 days", "out-of-range"
            )
        if not 0 <= self.min_shelf_life_days <= 3650:
            problems.add("min_shelf_life_days", "must be from 0 to 3650 days", "out-of-range")
        if not self.payment_methods:
            problems.add(
                "payment_methods", "a channel takes at least one payment method", "required"
            )
        if problems:
            raise InvalidInput(problems.errors)


@dataclass(frozen=True, slots=True)
class Channel:
    """Where orders come from, with its currency and its confirmation and backorder rules."""

    id: ChannelId
    code: str
    name: str
    type: ChannelType
    currency: str
    confirmation: ConfirmationPolicy
    backorders: BackorderPolicy
    safety_buffer: int
    payment_deadline_minutes: int | None
    active: bool
    created_at: datetime
    updated_at: datetime
    min_shelf_life_days: int = 0  # lots with fewer days left are not sold here
    payment_methods: tuple[PaymentMethod, ...] = EVERY_PAYMENT_METHOD  # what orders may use

    def takes(self, method: PaymentMethod) -> bool:
        """Whether orders from this channel may be paid this way."""
        return method in self.payment_methods
