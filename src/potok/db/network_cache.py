"""A per-process copy of the network (channels, locations, who serves whom, the shipping
tariffs and routing rules) for intake and sourcing.

Channels, locations, tariffs and rules change rarely and are read by every order. Every
change writes a new random token into ``reference_versions``; intake reads the token in
the same statement as the stock (other users read it first) and, when it differs from the
copy's, reloads the copy and
reads again. So a copy is never used once the database has moved on, in this process or
any other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import sqlalchemy as sa

from potok.db.reference_versions import read_token
from potok.db.repositories.channels import ChannelRepository
from potok.db.repositories.network import WarehouseRepository
from potok.db.repositories.sourcing import SourcingRepository
from potok.domain.channels import Channel, ChannelType
from potok.domain.kernel import ChannelId, WarehouseId
from potok.domain.network import Warehouse
from potok.domain.sourcing.carriers import PriceLookup
from potok.domain.sourcing.planner import Candidate
from potok.domain.sourcing.setup import SourcingSetup, build_setup


@dataclass(frozen=True)
class Network:
    token: str | None
    channels: dict[str, Channel]
    warehouses: dict[WarehouseId, Warehouse]
    sourcing: SourcingSetup
    by_code: dict[str, Warehouse] = field(init=False)
    serving: dict[ChannelId, list[WarehouseId]] = field(init=False)
    candidates: dict[WarehouseId, tuple[Candidate, str]] = field(init=False)
    """Each location as intake's candidate, with its removal strategy's value: made once
    per copy rather than once per order (they are immutable)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_code", {w.code: w for w in self.warehouses.values()})
        object.__setattr__(
            self,
            "candidates",
            {
                w.id: (
                    Candidate(
                        w.id,
                        w.code,
                        w.city,
                        w.priority,
                        w.latitude,
                        w.longitude,
                        w.type.value,
                        w.region,
                    ),
                    w.removal_strategy.value,
                )
                for w in self.warehouses.values()
            },
        )
        serving: dict[ChannelId, list[WarehouseId]] = {c.id: [] for c in self.channels.values()}
        for warehouse in self.warehouses.values():
            if not warehouse.active:
                continue
            for code in warehouse.channels:
                channel = self.channels.get(code)
                if channel is not None:
                    serving[channel.id].append(warehouse.id)
        object.__setattr__(self, "serving", serving)


class NetworkCache:
    """The latest copy of the network this process has read; safe to share between threads."""

    def __init__(self, prices: PriceLookup | None = None) -> None:
        self._network: Network | None = None
        self._lock = threading.Lock()
        self.prices = prices  # carriers' prices this process remembers, for sourcing

    def chooses_carriers(self) -> bool:
        """Some routing rules in the latest copy price parcels by carriers (no read)."""
        network = self._network
        return network is not None and network.sourcing.chooses_carriers()

    def current(self, connection: sa.Connection) -> Network:
        network = self._network
        return network if network is not None else self.reload(connection)

    def fresh(self, connection: sa.Connection) -> Network:
        """The copy, read again first if the database has moved on (one small read)."""
        network = self._network
        if network is not None and network.token == read_token(connection):
            return network
        return self.reload(connection)

    def reload(self, connection: sa.Connection) -> Network:
        token = read_token(connection)
        channels = {c.code: c for c in ChannelRepository(connection).list()}
        warehouses = {w.id: w for w in WarehouseRepository(connection).list()}
        sourcing = SourcingRepository(connection)
        version = sourcing.tariff_version()
        setup = build_setup(
            version,
            sourcing.tariffs(version.version) if version is not None else (),
            sourcing.current_rules(),
            (c.id for c in channels.values() if c.type is ChannelType.MARKETPLACE),
            self.prices,
            sourcing.stock_prices(),
        )
        network = Network(token, channels, warehouses, setup)
        with self._lock:
            self._network = network
        return network
