"""Fixtures: real SQLite and PostgreSQL databases, a real HTTP server, sandbox-like data.

PostgreSQL comes from ``POTOK_TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/potok_test``; the database is created if missing).
When it cannot be reached its tests are skipped - except under CI (``CI`` set to anything
but an explicit no, see ``tests/environment.py``), where that is a failure.
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from argon2 import PasswordHasher
from pydantic import SecretStr

from potok.api.app import create_app
from potok.bootstrap import Potok, bootstrap
from potok.db import audit_guard, document_guard, migrate
from potok.db.tables import metadata
from potok.domain.access import KEY_SCOPES, Permission
from potok.domain.kernel import Actor
from potok.security import passwords
from potok.services import access
from potok.settings import DatabaseSettings, SecuritySettings, Settings, normalise_database_url
from tests.environment import missing

if TYPE_CHECKING:
    from tests.simulators.atol import AtolSimulator
    from tests.simulators.avito import AvitoSimulator
    from tests.simulators.cdek import CdekSimulator
    from tests.simulators.ozon import OzonSimulator
    from tests.simulators.pochta import PochtaSimulator
    from tests.simulators.retailcrm import RetailCrmSimulator
    from tests.simulators.wildberries import WildberriesSimulator
    from tests.simulators.yandex_market import YandexMarketSimulator
    from tests.simulators.yookassa import YooKassaSimulator

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/potok_test"

TEST_DATA_KEYS = "t1:" + base64.b64encode(b"k" * 32).decode()
TEST_INDEX_KEY = base64.b64encode(b"i" * 32).decode()
# the command line reads its settings from the environment: give it the test keys too, so
# that no key file is written into the working directory
os.environ.setdefault("POTOK_SECURITY__DATA_KEYS", TEST_DATA_KEYS)
os.environ.setdefault("POTOK_SECURITY__INDEX_KEY", TEST_INDEX_KEY)
BACKENDS = ["sqlite", "postgresql"]

# Passwords are hashed with Argon2id at its lowest work factor in the tests (one pass over
# 8 KiB instead of three over 64 MiB: microseconds instead of 0.2 s of CPU a hash). Every
# user made, password changed and sign-in tried hashes or verifies at least once - thousands
# in a run, minutes of CI - and the work factor changes no answer: the same code hashes,
# verifies and refuses, only faster. The product's own hasher is kept here and checked by
# tests/unit/test_passwords.py (its work factor, and that it verifies what the tests' made).
# Processes the tests start (`potok serve`, ...) hash at the product's cost.
PRODUCT_PASSWORD_HASHER = passwords._HASHER
passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY = passwords._HASHER.hash("no such user, but spend the same time")


def postgres_url() -> str:
    """The PostgreSQL test database of this process: under pytest-xdist each worker has its
    own (``potok_test_gw0``, ``potok_test_gw1``, ...), created when missing, so that no two
    processes empty or migrate the same database."""
    url = normalise_database_url(os.environ.get("POTOK_TEST_DATABASE_URL", DEFAULT_PG_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = sa.engine.make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def _ensure_postgres_database(url: str) -> str | None:
    """Create the test database if needed; the reason it is unusable, or None when it is fine."""
    target = sa.engine.make_url(url)
    admin = target.set(database="postgres")
    try:
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
        engine.dispose()
    except sa.exc.OperationalError as error:
        return f"PostgreSQL is not reachable at {target.render_as_string()}: {error.orig}"
    return None


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    url = postgres_url()
    problem = _ensure_postgres_database(url)
    if problem is not None:
        missing(problem)
    return url


def _settings(url: str, **db: object) -> Settings:
    return Settings(
        db=DatabaseSettings(url=url, **db),  # type: ignore[arg-type]
        security=SecuritySettings(
            data_keys=SecretStr(TEST_DATA_KEYS),
            index_key=SecretStr(TEST_INDEX_KEY),
            cookie_secure=False,
        ),
    )


@pytest.fixture(scope="session")
def migrated_postgres(postgres_ready: str) -> str:
    """The PostgreSQL test database, emptied and migrated once per session.

    Its sessions commit without waiting for the WAL to reach the disk (``synchronous_commit
    = off``): what a commit makes visible, and when, is the same; only a crash of the server
    could lose the last commits, which no test does. It spares the suite a disk flush per
    commit (tens of thousands of them)."""
    potok = bootstrap(_settings(postgres_ready))
    with potok.engine.begin() as connection:
        name = connection.execute(sa.text("SELECT current_database()")).scalar_one()
        connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    migrate.upgrade(potok.engine)
    potok.close()
    return postgres_ready


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that tests copy instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    potok = bootstrap(_settings(f"sqlite:///{path}"))
    migrate.upgrade(potok.engine)
    potok.close()  # the last connection to close checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path


def empty_all_tables(potok: Potok) -> None:
    """Delete every row, children first, and restart the ids.

    On PostgreSQL a request the previous test left running on a live server (a console page's
    live feed placing events, say) can hold rows of the tables being emptied and then want one
    the emptying has already deleted: PostgreSQL breaks the deadlock by failing one side. The
    emptying is one transaction, rolled back whole when it is the side that fails, so it is
    simply tried again."""
    for attempt in range(5):
        try:
            _empty_all_tables(potok)
            return
        except sa.exc.OperationalError as error:
            if attempt == 4 or getattr(error.orig, "sqlstate", None) != "40P01":
                raise
            time.sleep(0.05 * (attempt + 1))


def _empty_all_tables(potok: Potok) -> None:
    names = [t.name for t in reversed(metadata.sorted_tables)]
    with potok.engine.begin() as connection:
        if potok.engine.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: a TRUNCATE of every table gives each table and index a new
            # file (about a second of a loaded server per test, ten times the DELETEs of a
            # test's few rows). The audit trail and documents refuse changes; tests reset them
            # with triggers off (foreign keys too, so the order of the tables does not matter).
            # The ids restart as TRUNCATE ... RESTART IDENTITY did: the sequences the tables own.
            sequences = connection.execute(
                sa.text(
                    "SELECT DISTINCT s.oid::regclass::text FROM pg_class s"
                    " JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid"
                    " AND d.deptype IN ('a', 'i')"
                    " JOIN pg_class t ON t.oid = d.refobjid"
                    " WHERE s.relkind = 'S' AND t.relname = ANY(:names)"
                    " AND t.relnamespace = current_schema()::regnamespace"
                ),
                {"names": names},
            ).scalars()
            connection.exec_driver_sql(
                "SET LOCAL session_replication_role = replica;"
                + "".join(f"DELETE FROM {name};" for name in names)
                + "".join(f"ALTER SEQUENCE {sequence} RESTART;" for sequence in sequences)
            )
        else:
            audit_guard.uninstall(connection)
            document_guard.uninstall(connection)
            for name in names:
                connection.execute(sa.text(f"DELETE FROM {name}"))
            document_guard.install(connection)
            audit_guard.install(connection)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of the parametrised backend.

    On SQLite each test gets its own copy of the template, except the tests of a live server:
    they share one file for the session, emptied before each, as every PostgreSQL test shares
    its database, so that the server (and the OpenAPI document it builds on its first body
    that is not JSON, about a second) is started once per session rather than per test."""
    if backend == "postgresql":
        url: str = request.getfixturevalue("migrated_postgres")
        return url
    if "live" in request.fixturenames:
        shared: str = request.getfixturevalue("_live_sqlite")
        return shared
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "potok.db"
    path.write_bytes(template.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _live_sqlite(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The SQLite file the live server of the session serves (a copy of the template)."""
    path = tmp_path_factory.mktemp("live") / "potok.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture
def potok(database_url: str) -> Iterator[Potok]:
    """Potok on a migrated, empty database of each backend."""
    instance = bootstrap(_settings(database_url, pool_size=40, max_overflow=10))
    empty_all_tables(instance)
    yield instance
    instance.close()


# ---------------------------------------------------------------------- a real HTTP server


@dataclass
class LiveServer:
    url: str
    potok: Potok
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(potok: Potok) -> LiveServer:
    """Uvicorn in a thread, serving the API for ``potok`` on a free port."""
    port = free_port()
    potok.settings.api.threads = 64
    config = uvicorn.Config(
        create_app(potok=potok),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return LiveServer(f"http://127.0.0.1:{port}", potok, server, thread)


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[str, LiveServer]]:
    started: dict[str, LiveServer] = {}
    yield started
    for server in started.values():
        server.stop()
        server.potok.close()


@pytest.fixture
def live(backend: str, database_url: str, _servers: dict[str, LiveServer]) -> LiveServer:
    """A real HTTP server on an empty database of each backend (one server per database for
    the session)."""
    server = _servers.get(database_url)
    if server is None:
        if backend == "sqlite":  # a test that reached the server by another path: one at a time
            for key in [k for k in _servers if k.startswith("sqlite")]:
                old = _servers.pop(key)
                old.stop()
                old.potok.close()
        # up to 50 connections at once, as for a test's own Potok; only 10 are kept open
        # between requests for the rest of the session (a race through the API would leave
        # 40 idle ones, and two workers' servers would fill PostgreSQL's 100 connections)
        potok = bootstrap(_settings(database_url, pool_size=10, max_overflow=40))
        server = _servers[database_url] = start_server(potok)
    empty_all_tables(server.potok)
    return server


def key_for(
    potok: Potok,
    *scopes: Permission,
    channel: str | None = None,
    name: str = "tests",
    rate_limit: int = 100_000,
) -> str:
    """A fresh API key's secret (every business scope when none are named)."""
    _, secret = access.create_api_key(
        potok.uow(),
        name=name,
        scopes=list(scopes or KEY_SCOPES),
        actor=Actor.system("tests"),
        channel=channel,
        rate_limit_per_minute=rate_limit,
    )
    return secret


@pytest.fixture
def api(live: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client of the live server, with an API key that carries every business scope."""
    secret = key_for(live.potok)
    with live.client(headers={"Authorization": f"Bearer {secret}"}) as client:
        yield client


@pytest.fixture
def anonymous(live: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client of the live server that sends no credentials."""
    with live.client() as client:
        yield client


# ---------------------------------------------------------------------- marketplace simulators


@pytest.fixture
def wildberries() -> Iterator[WildberriesSimulator]:
    """A simulated Wildberries marketplace API; every request the connector sent must be
    valid against WB's published document."""
    from tests.simulators.wildberries import WildberriesSimulator

    simulator = WildberriesSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests refused by WB's OpenAPI document"


@pytest.fixture
def ozon() -> Iterator[OzonSimulator]:
    """A simulated Ozon Seller API; every request must be valid against Ozon's document."""
    from tests.simulators.ozon import OzonSimulator

    simulator = OzonSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests refused by Ozon's OpenAPI document"


@pytest.fixture
def retailcrm() -> Iterator[RetailCrmSimulator]:
    """A simulated RetailCRM account (API v5); every request must be in the form its API
    documents (key header, form-encoded JSON bodies, allowed limits)."""
    from tests.simulators.retailcrm import RetailCrmSimulator

    simulator = RetailCrmSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests RetailCRM's API does not take in that form"


@pytest.fixture
def yandex_market() -> Iterator[YandexMarketSimulator]:
    """A simulated Yandex Market Partner API; every request must be valid against Market's
    published document, and every answer Potok gave its notifications too."""
    from tests.simulators.yandex_market import YandexMarketSimulator

    simulator = YandexMarketSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests refused by Market's OpenAPI document"
    assert simulator.unfaithful == [], "answers to notifications unlike Market's document"


@pytest.fixture
def avito() -> Iterator[AvitoSimulator]:
    """A simulated Avito (order-management, stock-management, token); every request must
    be valid against Avito's published documents."""
    from tests.simulators.avito import AvitoSimulator

    simulator = AvitoSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests refused by Avito's OpenAPI documents"


# ---------------------------------------------------------------------- carrier simulators


@pytest.fixture
def cdek() -> Iterator[CdekSimulator]:
    """A simulated СДЭК API v2; every request Potok sent must be valid against СДЭК's
    published document."""
    from tests.simulators.cdek import CdekSimulator

    simulator = CdekSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests refused by СДЭК's OpenAPI document"


@pytest.fixture
def atol() -> Iterator[AtolSimulator]:
    """A simulated АТОЛ Онлайн (v5); every request Potok sent must be valid against АТОЛ's
    JSON Schemas and add up (items, payments, total, VAT)."""
    from tests.simulators.atol import AtolSimulator

    simulator = AtolSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests refused by АТОЛ's JSON Schemas"
    assert simulator.mismatched == [], "receipts whose sums do not add up"


@pytest.fixture
def yookassa() -> Iterator[YooKassaSimulator]:
    """A simulated ЮKassa; every request Potok sent must be one ЮKassa takes (its
    documentation's rules, checked by the simulator)."""
    from tests.simulators.yookassa import YooKassaSimulator

    simulator = YooKassaSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests ЮKassa would refuse"


@pytest.fixture
def pochta() -> Iterator[PochtaSimulator]:
    """A simulated Почта России («Отправка» and tracking); requests must follow Почта's
    conventions and every answer the responses observed from its live API."""
    from tests.simulators.pochta import PochtaSimulator

    simulator = PochtaSimulator()
    yield simulator
    simulator.stop()
    assert simulator.invalid == [], "requests Почта would refuse"
    assert simulator.unfaithful == [], "answers unlike the ones observed from Почта"
