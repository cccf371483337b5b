"""The audit trail: every change names who made it, through what and from where; it is read
through ``GET /api/v1/audit`` by administrators and managers only; and the database itself
refuses to change or delete it - on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.domain.access import Role
from potok.domain.catalogue import ProductDraft
from potok.services import access, catalogue
from potok.services.ports import AuditEntry
from potok.settings import get_settings
from tests.auth import Session, make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import build_world_api, order_body
from tests.problems import problem

PRODUCT = {"sku": "NEW", "name": "New kettle", "price": "1990.00", "vat_rate": "22"}


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    """``potok --db`` writes POTOK_DB__URL into the environment and re-reads the settings."""
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def trail(potok: Potok, **filters: Any) -> list[AuditEntry]:
    return access.audit_trail(potok.uow(), limit=1000, **filters).items


def one(potok: Potok, action: str, entity_id: str) -> AuditEntry:
    found = [e for e in trail(potok, action=action) if e.entity_id == entity_id]
    assert len(found) == 1, trail(potok)
    return found[0]


def admin(live: LiveServer) -> Session:
    make_user(live.potok, "admin", Role.ADMIN)
    return sign_in(live.url, "admin")


# ---------------------------------------------------------------------- what is written


def test_a_change_by_a_signed_in_user_names_the_user_the_api_and_the_ip(
    live: LiveServer,
) -> None:
    session = admin(live)

    created = session.request(
        "POST", "/api/v1/products", json=PRODUCT, headers={"X-Request-Id": "req-42"}
    )

    assert created.status_code == 201, created.text
    entry = one(live.potok, "product.created", "NEW")
    assert (entry.actor, entry.via, entry.ip) == ("user:admin", "api", "127.0.0.1")
    assert (entry.entity_type, entry.request_id) == ("product", "req-42")
    assert entry.before is None
    assert entry.after["product"]["name"] == "New kettle"


def test_a_change_by_an_api_key_names_the_key(live: LiveServer, api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = api.post("/api/v1/orders", json=order_body([("KET", 1)])).json()

    cancelled = api.post(
        f"/api/v1/orders/{order['id']}/cancellation", json={"reason": "customer changed mind"}
    )

    assert cancelled.status_code == 200, cancelled.text
    entry = one(live.potok, "order.cancelled", str(order["id"]))
    assert (entry.actor, entry.via, entry.ip) == ("api_key:tests", "api", "127.0.0.1")
    assert entry.entity_type == "order"
    assert entry.after["reason"] == "customer changed mind"
    placed = one(live.potok, "order.created", str(order["id"]))
    assert placed.actor == "api_key:tests"


def test_a_changed_user_is_recorded_with_the_values_before_and_after(live: LiveServer) -> None:
    session = admin(live)
    make_user(live.potok, "ivanova", Role.OPERATOR)

    changed = session.request(
        "PATCH", "/api/v1/users/ivanova", json={"role": "manager", "display_name": "Анна"}
    )

    assert changed.status_code == 200, changed.text
    entry = one(live.potok, "user.changed", "ivanova")
    assert (entry.actor, entry.via, entry.entity_type) == ("user:admin", "api", "user")
    assert (entry.before["role"], entry.before["display_name"]) == ("operator", "")
    assert (entry.after["role"], entry.after["display_name"]) == ("manager", "Анна")


def test_sign_in_failures_and_key_creation_are_on_the_trail(live: LiveServer) -> None:
    session = admin(live)
    with live.client() as client:
        client.post("/api/v1/session", json={"username": "admin", "password": "wrong guess!!"})

    created = session.request(
        "POST", "/api/v1/api-keys", json={"name": "erp", "scopes": ["stock:write"]}
    )

    assert created.status_code == 201, created.text
    failed = one(live.potok, "user.sign_in_failed", "admin")
    assert (failed.via, failed.ip, failed.after["failures"]) == ("api", "127.0.0.1", 1)
    assert failed.actor == "anonymous"  # whoever guessed is not known to be the user
    signed_in = one(live.potok, "user.signed_in", "admin")
    assert (signed_in.actor, signed_in.via) == ("user:admin", "api")
    (key,) = trail(live.potok, entity_type="api_key", entity_id="erp")
    assert (key.actor, key.after["scopes"]) == ("user:admin", ["stock:write"])
    assert created.json()["secret"] not in str(trail(live.potok))


def test_a_change_from_the_command_line_says_so(live: LiveServer, database_url: str) -> None:
    result = CliRunner().invoke(
        app,
        ["--db", database_url, "users", "create", "clerk", "--role", "analyst"],
        env={"COLUMNS": "200", "USER": "auditor"},
    )

    assert result.exit_code == 0, result.output
    entry = one(live.potok, "user.created", "clerk")
    assert (entry.actor, entry.via, entry.ip) == ("cli:auditor", "cli", None)
    assert entry.after["role"] == "analyst"


# ---------------------------------------------------------------------- reading it


def test_the_trail_is_filtered_by_entity_and_actor_and_paged_with_cursors(
    live: LiveServer, api: httpx.Client
) -> None:
    session = admin(live)
    build_world_api(api)  # 4 channels, 5 locations, 4 products as api_key:tests
    for n in range(3):
        body = {**PRODUCT, "sku": f"A{n}"}
        assert session.request("POST", "/api/v1/products", json=body).status_code == 201
    patched = session.request("PATCH", "/api/v1/products/A1", json={"name": "Renamed"})
    assert patched.status_code == 200, patched.text

    by_entity = session.request(
        "GET", "/api/v1/audit", params={"entity_type": "product", "entity_id": "A1"}
    ).json()
    by_actor = session.request("GET", "/api/v1/audit", params={"actor": "api_key:tests"}).json()
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"actor": "user:admin", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        answer = session.request("GET", "/api/v1/audit", params=params)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break

    assert [e["action"] for e in by_entity["items"]] == ["product.updated", "product.created"]
    assert by_entity["next_cursor"] is None
    assert len(by_actor["items"]) == 13
    assert {e["actor"] for e in by_actor["items"]} == {"api_key:tests"}
    paged = [e for page in pages for e in page["items"]]
    assert all(len(page["items"]) <= 2 for page in pages)
    assert len(pages) >= 2
    ids = [e["id"] for e in paged]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)
    everything = session.request("GET", "/api/v1/audit", params={"actor": "user:admin"}).json()
    assert ids == [e["id"] for e in everything["items"]]
    assert {"product.created", "product.updated"} <= {e["action"] for e in paged}


def test_managers_read_the_trail_but_analysts_and_keys_may_not(
    live: LiveServer, api: httpx.Client
) -> None:
    make_user(live.potok, "boss", Role.MANAGER)
    make_user(live.potok, "numbers", Role.ANALYST)

    as_manager = sign_in(live.url, "boss").request("GET", "/api/v1/audit")
    as_analyst = sign_in(live.url, "numbers").request("GET", "/api/v1/audit")
    as_key = api.get("/api/v1/audit")
    bad_cursor = sign_in(live.url, "boss").request(
        "GET", "/api/v1/audit", params={"cursor": "not-a-cursor"}
    )

    assert as_manager.status_code == 200, as_manager.text
    problem(as_analyst, 403, "forbidden")
    problem(as_key, 403, "forbidden")
    problem(bad_cursor, 422, "invalid-input")


# ---------------------------------------------------------------------- append-only


def test_the_database_refuses_to_change_or_delete_the_trail(potok: Potok) -> None:
    catalogue.create_product(
        potok.uow(), ProductDraft("KET", "Kettle", Decimal("10.00"), Decimal("22"))
    )
    before = trail(potok)
    assert len(before) == 1

    for statement in (
        "UPDATE audit_log SET actor = 'someone:else'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), potok.engine.begin() as c:
            c.execute(sa.text(statement))

    assert trail(potok) == before
