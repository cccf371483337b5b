"""When a receipt is printed and with what: the fiscal settings of each legal entity and
channel, as the services read them, and the choice each event makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from potok.domain.fiscal.model import AgentInfo
from potok.domain.fiscal.states import Taxation


class FiscalMode(StrEnum):
    """When a channel's sales are fiscalised."""

    AT_PAYMENT = "at_payment"  # a full-prepayment receipt when paid, its offset at hand-over
    AT_HANDOVER = "at_handover"  # one full-payment receipt when the goods are handed over
    MARKETPLACE = "marketplace"  # the marketplace issues the receipts: skipped
    OFF = "off"  # the channel is fiscalised elsewhere (a POS till, say): skipped


SKIPPING = frozenset({FiscalMode.MARKETPLACE, FiscalMode.OFF})

SKIP_REASONS = {
    FiscalMode.MARKETPLACE: "the marketplace issues the receipts of its sales",
    FiscalMode.OFF: "fiscalisation is off for the channel (receipts are printed elsewhere)",
}


@dataclass(frozen=True, slots=True)
class EntityProfile:
    """A legal entity's fiscal settings: whose register prints, under which taxation, from
    which address."""

    account: str
    taxation: Taxation
    payment_address: str
    email: str


@dataclass(frozen=True, slots=True)
class FiscalRules:
    """Every fiscal setting Potok follows, read once from the settings."""

    enabled: bool = False
    default_mode: FiscalMode = FiscalMode.AT_PAYMENT
    modes: Mapping[str, FiscalMode] = field(default_factory=dict)  # by channel code
    profiles: Mapping[str, EntityProfile] = field(default_factory=dict)  # by entity code
    agents: Mapping[str, AgentInfo] = field(default_factory=dict)  # by channel code
    accounts: frozenset[str] = frozenset()  # provider accounts configured

    def mode_of(self, channel: str, *, marketplace: bool) -> FiscalMode:
        """The channel's mode: named in the settings, else a marketplace's receipts are the
        marketplace's, else the default."""
        named = self.modes.get(channel)
        if named is not None:
            return named
        return FiscalMode.MARKETPLACE if marketplace else self.default_mode
