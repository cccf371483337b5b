"""Administrators change customer message templates over HTTP and the command line: a
draft is previewed against the sample order, a broken one is refused naming its line and
column, each save is a version in the history, and the shipped template comes back on
reset."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.domain.access import Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.problems import problem

SHIPPED = (
    '{% extends "ru/_base.j2" %}\n'
    "{% block subject %}Посылка {{ order_id }} уже едет{% endblock %}\n"
    "{% block body %}Трек-номер {{ tracking_number }}.{% endblock %}\n"
    "{% block html_body %}<p>Трек-номер <b>{{ tracking_number }}</b>.</p>{% endblock %}\n"
)
PATH = "/api/v1/notification-templates/order_shipped/ru"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_admin_changes_previews_and_resets_a_template(
    live: LiveServer, api: httpx.Client
) -> None:
    make_user(live.potok, "ada", Role.ADMIN)
    admin = sign_in(live.url, "ada")

    draft = api.post(f"{PATH}/preview", json={"source": SHIPPED})
    assert draft.status_code == 200, draft.text
    assert draft.json()["subject"] == "Посылка 1042 уже едет"
    assert "<p>Трек-номер <b>SBX000123</b>.</p>" in draft.json()["html"]

    refused = problem(
        admin.request("PUT", PATH, json={"source": "{{ order_id }}\n{% if vip %}VIP{% endif %}"}),
        422,
        "template-refused",
    )
    assert (refused["line"], refused["column"]) == (2, 7)
    assert refused["faults"][0]["code"] == "unknown-variable"
    syntax = problem(
        admin.request("PUT", PATH, json={"source": "x\n\n {{ x"}), 422, "template-refused"
    )
    assert (syntax["line"], syntax["column"], syntax["faults"][0]["code"]) == (3, 2, "syntax")
    # an API key may not change templates (administration, people only)
    problem(api.put(PATH, json={"source": SHIPPED}), 403, "forbidden")

    saved = admin.request("PUT", PATH, json={"source": SHIPPED})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["version"], saved.json()["overridden"]) == (1, True)
    assert saved.json()["changed_by"] == "user:ada"
    shown = api.get(PATH).json()
    assert shown["subject"] == "Посылка 1042 уже едет"
    listed = {
        (t["medium"], t["topic"], t["language"]): t for t in api.get(PATH.rsplit("/", 2)[0]).json()
    }
    assert len(listed) == 2 * 8 * 2
    assert listed[("email", "order_shipped", "ru")]["source"] == SHIPPED
    assert listed[("email", "order_shipped", "en")]["version"] == 0

    reset = admin.request("PUT", PATH, json={"source": None})
    assert (reset.json()["version"], reset.json()["overridden"]) == (2, False)
    assert api.get(PATH).json()["subject"] == "Заказ 1042 отправлен"
    history = api.get(f"{PATH}/versions").json()
    assert [(v["version"], v["source"]) for v in history] == [(2, None), (1, SHIPPED)]

    sms = admin.request(
        "PUT", PATH, json={"medium": "sms", "source": "{{ shop }}: {{ order_id }} едет"}
    )
    assert sms.status_code == 200, sms.text
    assert api.get(PATH, params={"medium": "sms"}).json()["text"] == "Potok: 1042 едет\n"
    assert api.get(PATH).json()["subject"] == "Заказ 1042 отправлен"  # e-mail unchanged


def test_the_command_line_sets_shows_and_resets_templates(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        done = runner.invoke(app, ["--db", database_url, "notifications", *args])
        return done.exit_code, done.output

    draft = tmp_path / "shipped.j2"
    draft.write_text(SHIPPED, encoding="utf-8")
    code, out = run("preview", "order_shipped", "--file", str(draft))
    assert (code, out.splitlines()[0]) == (0, "Subject: Посылка 1042 уже едет")
    broken = tmp_path / "broken.j2"
    broken.write_text("{{ order_id }}\n{{ nobody }}", encoding="utf-8")
    code, out = run("templates", "set", "order_shipped", "--file", str(broken))
    assert code != 0
    assert "line 2, column 4: unknown variable 'nobody'" in out
    assert run("templates", "set", "order_shipped", "--file", str(draft)) == (
        0,
        "email/ru/order_shipped: version 1 is in force\n",
    )
    assert run("templates", "show", "order_shipped") == (0, SHIPPED)
    code, out = run("templates", "history", "order_shipped", "-o", "json")
    assert code == 0
    assert '"version": 1' in out
    assert run("templates", "reset", "order_shipped")[0] == 0
    code, out = run("templates", "show", "order_shipped")
    assert out.startswith('{% extends "ru/_base.j2" %}')
    code, out = run("templates", "list", "--medium", "sms", "-o", "csv")
    assert (code, len(out.strip().splitlines())) == (0, 1 + 8 * 2)
