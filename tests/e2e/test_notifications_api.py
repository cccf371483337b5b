"""Customer notifications over HTTP and the command line: template previews in both
languages, opt-outs kept as hashes, the log of attempts."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.domain.notifications import Topic
from potok.renderers.message_templates import check_all
from tests.conftest import LiveServer
from tests.problems import problem


def test_every_template_renders_in_both_languages() -> None:
    check_all()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_previews_opt_outs_and_the_log(live: LiveServer, api: httpx.Client) -> None:
    for topic in Topic:
        ru = api.get(f"/api/v1/notification-templates/{topic.value}/ru").json()
        en = api.get(f"/api/v1/notification-templates/{topic.value}/en").json()
        assert ru["text"].startswith("Здравствуйте, Анна!"), ru
        assert en["text"].startswith("Hello, Анна!"), en
        assert "<!doctype html>" in en["html"]
    problem(api.get("/api/v1/notification-templates/order_lost/ru"), 422, "invalid-input")

    out = api.post("/api/v1/notification-opt-outs", json={"email": "Anna@example.ru"})
    assert out.json() == {
        "email": "A***@example.ru",
        "phone": None,
        "opted_out": True,
        "changed": True,
    }
    by_phone = api.post("/api/v1/notification-opt-outs", json={"phone": "8 (916) 123-45-67"})
    assert by_phone.json() == {
        "email": None,
        "phone": "+7916*****67",
        "opted_out": True,
        "changed": True,
    }
    problem(
        api.post(
            "/api/v1/notification-opt-outs", json={"email": "a@b.ru", "phone": "+79161234567"}
        ),
        422,
        "invalid-input",
    )
    again = api.post("/api/v1/notification-opt-outs", json={"email": "anna@example.ru"})
    assert again.json()["changed"] is False
    back = api.post(
        "/api/v1/notification-opt-outs", json={"email": "anna@example.ru", "opted_out": False}
    )
    assert back.json()["changed"] is True
    problem(
        api.post("/api/v1/notification-opt-outs", json={"email": "nobody"}), 422, "invalid-input"
    )
    assert api.get("/api/v1/notifications").json() == {"items": [], "next_cursor": None}
    problem(api.get("/api/v1/notifications", params={"outcome": "lost"}), 422, "invalid-input")


def test_the_command_line_previews_and_opts_out(potok: Potok, database_url: str) -> None:
    runner = CliRunner()
    shown = runner.invoke(
        app, ["--db", database_url, "notifications", "preview", "order_shipped", "--language", "en"]
    )
    assert shown.exit_code == 0, shown.output
    assert "Subject: Order 1042 is on its way" in shown.output
    out = runner.invoke(app, ["--db", database_url, "notifications", "opt-out", "a@b.ru"])
    assert (out.exit_code, out.output.strip()) == (0, "opted out")
    listed = runner.invoke(app, ["--db", database_url, "notifications", "list", "-o", "json"])
    assert (listed.exit_code, listed.output.strip()) == (0, "[]")
