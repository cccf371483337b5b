"""The composition root: builds the engine and the unit-of-work factory from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from potok.db.engine import create_engine
from potok.db.network_cache import NetworkCache
from potok.db.unit_of_work import SqlUnitOfWork
from potok.settings import Settings


@dataclass
class Potok:
    """Everything an entry point needs, built once per process."""

    settings: Settings
    engine: Engine
    network: NetworkCache = field(default_factory=NetworkCache)

    def uow(self) -> SqlUnitOfWork:
        """A fresh unit of work; use one per request or command."""
        return SqlUnitOfWork(self.engine, self.network)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings) -> Potok:
    return Potok(settings=settings, engine=create_engine(settings.db))
