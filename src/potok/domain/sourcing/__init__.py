"""Sourcing: choosing the warehouses that ship an order, and saying why.

``plan`` is the first rule (nearest warehouse that covers the order); ``decide`` is the
engine that weighs cost, time, stock and priority by routing rules and tariffs. The batch
optimiser lives in ``potok.domain.sourcing.optimiser`` (it needs numpy and highspy).
"""

from potok.domain.sourcing.engine import SourcingOrder, decide
from potok.domain.sourcing.explanation import CandidateNote, ShipmentNote, SourcingRecord
from potok.domain.sourcing.planner import (
    Allocation,
    Candidate,
    Decision,
    Need,
    Position,
    Short,
    Shortfall,
    TransferLeg,
    plan,
)
from potok.domain.sourcing.rules import OrderType, RoutingRules, SplitPolicy, Weights
from potok.domain.sourcing.tariffs import Quote, Tariff, TariffTable

__all__ = [
    "Allocation",
    "Candidate",
    "CandidateNote",
    "Decision",
    "Need",
    "OrderType",
    "Position",
    "Quote",
    "RoutingRules",
    "ShipmentNote",
    "Short",
    "Shortfall",
    "SourcingOrder",
    "SourcingRecord",
    "SplitPolicy",
    "Tariff",
    "TariffTable",
    "TransferLeg",
    "Weights",
    "decide",
    "plan",
]
