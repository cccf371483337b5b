"""Who may call Potok over HTTP: key scopes, channel-bound keys, revocation, rate limits,
sign-in with lock-out, CSRF, one-time passwords, the last administrator, warehouse staff,
and the users and API-key routes themselves - on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from potok.domain.access import Permission, Role
from tests.auth import PASSWORD, Session, make_user, sign_in
from tests.conftest import LiveServer, key_for
from tests.factories import MOSCOW, VYBORG, build_world, build_world_api, order_body
from tests.problems import problem

P = Permission
NEW_PASSWORD = "a brand new passphrase of mine"


def with_key(live: LiveServer, secret: str) -> httpx.Client:
    return live.client(headers={"Authorization": f"Bearer {secret}"})


def place(client: httpx.Client, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/orders", json=order_body(lines, **extra))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def order_ids(client: httpx.Client | Session) -> set[int]:
    if isinstance(client, Session):
        response = client.request("GET", "/api/v1/orders")
    else:
        response = client.get("/api/v1/orders")
    assert response.status_code == 200, response.text
    return {o["id"] for o in response.json()["items"]}


def admin_session(live: LiveServer) -> Session:
    make_user(live.potok, "admin", Role.ADMIN)
    return sign_in(live.url, "admin")


def try_sign_in(live: LiveServer, username: str, password: str) -> httpx.Response:
    with live.client() as client:
        return client.post("/api/v1/session", json={"username": username, "password": password})


# ---------------------------------------------------------------------- API keys


def test_a_key_without_the_scope_is_forbidden_and_one_with_it_may(live: LiveServer) -> None:
    product = {"sku": "KET", "name": "Kettle", "price": "2490.00", "vat_rate": "22"}
    with with_key(live, key_for(live.potok, P.CATALOGUE_READ, name="reader")) as reader:
        refused = reader.post("/api/v1/products", json=product)
        assert reader.get("/api/v1/products").status_code == 200
    with with_key(live, key_for(live.potok, P.CATALOGUE_WRITE, name="writer")) as writer:
        created = writer.post("/api/v1/products", json=product)

    body = problem(refused, 403, "forbidden")
    assert "catalogue:write" in body["detail"]
    assert created.status_code == 201, created.text


def test_the_key_is_accepted_in_the_x_api_key_header_too(live: LiveServer) -> None:
    secret = key_for(live.potok, P.CATALOGUE_READ, name="header")
    with live.client(headers={"X-API-Key": secret}) as client:
        me = client.get("/api/v1/me")

    assert me.status_code == 200, me.text
    assert (me.json()["kind"], me.json()["name"]) == ("api_key", "header")
    assert me.json()["permissions"] == ["catalogue:read"]


def test_a_channel_bound_key_takes_and_sees_the_orders_of_its_channel_only(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    on_marketplace = place(api, [("MUG", 1)], channel="mp")
    secret = key_for(live.potok, P.ORDERS_WRITE, P.ORDERS_READ, channel="web", name="shop")

    with with_key(live, secret) as shop:
        foreign = shop.post("/api/v1/orders", json=order_body([("KET", 1)], channel="mp"))
        own = place(shop, [("KET", 1)], channel="web")
        listed = order_ids(shop)
        filtered = shop.get("/api/v1/orders", params={"channel": "mp"})
        hidden = shop.get(f"/api/v1/orders/{on_marketplace['id']}")
        visible = shop.get(f"/api/v1/orders/{own['id']}")

    problem(foreign, 403, "out-of-scope")
    assert listed == {own["id"]}
    assert filtered.json()["items"] == []
    problem(hidden, 404, "order-not-found")
    assert visible.status_code == 200
    assert order_ids(api) == {own["id"], on_marketplace["id"]}


def test_a_revoked_key_is_refused_at_once(live: LiveServer) -> None:
    secret = key_for(live.potok, P.CATALOGUE_READ, name="leaving")
    admin = admin_session(live)
    with with_key(live, secret) as client:
        before = client.get("/api/v1/products")
        revoked = admin.request("DELETE", "/api/v1/api-keys/leaving")
        after = client.get("/api/v1/products")

    assert before.status_code == 200
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    problem(after, 401, "bad-credentials")
    assert after.headers["www-authenticate"].startswith("Bearer")


def test_no_credentials_and_a_made_up_key_are_both_401(anonymous: httpx.Client) -> None:
    problem(anonymous.get("/api/v1/products"), 401, "not-authenticated")
    made_up = anonymous.get("/api/v1/products", headers={"Authorization": "Bearer pk_abc_def"})
    problem(made_up, 401, "bad-credentials")


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(live: LiveServer) -> None:
    secret = key_for(live.potok, P.CATALOGUE_READ, name="chatty", rate_limit=3)
    with with_key(live, secret) as client:
        answers = [client.get("/api/v1/products") for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    body = problem(answers[3], 429, "rate-limited")
    retry_after = int(answers[3].headers["retry-after"])
    assert 1 <= retry_after <= 20
    assert body["detail"]


# ---------------------------------------------------------------------- sign-in


def test_a_wrong_password_is_401_bad_credentials(live: LiveServer) -> None:
    make_user(live.potok, "ivanova", Role.OPERATOR)

    problem(try_sign_in(live, "ivanova", "not the password at all"), 401, "bad-credentials")
    problem(try_sign_in(live, "nobody", PASSWORD), 401, "bad-credentials")
    assert try_sign_in(live, "ivanova", PASSWORD).status_code == 201


def test_five_wrong_passwords_lock_the_account_until_an_admin_resets_it(
    live: LiveServer,
) -> None:
    make_user(live.potok, "ivanova", Role.OPERATOR)
    admin = admin_session(live)

    wrong = [try_sign_in(live, "ivanova", f"wrong password {n}") for n in range(5)]
    right_but_locked = try_sign_in(live, "ivanova", PASSWORD)
    reset = admin.request("POST", "/api/v1/users/ivanova/password-reset")
    with_old_password = try_sign_in(live, "ivanova", PASSWORD)
    with_new_password = try_sign_in(live, "ivanova", reset.json()["one_time_password"])

    for answer in wrong[:4]:
        problem(answer, 401, "bad-credentials")
    problem(wrong[4], 403, "account-locked")
    problem(right_but_locked, 403, "account-locked")
    assert reset.status_code == 200, reset.text
    problem(with_old_password, 401, "bad-credentials")
    assert with_new_password.status_code == 201, with_new_password.text
    assert with_new_password.json()["password_change_required"] is True


def test_a_session_change_needs_the_csrf_token(live: LiveServer) -> None:
    build_world(live.potok)
    admin = admin_session(live)
    body = {"sku": "NEW", "name": "New", "price": "10.00", "vat_rate": "22"}

    without = admin.client.post("/api/v1/products", json=body)
    wrong = admin.client.post("/api/v1/products", json=body, headers={"X-CSRF-Token": "nope"})
    reading = admin.client.get("/api/v1/products/KET")
    with_token = admin.request("POST", "/api/v1/products", json=body)

    problem(without, 403, "csrf-failed")
    problem(wrong, 403, "csrf-failed")
    assert reading.status_code == 200, reading.text
    assert with_token.status_code == 201, with_token.text


def test_a_new_user_may_only_change_the_one_time_password_until_they_do(
    live: LiveServer,
) -> None:
    admin = admin_session(live)
    created = admin.request(
        "POST", "/api/v1/users", json={"username": "petrov", "role": "operator"}
    ).json()
    once = created["one_time_password"]
    petrov = sign_in(live.url, "petrov", once)

    me = petrov.request("GET", "/api/v1/me")
    orders = petrov.request("GET", "/api/v1/orders")
    keys = petrov.request("GET", "/api/v1/products")
    changed = petrov.request(
        "POST",
        "/api/v1/me/password",
        json={"current_password": once, "new_password": NEW_PASSWORD},
    )
    after = petrov.request("GET", "/api/v1/orders")
    signed_out = petrov.request("DELETE", "/api/v1/session")
    gone = petrov.request("GET", "/api/v1/me")

    assert me.status_code == 200, me.text
    assert me.json()["password_change_required"] is True
    problem(orders, 403, "password-change-required")
    problem(keys, 403, "password-change-required")
    assert changed.status_code == 204, changed.text
    assert after.status_code == 200, after.text
    assert signed_out.status_code == 204
    problem(gone, 401, "not-authenticated")
    assert try_sign_in(live, "petrov", NEW_PASSWORD).status_code == 201


def test_a_pending_user_may_sign_out(live: LiveServer) -> None:
    admin = admin_session(live)
    created = admin.request("POST", "/api/v1/users", json={"username": "new", "role": "analyst"})
    session = sign_in(live.url, "new", created.json()["one_time_password"])

    assert session.request("DELETE", "/api/v1/session").status_code == 204
    problem(session.request("GET", "/api/v1/me"), 401, "not-authenticated")


def test_the_last_active_admin_can_be_neither_demoted_nor_disabled(live: LiveServer) -> None:
    admin = admin_session(live)

    demoted = admin.request("PATCH", "/api/v1/users/admin", json={"role": "manager"})
    disabled = admin.request("PATCH", "/api/v1/users/admin", json={"active": False})
    make_user(live.potok, "second", Role.ADMIN)
    demoted_with_a_second = admin.request("PATCH", "/api/v1/users/admin", json={"role": "manager"})

    problem(demoted, 409, "last-admin")
    problem(disabled, 409, "last-admin")
    assert demoted_with_a_second.status_code == 200, demoted_with_a_second.text
    assert demoted_with_a_second.json()["role"] == "manager"


# ---------------------------------------------------------------------- warehouse staff


def test_warehouse_staff_receive_and_see_orders_at_their_own_warehouses_only(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("SPB", "MUG"): 10})
    at_moscow = place(api, [("KET", 1)], to=MOSCOW)
    at_petersburg = place(api, [("MUG", 1)], to=VYBORG)
    assert {r["warehouse"] for r in at_moscow["reservations"]} == {"MSK"}
    assert {r["warehouse"] for r in at_petersburg["reservations"]} == {"SPB"}
    make_user(live.potok, "picker", Role.WAREHOUSE, warehouses=("MSK",))
    picker = sign_in(live.url, "picker")

    elsewhere = picker.request(
        "POST", "/api/v1/stock/receipts", json={"warehouse": "SPB", "sku": "KET", "quantity": 1}
    )
    at_home = picker.request(
        "POST", "/api/v1/stock/receipts", json={"warehouse": "MSK", "sku": "KET", "quantity": 1}
    )
    listed = order_ids(picker)
    hidden = picker.request("GET", f"/api/v1/orders/{at_petersburg['id']}")

    problem(elsewhere, 403, "out-of-scope")
    assert at_home.status_code == 201, at_home.text
    assert listed == {at_moscow["id"]}
    problem(hidden, 404, "order-not-found")


# ---------------------------------------------------------------------- users and keys routes


def test_an_admin_creates_lists_and_changes_users(live: LiveServer) -> None:
    build_world(live.potok)
    admin = admin_session(live)

    created = admin.request(
        "POST",
        "/api/v1/users",
        json={
            "username": "picker",
            "role": "warehouse",
            "display_name": "Пётр Сидоров",
            "warehouses": ["MSK", "SPB"],
        },
    )
    taken = admin.request("POST", "/api/v1/users", json={"username": "picker", "role": "analyst"})
    no_warehouse = admin.request(
        "POST", "/api/v1/users", json={"username": "lost", "role": "warehouse"}
    )
    moved = admin.request("PATCH", "/api/v1/users/picker", json={"role": "operator"})
    listed = admin.request("GET", "/api/v1/users")

    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["one_time_password"]) >= 12
    assert body["user"]["must_change_password"] is True
    assert body["user"]["warehouses"] == ["MSK", "SPB"]
    problem(taken, 409, "username-taken")
    problem(no_warehouse, 422, "invalid-input")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["role"], moved.json()["warehouses"]) == ("operator", [])
    users = {u["username"]: u for u in listed.json()}
    assert set(users) == {"admin", "picker"}
    assert "one_time_password" not in listed.text
    assert body["one_time_password"] not in listed.text


def test_an_admin_creates_a_key_whose_secret_is_shown_once_and_never_listed(
    live: LiveServer,
) -> None:
    build_world(live.potok)
    admin = admin_session(live)

    created = admin.request(
        "POST",
        "/api/v1/api-keys",
        json={
            "name": "ozon",
            "scopes": ["orders:write", "orders:read"],
            "channel": "mp",
            "rate_limit_per_minute": 120,
        },
    )
    not_a_key_scope = admin.request(
        "POST", "/api/v1/api-keys", json={"name": "boss", "scopes": ["users:manage"]}
    )
    listed = admin.request("GET", "/api/v1/api-keys")

    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    key = created.json()["key"]
    assert secret.startswith(f"pk_{key['prefix']}_")
    assert (key["channel"], key["rate_limit_per_minute"]) == ("mp", 120)
    assert sorted(key["scopes"]) == ["orders:read", "orders:write"]
    assert key["created_by"] == "user:admin"
    problem(not_a_key_scope, 422, "invalid-input")
    assert [k["name"] for k in listed.json()] == ["ozon"]
    assert secret not in listed.text
    assert secret.split("_", 2)[2] not in listed.text
    with with_key(live, secret) as ozon:
        me = ozon.get("/api/v1/me").json()
    assert (me["name"], me["channel"]) == ("ozon", "mp")


def test_keys_and_non_admins_cannot_manage_users_or_keys(live: LiveServer) -> None:
    make_user(live.potok, "boss", Role.MANAGER)
    manager = sign_in(live.url, "boss")
    with with_key(live, key_for(live.potok, name="everything")) as key:
        by_key = key.post("/api/v1/api-keys", json={"name": "x1", "scopes": ["orders:read"]})
    by_manager = manager.request("POST", "/api/v1/users", json={"username": "x2", "role": "admin"})

    problem(by_key, 403, "forbidden")
    problem(by_manager, 403, "forbidden")
