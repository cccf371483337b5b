"""The composition root: builds the engine and the unit-of-work factory from Settings."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from potok.connectors.carriers.registry import CarrierRegistry, build_registry
from potok.connectors.fiscal.registry import build_desk
from potok.connectors.marketplaces.registry import MarketplaceClients
from potok.connectors.payments.registry import Gateways
from potok.db.engine import create_engine
from potok.db.network_cache import NetworkCache
from potok.db.unit_of_work import SqlUnitOfWork
from potok.security.data import DataKeyError, DataProtector, protector_from
from potok.services.carrier_prices import CarrierPrices, PriceBook
from potok.services.fiscal.desk import FiscalDesk
from potok.services.ports import AuditContext
from potok.settings import KEY_FILE_NAME, MarketplaceSettings, Settings, key_file_for

if TYPE_CHECKING:
    from potok.db.personal import KeyCheck

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
    prices: CarrierPrices | None = None  # carriers asked for prices ahead of sourcing
    gateways: Gateways = field(default_factory=Gateways)  # payment gateways (ЮKassa)
    fiscal: FiscalDesk = field(default_factory=FiscalDesk)  # receipts' settings and registers

    def uow(self, context: AuditContext | None = None) -> SqlUnitOfWork:
        """A fresh unit of work; use one per request or command. ``context`` says who acts
        and from where, for the audit trail."""
        return SqlUnitOfWork(
            self.engine,
            self.protector,
            self.network,
            context,
            grouped=self.settings.db.group_commit,
        )

    @functools.cached_property
    def key_check(self) -> KeyCheck:
        """Whether this process holds the keys the database's sealed data needs."""
        from potok.db.personal import KeyCheck

        return KeyCheck(self.engine, self.protector, self.settings.security.key_check_seconds)

    def close(self) -> None:
        if self.prices is not None:
            self.prices.close()
        self.gateways.close()
        self.engine.dispose()


def bootstrap(settings: Settings) -> Potok:
    from potok.services.reactions import check_registry

    check_registry()  # a trigger nobody handles fails here, not at its first use
    security = settings.security
    key_file = None
    if security.data_keys is None or security.index_key is None:
        key_file = _key_file(settings)
    protector, created = protector_from(
        security.data_keys.get_secret_value() if security.data_keys else None,
        security.index_key.get_secret_value() if security.index_key else None,
        key_file,
    )
    engine = create_engine(settings.db)
    if created:
        _refuse_a_new_key_for_sealed_data(engine, key_file)
        if key_file is not None:
            log.warning(
                "no data keys configured: generated %s - keep it safe and out of version "
                "control; without it personal data cannot be read",
                key_file,
            )
    carriers = build_registry(settings.carriers)
    book = PriceBook(ttl_s=settings.carriers.price_ttl_s)
    network = NetworkCache(prices=book)
    return Potok(
        settings=settings,
        engine=engine,
        protector=protector,
        network=network,
        carriers=carriers,
        marketplaces=MarketplaceClients(settings.marketplaces),
        gateways=Gateways(settings.payments),
        prices=CarrierPrices(
            book,
            carriers,
            deadline_s=settings.carriers.price_deadline_s,
            wanted=network.chooses_carriers,
        ),
        fiscal=build_desk(settings.fiscal),
    )


def _key_file(settings: Settings) -> Path | None:
    """The key file of these settings (see :func:`potok.settings.key_file_for`)."""
    try:
        return key_file_for(settings)
    except RuntimeError:  # no home directory to hold the user's data directory
        raise DataKeyError(
            "no data keys are configured and there is no home directory for the default key "
            "file: set POTOK_SECURITY__KEY_FILE, or give the keys (POTOK_SECURITY__DATA_KEYS "
            "and POTOK_SECURITY__INDEX_KEY)"
        ) from None


def _refuse_a_new_key_for_sealed_data(engine: Engine, key_file: Path | None) -> None:
    """Keys were just generated: only a database without sealed personal data may get
    them. Otherwise the process would seal new data under a key the rest of the data does
    not know, splitting the database between two keys; it refuses to start instead."""
    from potok.db.personal import holds_sealed_data

    if not holds_sealed_data(engine):
        return
    if key_file is not None:
        key_file.unlink(missing_ok=True)
    engine.dispose()
    stray = Path.cwd() / KEY_FILE_NAME
    hint = (
        f"; a key file lies in the working directory ({stray}): if this database was "
        "written with it, point POTOK_SECURITY__KEY_FILE at it"
        if stray.exists() and stray != key_file
        else ""
    )
    raise DataKeyError(
        f"no data keys were found at {key_file or 'the settings'}, but this database already "
        "holds personal data sealed under keys: give this process the keys it was written "
        "with (POTOK_SECURITY__KEY_FILE, or POTOK_SECURITY__DATA_KEYS and "
        f"POTOK_SECURITY__INDEX_KEY); no new key was kept{hint}"
    )
