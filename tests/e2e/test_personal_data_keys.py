"""Keys that cannot split the data, seen from outside: the command line started from other
working directories finds the one key file of its database; a process without the keys
the sealed data needs says so (readiness, ``potok serve``); and one record sealed under a
missing key fails only itself - a list shows it as unavailable, its own read is a 503
problem - on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from potok.bootstrap import Potok, bootstrap
from potok.settings import DatabaseSettings, SecuritySettings, Settings
from tests.conftest import LiveServer, free_port, key_for, start_server
from tests.factories import build_world
from tests.integration.test_personal_data import K2, anna_order, place, with_keys

POTOK = str(Path(sys.executable).parent / "potok")
PROBLEM_BASE = "https://potok.dev/problems/"


@pytest.fixture
def homes(tmp_path: Path) -> dict[str, str]:
    """An environment with no keys and no database named, and its own user directories."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POTOK_")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env["HOME"] = str(tmp_path / "home")
    env["COLUMNS"] = "200"
    return env


def run_cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(  # noqa: S603 - our own virtualenv's potok, fixed words
        [POTOK, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def default_key_file(database_url: str, tmp_path: Path) -> Path:
    """Where the documentation says the key file of this database is by default."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return Path(url.database or "").parent / "potok-keys.json"
    return tmp_path / "xdg" / "potok" / f"{url.host}-{url.port}-{url.database}-keys.json"


def cli_url(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=False)


def test_the_command_line_keeps_its_key_beside_the_database_whatever_directory_it_starts_in(
    potok: Potok, database_url: str, tmp_path: Path, homes: dict[str, str]
) -> None:
    build_world(potok, {("MSK", "KET"): 1})  # nothing sealed yet: a key may be generated
    key_file = default_key_file(database_url, tmp_path)
    first, second = tmp_path / "service-a", tmp_path / "cron" / "b"

    listed = run_cli(first, homes, "--db", cli_url(database_url), "orders", "list")

    assert listed.returncode == 0, listed.stderr
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert not (first / "potok-keys.json").exists()
    # an order sealed under that key file's key, then read from another directory
    keyed = bootstrap(
        Settings(
            db=DatabaseSettings(url=database_url),
            security=SecuritySettings(key_file=str(key_file), cookie_secure=False),
        )
    )
    try:
        place(keyed, anna_order())
    finally:
        keyed.close()
    shown = run_cli(
        second, homes, "--db", cli_url(database_url), "orders", "list", "--output", "json"
    )

    assert shown.returncode == 0, shown.stderr
    (order,) = json.loads(shown.stdout)
    assert order["customer_name"] == "Анна Смирнова"
    assert order["personal_data"] == "available"
    assert not list(second.glob("*keys*"))
    assert not list(first.glob("*keys*"))


def test_a_command_started_without_the_keys_of_sealed_data_refuses_and_keeps_no_new_key(
    potok: Potok, database_url: str, tmp_path: Path, homes: dict[str, str]
) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    place(potok, anna_order())  # sealed under the tests' key, which the command is not given
    elsewhere = tmp_path / "elsewhere"

    refused = run_cli(elsewhere, homes, "--db", cli_url(database_url), "orders", "list")

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "already holds personal data sealed" in refused.stderr
    assert not default_key_file(database_url, tmp_path).exists()
    assert not list(elsewhere.glob("*"))


# ---------------------------------------------------------------------- a key that is missing


@pytest.fixture
def server_without_k2(potok: Potok) -> Iterator[LiveServer]:
    """A fresh API process with the tests' key only (not K2), on the test database."""
    instance = with_keys(potok, _test_keys(potok))
    server = start_server(instance)
    yield server
    server.stop()
    instance.close()


def sealed_under_k2(potok: Potok) -> int:
    """An order whose customer another process sealed under K2."""
    other = with_keys(potok, K2)
    try:
        return place(other, anna_order(external_id="K2-1"))
    finally:
        other.close()


def test_a_list_shows_one_record_sealed_under_a_missing_key_as_unavailable(
    potok: Potok, server_without_k2: LiveServer
) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    readable = place(potok, anna_order(external_id="T1-1"))
    unreadable = sealed_under_k2(potok)
    with server_without_k2.client(headers={"Authorization": f"Bearer {key_for(potok)}"}) as client:
        listed = client.get("/api/v1/orders", params={"sort": "id"})
        single = client.get(f"/api/v1/orders/{unreadable}")
        fine = client.get(f"/api/v1/orders/{readable}")

    assert listed.status_code == 200, listed.text
    items = {item["id"]: item for item in listed.json()["items"]}
    assert items[readable]["customer_name"] == "Анна Смирнова"
    assert items[readable]["personal_data"] == "available"
    assert items[readable]["missing_key"] is None
    assert items[unreadable]["personal_data"] == "unavailable"
    assert items[unreadable]["missing_key"] == "k2"
    assert items[unreadable]["customer_name"] == ""
    assert items[unreadable]["customer_phone"] is None
    assert items[unreadable]["external_id"] == "K2-1"
    assert single.status_code == 503, single.text
    assert single.headers["content-type"] == "application/problem+json"
    assert single.json()["type"] == PROBLEM_BASE + "personal-data-key-missing"
    assert single.json()["key_id"] == "k2"
    assert "Retry-After" not in single.headers
    assert fine.status_code == 200
    assert fine.json()["customer"]["name"] == "Анна Смирнова"


def test_readiness_names_the_key_the_sealed_data_needs_and_this_process_lacks(
    potok: Potok, server_without_k2: LiveServer
) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    place(potok, anna_order(external_id="T1-1"))
    with server_without_k2.client() as client:
        before = client.get("/api/v1/health/ready")
    sealed_under_k2(potok)
    server_without_k2.potok.key_check.every_s = 0  # read the database again at once
    with server_without_k2.client() as client:
        after = client.get("/api/v1/health/ready")

    assert before.status_code == 200, before.text
    assert before.json()["personal_data"] == "ok"
    assert after.status_code == 503
    body = after.json()
    assert body["status"] == "not-ready"
    assert body["personal_data"] == "keys-missing"
    assert [(p["code"], p["key_id"]) for p in body["problems"]] == [
        ("personal-data-key-missing", "k2")
    ]


def test_readiness_reports_a_key_a_request_failed_to_open_without_reading_the_database_again(
    potok: Potok, server_without_k2: LiveServer
) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    with server_without_k2.client() as client:
        assert client.get("/api/v1/health/ready").status_code == 200  # checked, cached
    unreadable = sealed_under_k2(potok)
    with server_without_k2.client(headers={"Authorization": f"Bearer {key_for(potok)}"}) as client:
        assert client.get(f"/api/v1/orders/{unreadable}").status_code == 503
        ready = client.get("/api/v1/health/ready")

    assert ready.status_code == 503
    assert [p["key_id"] for p in ready.json()["problems"]] == ["k2"]


def test_a_key_under_the_same_id_as_the_one_that_sealed_the_data_is_reported(
    potok: Potok,
) -> None:
    """The old way of splitting the data: two keys both named k2."""
    build_world(potok, {("MSK", "KET"): 1})
    sealed_under_k2(potok)
    impostor = with_keys(potok, "k2:" + base64.b64encode(b"3" * 32).decode())
    try:
        assert impostor.key_check.missing() == ["k2"]
    finally:
        impostor.close()
    rightful = with_keys(potok, K2)
    try:
        assert rightful.key_check.missing() == []
    finally:
        rightful.close()


def test_the_command_line_lists_a_record_sealed_under_a_missing_key_as_unavailable(
    potok: Potok, database_url: str, tmp_path: Path, homes: dict[str, str]
) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    place(potok, anna_order(external_id="T1-1"))
    sealed_under_k2(potok)
    env = {**homes, "POTOK_SECURITY__DATA_KEYS": _test_keys(potok)}
    env["POTOK_SECURITY__INDEX_KEY"] = _index_key(potok)

    listed = run_cli(tmp_path, env, "--db", cli_url(database_url), "orders", "list")
    as_json = run_cli(
        tmp_path, env, "--db", cli_url(database_url), "orders", "list", "--output", "json"
    )

    assert listed.returncode == 0, listed.stderr
    assert "(unavailable: key k2)" in listed.stdout
    assert "Анна Смирнова" in listed.stdout
    assert as_json.returncode == 0, as_json.stderr
    states = {
        o["external_id"]: (o["personal_data"], o["missing_key"]) for o in json.loads(as_json.stdout)
    }
    assert states == {"T1-1": ("available", None), "K2-1": ("unavailable", "k2")}


def test_serve_says_at_start_which_key_the_sealed_data_needs(
    potok: Potok, database_url: str, tmp_path: Path, homes: dict[str, str]
) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    sealed_under_k2(potok)
    env = {**homes, "POTOK_SECURITY__DATA_KEYS": _test_keys(potok)}
    env["POTOK_SECURITY__INDEX_KEY"] = _index_key(potok)
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own virtualenv's potok, fixed words
        [POTOK, "--db", cli_url(database_url), "serve", "--port", str(port), "--no-jobs"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = _wait_for_readiness(port, process)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)

    assert "sealed with key 'k2'" in stderr
    assert ready.status_code == 503
    assert [p["key_id"] for p in ready.json()["problems"]] == ["k2"]


def _wait_for_readiness(port: int, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health/ready", timeout=10)
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _test_keys(potok: Potok) -> str:
    assert potok.settings.security.data_keys is not None
    return potok.settings.security.data_keys.get_secret_value()


def _index_key(potok: Potok) -> str:
    assert potok.settings.security.index_key is not None
    return potok.settings.security.index_key.get_secret_value()
