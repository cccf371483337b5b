"""The composition root: builds the engine and the unit-of-work factory from Settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from potok.connectors.carriers.registry import CarrierRegistry, build_registry
from potok.connectors.marketplaces.registry import MarketplaceClients
from potok.db.engine import create_engine
from potok.db.network_cache import NetworkCache
from potok.db.unit_of_work import SqlUnitOfWork
from potok.security.data import DataKeyError, DataProtector, protector_from
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
    engine = create_engine(settings.db)
    if created:
        _refuse_a_new_key_for_sealed_data(engine, security.key_file)
        log.warning(
            "no data keys configured: generated %s - keep it safe and out of version control; "
            "without it personal data cannot be read",
            security.key_file,
        )
    return Potok(
        settings=settings,
        engine=engine,
        protector=protector,
        carriers=build_registry(settings.carriers),
        marketplaces=MarketplaceClients(settings.marketplaces),
    )


def _refuse_a_new_key_for_sealed_data(engine: Engine, key_file: str) -> None:
    """A key file was just generated: only a database without sealed personal data may get
    one. Otherwise the process would seal new data under a key the rest of the data does
    not know, splitting the database between two keys; it refuses to start instead."""
    from potok.db.personal import holds_sealed_data

    if not holds_sealed_data(engine):
        return
    Path(key_file).unlink(missing_ok=True)
    engine.dispose()
    raise DataKeyError(
        f"no data keys were found at {Path(key_file).resolve()}, but this database already "
        "holds personal data sealed under keys: give this process the keys it was written "
        "with (POTOK_SECURITY__KEY_FILE, or POTOK_SECURITY__DATA_KEYS and "
        "POTOK_SECURITY__INDEX_KEY); no new key was kept"
    )
