"""Signing in as people of every role, for the access tests."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from potok.bootstrap import Potok
from potok.domain.access import Role
from potok.domain.kernel import Actor
from potok.services import access

PASSWORD = "correct horse battery staple"


@dataclass
class Session:
    """A signed-in browser-like client: the session cookie, and the CSRF token to send."""

    client: httpx.Client
    csrf: str

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        if method.upper() in {"POST", "PUT", "PATCH", "DELETE"}:
            headers.setdefault("X-CSRF-Token", self.csrf)
        return self.client.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]


def make_user(potok: Potok, username: str, role: Role, warehouses: tuple[str, ...] = ()) -> None:
    """A user whose one-time password is already replaced by :data:`PASSWORD`."""
    user, once = access.create_user(
        potok.uow(),
        username=username,
        role=role,
        actor=Actor.system("tests"),
        warehouses=warehouses,
    )
    access.change_password(potok.uow(), user.id, once, PASSWORD)


def sign_in(base_url: str, username: str, password: str = PASSWORD) -> Session:
    client = httpx.Client(base_url=base_url, timeout=30)
    response = client.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    return Session(client, response.json()["csrf_token"])
