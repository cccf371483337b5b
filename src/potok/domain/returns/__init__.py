"""Returns (RMA): units of shipped orders coming back, inspected, and refunded."""

from potok.domain.returns.errors import (
    ExchangeNotPossible,
    InspectionIncomplete,
    OrderNotReturnable,
    RefundAbovePaid,
    RefundNotDue,
    ReturnExceedsShipped,
    ReturnNotFound,
    UnitNotInOrder,
    UnknownReturnReason,
)
from potok.domain.returns.model import Decision, Return, ReturnLine, ReturnStep
from potok.domain.returns.refunds import ShippingRefund
from potok.domain.returns.states import (
    Outcome,
    RefundStatus,
    ReturnProgress,
    ReturnSource,
    ReturnStatus,
)

__all__ = [
    "Decision",
    "ExchangeNotPossible",
    "InspectionIncomplete",
    "OrderNotReturnable",
    "Outcome",
    "RefundAbovePaid",
    "RefundNotDue",
    "RefundStatus",
    "Return",
    "ReturnExceedsShipped",
    "ReturnLine",
    "ReturnNotFound",
    "ReturnProgress",
    "ReturnSource",
    "ReturnStatus",
    "ReturnStep",
    "ShippingRefund",
    "UnitNotInOrder",
    "UnknownReturnReason",
]
