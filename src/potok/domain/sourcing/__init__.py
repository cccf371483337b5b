"""Sourcing: choosing the warehouses that ship an order, and saying why."""

from potok.domain.sourcing.planner import (
    Allocation,
    Candidate,
    Decision,
    Need,
    Position,
    Short,
    Shortfall,
    plan,
)

__all__ = [
    "Allocation",
    "Candidate",
    "Decision",
    "Need",
    "Position",
    "Short",
    "Shortfall",
    "plan",
]
