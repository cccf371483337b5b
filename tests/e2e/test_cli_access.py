"""``potok users``, ``potok keys``, ``potok init`` and the sandbox's sign-in, through typer's
CliRunner on SQLite and PostgreSQL; what they print is tried against the live API."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import bootstrap
from potok.cli.main import app
from potok.domain.access import KEY_SCOPES, Role
from potok.services import access
from potok.services.access import LoginPolicy
from potok.settings import get_settings
from tests.auth import make_user
from tests.conftest import LiveServer, _settings
from tests.factories import build_world
from tests.problems import problem

runner = CliRunner()
ONE_TIME = re.compile(r"one-time password: (\S+)")
SECRET = re.compile(r"\b(pk_[0-9a-f]+_[A-Za-z0-9_-]+)")
NEW_PASSWORD = "my own long passphrase"


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    """``--db`` writes POTOK_DB__URL into the environment and re-reads the settings."""
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def potok_cli(url: str, *args: str) -> Result:
    """``potok --db URL ARGS...``, wide enough that tables are not wrapped, as user 'ops'."""
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200", "USER": "ops"})


def table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def one_time_password(result: Result) -> str:
    assert result.exit_code == 0, result.output
    found = ONE_TIME.findall(result.stdout)
    assert len(found) == 1, result.stdout
    return str(found[0])


def sign_in(live: LiveServer, username: str, password: str) -> httpx.Response:
    with live.client() as client:
        return client.post("/api/v1/session", json={"username": username, "password": password})


def active_admins(live: LiveServer) -> list[str]:
    users = access.list_users(live.potok.uow())
    return [u.username for u in users if u.role is Role.ADMIN and u.active]


# ---------------------------------------------------------------------- init


def test_init_creates_the_first_admin_once(live: LiveServer, database_url: str) -> None:
    first = potok_cli(database_url, "init")
    second = potok_cli(database_url, "init")

    password = one_time_password(first)
    assert "admin" in first.stdout
    assert second.exit_code == 0, second.output
    assert "already exists" in second.stdout
    assert not ONE_TIME.search(second.stdout)
    assert active_admins(live) == ["admin"]
    signed = sign_in(live, "admin", password)
    assert signed.status_code == 201, signed.text
    assert signed.json()["password_change_required"] is True


def test_init_does_nothing_when_an_admin_exists_under_another_name(
    live: LiveServer, database_url: str
) -> None:
    make_user(live.potok, "chief", Role.ADMIN)

    result = potok_cli(database_url, "init")

    assert result.exit_code == 0, result.output
    assert "already exists" in result.stdout
    assert active_admins(live) == ["chief"]


# ---------------------------------------------------------------------- users


def test_users_create_prints_a_one_time_password_that_signs_in(
    live: LiveServer, database_url: str
) -> None:
    result = potok_cli(
        database_url, "users", "create", "ivanova", "--role", "operator", "--name", "Анна Иванова"
    )

    password = one_time_password(result)
    assert "shown only now" in result.stdout
    signed = sign_in(live, "ivanova", password)
    assert signed.status_code == 201, signed.text
    assert signed.json()["user"]["display_name"] == "Анна Иванова"
    assert signed.json()["user"]["role"] == "operator"


def test_users_create_for_warehouse_staff_takes_their_warehouses(
    live: LiveServer, database_url: str
) -> None:
    build_world(live.potok)

    made = potok_cli(database_url, "users", "create", "picker", "-r", "warehouse", "-w", "MSK")
    without = potok_cli(database_url, "users", "create", "lost", "--role", "warehouse")
    unknown = potok_cli(database_url, "users", "create", "gone", "-r", "warehouse", "-w", "NOPE")
    taken = potok_cli(database_url, "users", "create", "picker", "--role", "analyst")
    bad_role = potok_cli(database_url, "users", "create", "who", "--role", "king")

    assert made.exit_code == 0, made.output
    assert "MSK" in made.stdout
    assert (without.exit_code, unknown.exit_code, taken.exit_code) == (3, 3, 5)
    assert "at least one warehouse" in without.stderr
    assert "NOPE" in unknown.stderr
    assert bad_role.exit_code == 2
    assert [u.username for u in access.list_users(live.potok.uow())] == ["picker"]


def test_users_list_set_role_disable_and_enable(live: LiveServer, database_url: str) -> None:
    build_world(live.potok)
    make_user(live.potok, "admin", Role.ADMIN)
    password = one_time_password(
        potok_cli(database_url, "users", "create", "petrov", "-r", "analyst")
    )

    listed = potok_cli(database_url, "users", "list")
    promoted = potok_cli(database_url, "users", "set-role", "petrov", "warehouse", "-w", "SPB")
    disabled = potok_cli(database_url, "users", "disable", "petrov")
    refused = sign_in(live, "petrov", password)
    listed_disabled = potok_cli(database_url, "users", "list")
    enabled = potok_cli(database_url, "users", "enable", "petrov")
    nobody = potok_cli(database_url, "users", "disable", "nobody")

    assert listed.exit_code == 0, listed.output
    rows = {row[0]: row for row in table_rows(listed.stdout)}
    assert set(rows) == {"admin", "petrov"}
    assert rows["petrov"][2] == "analyst"
    assert rows["petrov"][4] == "one-time password"
    assert rows["admin"][4] == "active"
    assert promoted.exit_code == 0, promoted.output
    assert "warehouse at SPB" in promoted.stdout
    assert disabled.exit_code == 0, disabled.output
    problem(refused, 401, "bad-credentials")
    petrov = {row[0]: row for row in table_rows(listed_disabled.stdout)}["petrov"]
    assert (petrov[2], petrov[3], petrov[4]) == ("warehouse", "SPB", "disabled")
    assert enabled.exit_code == 0, enabled.output
    assert sign_in(live, "petrov", password).status_code == 201
    assert nobody.exit_code == 4
    assert "nobody" in nobody.stderr


def test_the_last_admin_cannot_be_demoted_or_disabled_from_the_command_line(
    live: LiveServer, database_url: str
) -> None:
    make_user(live.potok, "admin", Role.ADMIN)

    demoted = potok_cli(database_url, "users", "set-role", "admin", "manager")
    disabled = potok_cli(database_url, "users", "disable", "admin")

    assert (demoted.exit_code, disabled.exit_code) == (5, 5)
    assert "last active administrator" in demoted.stderr
    assert active_admins(live) == ["admin"]


def test_users_reset_password_prints_a_new_one_and_lifts_a_lock_out(
    live: LiveServer, database_url: str
) -> None:
    make_user(live.potok, "ivanova", Role.OPERATOR)
    for n in range(5):
        sign_in(live, "ivanova", f"a wrong password {n}")
    problem(sign_in(live, "ivanova", "a wrong password 6"), 403, "account-locked")

    result = potok_cli(database_url, "users", "reset-password", "ivanova")

    password = one_time_password(result)
    signed = sign_in(live, "ivanova", password)
    assert signed.status_code == 201, signed.text
    assert signed.json()["password_change_required"] is True


# ---------------------------------------------------------------------- keys


def test_keys_create_prints_a_working_secret_once(live: LiveServer, database_url: str) -> None:
    build_world(live.potok)

    result = potok_cli(
        database_url, "keys", "create", "shop", "--scope", "orders:read", "--scope", "stock:read"
    )

    assert result.exit_code == 0, result.output
    secrets = SECRET.findall(result.stdout)
    assert len(secrets) == 1, result.stdout
    assert "will not be shown again" in result.stdout
    with live.client(headers={"Authorization": f"Bearer {secrets[0]}"}) as client:
        assert client.get("/api/v1/stock/levels").status_code == 200
        assert client.get("/api/v1/orders").status_code == 200
        problem(client.get("/api/v1/products"), 403, "forbidden")
    listed = potok_cli(database_url, "keys", "list")
    assert listed.exit_code == 0, listed.output
    assert secrets[0] not in listed.stdout
    assert secrets[0].split("_", 2)[2] not in listed.stdout


def test_keys_create_binds_a_channel_and_a_rate_limit(live: LiveServer, database_url: str) -> None:
    build_world(live.potok)

    made = potok_cli(
        database_url,
        "keys",
        "create",
        "ozon",
        "-s",
        "orders:write",
        "--channel",
        "mp",
        "--rate-limit",
        "120",
    )
    no_scope = potok_cli(database_url, "keys", "create", "empty")
    admin_scope = potok_cli(database_url, "keys", "create", "boss", "-s", "users:manage")
    no_channel = potok_cli(database_url, "keys", "create", "lost", "-s", "orders:read", "-c", "zz")
    listed = potok_cli(database_url, "keys", "list")

    assert made.exit_code == 0, made.output
    assert no_scope.exit_code == 2
    assert admin_scope.exit_code == 3
    assert "cannot be given to a key" in admin_scope.stderr
    assert no_channel.exit_code == 4
    rows = table_rows(listed.stdout)
    assert len(rows) == 1, listed.stdout
    name, prefix, scopes, channel, per_minute, *_, by, _used, state = rows[0]
    assert (name, scopes, channel, per_minute) == ("ozon", "orders:write", "mp", "120")
    assert prefix.startswith("pk_")
    assert (by, state) == ("cli:ops", "active")


def test_keys_revoke_stops_the_key(live: LiveServer, database_url: str) -> None:
    made = potok_cli(database_url, "keys", "create", "old", "-s", "catalogue:read")
    (secret,) = SECRET.findall(made.stdout)

    revoked = potok_cli(database_url, "keys", "revoke", "old")
    again = potok_cli(database_url, "keys", "revoke", "missing")
    listed = potok_cli(database_url, "keys", "list")

    assert revoked.exit_code == 0, revoked.output
    assert again.exit_code == 4
    assert table_rows(listed.stdout)[0][-1].startswith("revoked")
    with live.client(headers={"Authorization": f"Bearer {secret}"}) as client:
        problem(client.get("/api/v1/products"), 401, "bad-credentials")


# ---------------------------------------------------------------------- the sandbox


def test_demo_prints_the_admin_password_and_a_key_for_the_authorize_button(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'sandbox.db'}"

    result = potok_cli(
        url, "demo", "--no-serve", "--orders", "5", "--seed", "3", "--history-days", "0"
    )
    again = potok_cli(url, "demo", "--no-serve")

    password = one_time_password(result)
    (secret,) = SECRET.findall(result.stdout)
    assert "Authorize" in result.stdout
    assert again.exit_code == 0, again.output
    assert not ONE_TIME.search(again.stdout)
    assert not SECRET.search(again.stdout)
    potok = bootstrap(_settings(url))
    try:
        found = access.key_principal(potok.uow(), secret)
        assert found is not None
        principal, key = found
        assert (key.name, principal.permissions) == ("sandbox", KEY_SCOPES)
        signed = access.sign_in(potok.uow(), "admin", password, policy=LoginPolicy())
        assert signed.user.role is Role.ADMIN
    finally:
        potok.close()
