"""``potok webhooks add / list / deliveries / remove``, ``potok events stats`` and
``potok worker --once`` through typer's CliRunner, against a real receiver."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.db.tables import event_consumers
from potok.services import events
from potok.settings import get_settings
from tests.integration.test_event_delivery import emit
from tests.receiver import Receiver

runner = CliRunner()


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def potok_cli(url: str, *args: str, private: bool = True) -> Result:
    env = {"COLUMNS": "200", "USER": "integrator"}
    if private:
        env["POTOK_EVENTS__ALLOW_PRIVATE_ADDRESSES"] = "true"
    get_settings.cache_clear()
    return runner.invoke(app, ["--db", url, *args], env=env)


def test_subscribe_deliver_read_the_log_and_unsubscribe_from_the_command_line(
    potok: Potok, database_url: str
) -> None:
    receiver = Receiver().start()
    try:
        added = potok_cli(database_url, "webhooks", "add", receiver.url, "-t", "order.*")
        assert added.exit_code == 0, added.output
        secret = added.output.split("shown once): ")[1].split()[0]
        assert secret.startswith("whsec_")

        emit(potok, 3, 2)
        delivered = potok_cli(database_url, "worker", "--once")
        assert delivered.exit_code == 0, delivered.output
        assert "delivered 2" in delivered.output
        got = receiver.wait_for(2)
        assert [Webhook(secret).verify(r.body, r.headers)["subject"] for r in got] == [
            "order/3",
            "order/3",
        ]

        listed = json.loads(potok_cli(database_url, "webhooks", "list", "-o", "json").output)
        assert [(s["url"], s["event_types"]) for s in listed] == [(receiver.url, "order.*")]
        log = potok_cli(database_url, "webhooks", "deliveries", str(listed[0]["id"]), "-o", "json")
        assert [d["outcome"] for d in json.loads(log.output)] == ["delivered", "delivered"]
        stats = potok_cli(database_url, "events", "stats", "-o", "json")
        assert sorted(json.loads(stats.output), key=lambda c: c["consumer"]) == [
            {"consumer": f"reaction:{name}", "backlog": 0, "oldest_undelivered": None}
            for name in (
                "apply_automation_rules",
                "call_off_carrier_booking",
                "open_system_tasks",
                "queue_fiscal_receipts",
                "refresh_order_facts",
            )
        ] + [{"consumer": f"webhook:{listed[0]['id']}", "backlog": 0, "oldest_undelivered": None}]

        removed = potok_cli(database_url, "webhooks", "remove", str(listed[0]["id"]))
        assert removed.exit_code == 0, removed.output
        again = potok_cli(database_url, "webhooks", "remove", str(listed[0]["id"]))
        assert again.exit_code != 0
        assert "webhook subscription" in again.output.lower()
    finally:
        receiver.stop()


def test_a_private_address_is_refused_with_a_plain_message(database_url: str) -> None:
    refused = potok_cli(
        database_url, "webhooks", "add", "http://127.0.0.1:9/", "-t", "*", private=False
    )
    assert refused.exit_code != 0
    assert "url" in refused.output
    assert "Traceback" not in refused.output


def test_tail_prints_the_change_feed_in_commit_order(potok: Potok, database_url: str) -> None:
    emit(potok, 4, 2)
    emit(potok, 5, 1)

    plain = potok_cli(database_url, "events", "tail", "--after", "0", "--no-follow")
    assert plain.exit_code == 0, plain.output
    lines = [line.split() for line in plain.output.splitlines() if line.strip()]
    assert [(w[2], w[3]) for w in lines] == [
        ("order.status_changed", "order/4"),
        ("order.status_changed", "order/4"),
        ("order.status_changed", "order/5"),
    ]
    positions = [int(w[0]) for w in lines]
    assert positions == sorted(positions)

    after = str(positions[1])
    documents = potok_cli(
        database_url, "events", "tail", "--after", after, "--no-follow", "--json", "-t", "order.*"
    )
    assert documents.exit_code == 0, documents.output
    (only,) = [json.loads(line) for line in documents.output.splitlines()]
    assert (only["specversion"], only["subject"]) == ("1.0", "order/5")

    from_now = potok_cli(database_url, "events", "tail", "--no-follow")
    assert (from_now.exit_code, from_now.output) == (0, "")


def test_pause_resume_and_replay_from_the_command_line(potok: Potok, database_url: str) -> None:
    receiver = Receiver().start()
    try:
        added = potok_cli(database_url, "webhooks", "add", receiver.url, "-t", "order.*")
        assert added.exit_code == 0, added.output
        number = added.output.split()[1]
        emit(potok, 6, 2)
        assert potok_cli(database_url, "worker", "--once").exit_code == 0
        got = receiver.wait_for(2)

        paused = potok_cli(database_url, "webhooks", "pause", number)
        assert (paused.exit_code, paused.output.strip()) == (0, f"subscription {number} paused")
        listed = json.loads(potok_cli(database_url, "webhooks", "list", "-o", "json").output)
        assert listed[0]["paused_at"] is not None
        resumed = potok_cli(database_url, "webhooks", "resume", number)
        assert resumed.exit_code == 0, resumed.output

        first = got[0].event["sequence"]
        replayed = potok_cli(database_url, "events", "replay", number, "--from-sequence", first)
        assert replayed.exit_code == 0, replayed.output
        assert f"of subscription {number}: sequences {first}-" in replayed.output
        assert potok_cli(database_url, "worker", "--once").exit_code == 0
        again = receiver.wait_for(4)
        assert [r.headers["webhook-id"] for r in again[2:]] == [
            r.headers["webhook-id"] for r in got
        ]

        bad = potok_cli(database_url, "events", "replay", number, "--since", "yesterday")
        assert bad.exit_code != 0
        assert "ISO 8601" in bad.output
        nothing = potok_cli(database_url, "events", "replay", number, "--event", "nope")
        assert nothing.exit_code != 0
        assert "Traceback" not in nothing.output
    finally:
        receiver.stop()


def test_rotate_a_secret_and_filter_by_channel_from_the_command_line(
    potok: Potok, database_url: str
) -> None:
    refused = potok_cli(
        database_url, "webhooks", "add", "http://127.0.0.1:9/", "-t", "*", "-c", "nope"
    )
    assert refused.exit_code != 0
    assert "channels[0]" in refused.output
    added = potok_cli(database_url, "webhooks", "add", "http://127.0.0.1:9/", "-t", "*")
    number = added.output.split()[1]
    rotated = potok_cli(database_url, "webhooks", "rotate-secret", number, "--keep-old-for-s", "60")
    assert rotated.exit_code == 0, rotated.output
    assert "the old secret signs too until" in rotated.output
    assert rotated.output.split("shown once): ")[1].split()[0].startswith("whsec_")


def test_change_a_subscription_list_readers_and_forget_one_from_the_command_line(
    potok: Potok, database_url: str
) -> None:
    added = potok_cli(database_url, "webhooks", "add", "http://127.0.0.1:9/", "-t", "order.*")
    number = added.output.split()[1]
    wrong = potok_cli(database_url, "webhooks", "change", number, "-t", "no.pe")
    assert wrong.exit_code != 0
    assert "event_types[0]" in wrong.output
    nothing = potok_cli(database_url, "webhooks", "change", number)
    assert nothing.exit_code != 0
    assert "name what to change" in nothing.output
    changed = potok_cli(database_url, "webhooks", "change", number, "-t", "stock.*")
    assert changed.exit_code == 0, changed.output
    assert f"subscription {number}: stock.*" in changed.output
    listed = potok_cli(database_url, "webhooks", "list", "--output", "json")
    assert [s["event_types"] for s in json.loads(listed.output)] == ["stock.*"]

    emit(potok, 5, 2)
    events.sequence_events(potok.uow(), 100)  # as a worker does
    # a stream's reader left behind when the stream was switched off, as a worker leaves it
    with potok.engine.begin() as connection:
        connection.execute(
            event_consumers.insert().values(
                name="nats", position=0, attempts=0, updated_at=datetime.now(UTC)
            )
        )
    readers = potok_cli(database_url, "events", "readers", "--output", "json")
    assert readers.exit_code == 0, readers.output
    rows = json.loads(readers.output)
    assert (rows[0]["name"], rows[0]["position"], rows[0]["holds_retention"]) == ("nats", 0, "yes")
    assert f"webhook:{number}" in {r["name"] for r in rows}

    refused = potok_cli(database_url, "events", "forget-reader", f"webhook:{number}")
    assert refused.exit_code != 0
    assert "unsubscribe it" in refused.output
    unknown = potok_cli(database_url, "events", "forget-reader", "no-such-reader")
    assert unknown.exit_code != 0
    assert "No reader of the events is called 'no-such-reader'" in unknown.output
    forgotten = potok_cli(
        database_url, "events", "forget-reader", "nats", "--reason", "stream retired"
    )
    assert forgotten.exit_code == 0, forgotten.output
    assert "reader nats forgotten (it stood at 0" in forgotten.output
    after = json.loads(potok_cli(database_url, "events", "readers", "--output", "json").output)
    assert "nats" not in {r["name"] for r in after}
