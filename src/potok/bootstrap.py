"""The composition root: builds the engine and the unit-of-work factory from Settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from potok.connectors.carriers.registry import CarrierRegistry, build_registry
from potok.connectors.marketplaces.registry import MarketplaceClients
from potok.db.engine import create_engine
from potok.db.network_cache import NetworkCache
from potok.db.unit_of_work import SqlUnitOfWork
from potok.security.data import DataProtector, protector_from
from potok.services.ports import AuditContext
from potok.settings import MarketplaceSettings, Settings

log = logging.getLogger("potok")


@dataclass
class Potok:
    """Everything an entry point needs, built once per process."""

    settings: Settings
    engine: Engine
    protector: DataProtector
    network: NetworkCache = field(default_factory=NetworkCache)
    carriers: CarrierRegistry = field(default_factory=lambda: CarrierRegistry([]))
    marketplaces: MarketplaceClients = field(
        default_factory=lambda: MarketplaceClients(MarketplaceSettings())
    )

    def uow(self, context: AuditContext | None = None) -> SqlUnitOfWork:
        """A fresh unit of work; use one per request or command. ``context`` says who acts
        and from where, for the audit trail."""
        return SqlUnitOfWork(self.engine, self.protector, self.network, context)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings) -> Potok:
    from potok.services.reactions import check_registry

    check_registry()  # a trigger nobody handles fails here, not at its first use
    security = settings.security
    protector, created = protector_from(
        security.data_keys.get_secret_value() if security.data_keys else None,
        security.index_key.get_secret_value() if security.index_key else None,
        security.key_file,
    )
    if created:
        log.warning(
            "no data keys configured: generated %s - keep it safe and out of version control; "
            "without it personal data cannot be read",
            security.key_file,
        )
    return Potok(
        settings=settings,
        engine=create_engine(settings.db),
        protector=protector,
        carriers=build_registry(settings.carriers),
        marketplaces=MarketplaceClients(settings.marketplaces),
    )
