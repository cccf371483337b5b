"""Administrators turn customer notifications off and on at runtime, per topic and per
sales channel, over HTTP and the command line: the next event of a topic turned off is
logged as skipped with the reason while other topics still reach a real SMTP server; on
again, it sends; a stored switch wins over the deployment's settings; every change is kept
with who made it."""

from __future__ import annotations

from dataclasses import replace

import httpx
from typer.testing import CliRunner

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.connectors.messaging import SmtpSender
from potok.domain.access import Role
from potok.domain.notifications import Language
from potok.domain.notifications.switches import SwitchKind
from potok.domain.orders.commands import CancelOrder
from potok.services import notification_switches, notifications
from potok.services import orders as order_service
from potok.services.intake import Placement, place_order
from potok.services.notifications import NotificationPolicy
from potok.worker.dispatcher import Dispatcher, new_client
from potok.worker.notifier import Notifier
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_returns import T0, Clock
from tests.problems import problem
from tests.smtp import smtp_server

CUSTOMER = {"customer_name": "Anna Smirnova", "customer_email": "anna@example.ru"}
TOPIC = "/api/v1/notification-switches/topic"


def test_an_admin_turns_a_topic_and_a_channel_off_and_on(
    live: LiveServer, api: httpx.Client
) -> None:
    potok = live.potok
    build_world(potok, {("MSK", "KET"): 5})
    make_user(potok, "ada", Role.ADMIN)
    admin = sign_in(live.url, "ada")

    def place() -> int:
        placed = place_order(potok.uow(), order_command([("KET", 1)], **CUSTOMER), TESTER)
        assert isinstance(placed, Placement)
        assert placed.order.id is not None
        return placed.order.id

    def logged(order_id: int) -> set[tuple[str, str, str | None]]:
        sent, _ = notifications.list_sent(potok.uow(), order_id=order_id)
        return {(r.topic, r.outcome, r.error) for r in sent}

    with smtp_server() as (inbox, port), new_client() as client:
        notifier = Notifier(
            SmtpSender("127.0.0.1", port, sender="Shop <shop@example.ru>"),
            NotificationPolicy(by_channel={"web": Language.EN}),
            max_attempts=3,
            backoff_s=60,
            backoff_max_s=600,
        )
        dispatcher = Dispatcher(potok, client, name="mail", clock=Clock(T0), notifier=notifier)
        dispatcher.run_round()  # the notifications cursor starts at the end of the outbox

        # only administrators switch; what is allowed is named
        problem(api.put(f"{TOPIC}/order_accepted", json={"enabled": False}), 403, "forbidden")
        unknown = problem(
            admin.request("PUT", f"{TOPIC}/order_lost", json={"enabled": False}),
            422,
            "invalid-input",
        )
        assert unknown["errors"][0]["code"] == "unknown-topic"
        assert "order_accepted" in unknown["errors"][0]["message"]
        channel = problem(
            admin.request(
                "PUT", "/api/v1/notification-switches/channel/nope", json={"enabled": False}
            ),
            422,
            "invalid-input",
        )
        assert channel["errors"][0]["code"] == "unknown-channel"
        assert "web" in channel["errors"][0]["message"]

        off = admin.request("PUT", f"{TOPIC}/order_accepted", json={"enabled": False})
        assert off.status_code == 200, off.text
        assert (off.json()["enabled"], off.json()["changed_by"]) == (False, "user:ada")
        first = place()
        order_service.cancel_order(potok.uow(), CancelOrder(first, "changed my mind"), TESTER)
        dispatcher.run_round()
        assert inbox.subjects() == [f"Order {first} cancelled"]  # another topic still sends
        assert logged(first) == {
            ("order_accepted", "skipped", "order_accepted is turned off by user:ada"),
            ("order_cancelled", "sent", None),
        }

        on = admin.request("PUT", f"{TOPIC}/order_accepted", json={"enabled": True})
        assert on.json()["enabled"] is True
        second = place()
        dispatcher.run_round()
        assert inbox.subjects()[1:] == [f"Order {second} accepted"]

        admin.request("PUT", "/api/v1/notification-switches/channel/web", json={"enabled": False})
        third = place()
        dispatcher.run_round()
        assert len(inbox.messages) == 2
        assert logged(third) == {
            ("order_accepted", "skipped", "channel web is turned off by user:ada"),
        }
        admin.request("PUT", "/api/v1/notification-switches/channel/web", json={"enabled": True})

        # a stored "on" wins over the deployment's settings turning the topic off
        notifier.policy = replace(notifier.policy, topics_off=frozenset({"order_accepted"}))
        fourth = place()
        dispatcher.run_round()
        assert inbox.subjects()[2:] == [f"Order {fourth} accepted"]

    listed = {
        (s["kind"], s["code"]): s
        for s in admin.request("GET", "/api/v1/notification-switches").json()
    }
    assert len([k for k in listed if k[0] == "topic"]) == 8
    assert listed[("topic", "order_accepted")]["enabled"] is True
    assert listed[("topic", "order_shipped")]["enabled"] is None  # never switched
    assert listed[("channel", "web")]["changed_by"] == "user:ada"
    changes = notification_switches.switch_history(potok.uow(), "topic", "order_accepted")
    assert [(c.kind, c.enabled, c.changed_by) for c in changes] == [
        (SwitchKind.TOPIC, True, "user:ada"),
        (SwitchKind.TOPIC, False, "user:ada"),
    ]


def test_the_command_line_lists_and_flips_switches(potok: Potok, database_url: str) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        done = runner.invoke(app, ["--db", database_url, "notifications", *args])
        return done.exit_code, done.output

    assert run("switch", "topic", "order_shipped", "off") == (
        0,
        "topic order_shipped: notifications off\n",
    )
    code, out = run("switch", "topic", "order_lost", "off")
    assert code != 0
    assert "order_accepted" in out
    assert run("switch", "channel", "web", "maybe")[0] != 0
    code, out = run("switches", "-o", "csv")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "kind,code,state,changed_at,changed_by"
    assert [ln.split(",")[:3] for ln in lines if ",order_shipped," in ln] == [
        ["topic", "order_shipped", "off"]
    ]
    assert [ln.split(",")[:3] for ln in lines if ",web," in ln] == [["channel", "web", "settings"]]
