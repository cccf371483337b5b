"""The gateway payment's and the gateway refund's states, as the gateway names them, and the
moves between them kept as tables."""

from __future__ import annotations

from enum import StrEnum

from potok.domain.machine import StateMachine


class GatewayStatus(StrEnum):
    """Where a payment stands at the gateway (ЮKassa's own words)."""

    PENDING = "pending"  # created; the customer has not paid yet
    WAITING_FOR_CAPTURE = "waiting_for_capture"  # authorised: the money is held on the card
    SUCCEEDED = "succeeded"  # captured: the money is the shop's
    CANCELED = "canceled"  # the customer failed or gave up, or the hold was let go


class RefundState(StrEnum):
    """Where a refund stands at the gateway."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


GATEWAY = StateMachine[GatewayStatus](
    "gateway payment",
    {
        GatewayStatus.PENDING: frozenset(
            {GatewayStatus.WAITING_FOR_CAPTURE, GatewayStatus.SUCCEEDED, GatewayStatus.CANCELED}
        ),
        GatewayStatus.WAITING_FOR_CAPTURE: frozenset(
            {GatewayStatus.SUCCEEDED, GatewayStatus.CANCELED}
        ),
        GatewayStatus.SUCCEEDED: frozenset(),
        GatewayStatus.CANCELED: frozenset(),
    },
)

GATEWAY_REFUND = StateMachine[RefundState](
    "gateway refund",
    {
        RefundState.PENDING: frozenset({RefundState.SUCCEEDED, RefundState.CANCELED}),
        RefundState.SUCCEEDED: frozenset(),
        # refused or cancelled, then asked again (the return's refund owed once more)
        RefundState.CANCELED: frozenset({RefundState.PENDING, RefundState.SUCCEEDED}),
    },
)

IN_FLIGHT = frozenset({GatewayStatus.PENDING, GatewayStatus.WAITING_FOR_CAPTURE})
"""States a payment may still leave on its own: the poller reads these back."""
