"""What the fiscal use cases work with: the settings (rules) and the provider accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from potok.connectors.fiscal.interface import CashRegister
from potok.domain.fiscal import FiscalRules


@dataclass(frozen=True, slots=True)
class FiscalDesk:
    """The fiscal settings and a register per provider account."""

    rules: FiscalRules = field(default_factory=FiscalRules)
    registers: Mapping[str, CashRegister] = field(default_factory=dict)
    callback_url: str = ""
    poll_after_s: float = 5.0
    batch: int = 200
