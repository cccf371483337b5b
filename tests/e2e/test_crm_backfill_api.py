"""A RetailCRM back-fill over HTTP and from the command line against a simulated account:
started by the API (a retried start is one back-fill), told by the worker's rounds, its
progress read back; the CLI runs one with a progress bar and prints where it stands."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.domain.marketplaces import ConnectionDraft, Credentials, Marketplace
from potok.services import intake
from potok.services.marketplaces import connect_marketplace
from potok.settings import get_settings
from potok.worker.dispatcher import Dispatcher, new_client
from tests.conftest import LiveServer
from tests.factories import TESTER, build_world, build_world_api, order_body, order_command
from tests.problems import problem
from tests.simulators.retailcrm import RetailCrmSimulator


def connect(api: httpx.Client, retailcrm: RetailCrmSimulator) -> None:
    made = api.post(
        "/api/v1/marketplaces",
        json={
            "code": "crm",
            "marketplace": "retailcrm",
            "channel": "mp",
            "token": retailcrm.api_key,
            "client_id": "shop",
            "base_url": retailcrm.url,
            "warehouses": {"main": "MSK"},
        },
    )
    assert made.status_code == 201, made.text


def test_a_back_fill_is_started_over_http_told_by_the_worker_and_followed(
    api: httpx.Client, live: LiveServer, retailcrm: RetailCrmSimulator
) -> None:
    build_world_api(api, {("MSK", "KET"): 10})
    ids = []
    for n in range(3):
        placed = api.post("/api/v1/orders", json=order_body([("KET", 1)], external_id=f"W-{n}"))
        assert placed.status_code == 201, placed.text
        ids.append(placed.json()["id"])
    connect(api, retailcrm)
    problem(api.get("/api/v1/marketplaces/crm/crm-backfill"), 404, "crm-backfill-not-found")

    started = api.post(
        "/api/v1/marketplaces/crm/crm-backfills", headers={"Idempotency-Key": "fill-1"}
    )
    again = api.post(
        "/api/v1/marketplaces/crm/crm-backfills", headers={"Idempotency-Key": "fill-1"}
    )
    with new_client() as client:
        Dispatcher(live.potok, client, name="crm-tests").run_round()
    followed = api.get("/api/v1/marketplaces/crm/crm-backfill")

    assert started.status_code == 202, started.text
    assert (started.json()["state"], started.json()["total"], started.json()["sent"]) == (
        "running",
        3,
        0,
    )
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert followed.status_code == 200, followed.text
    body = followed.json()
    assert (body["state"], body["done_percent"], body["sent"], body["created"]) == (
        "done",
        100,
        3,
        3,
    )
    assert body["customers"] == 1  # the three orders are one customer's
    assert sorted(o["externalId"] for o in retailcrm.orders.values()) == sorted(map(str, ids))


def test_back_fill_mistakes_are_problems(api: httpx.Client, retailcrm: RetailCrmSimulator) -> None:
    build_world_api(api)
    problem(
        api.post("/api/v1/marketplaces/nope/crm-backfills"), 404, "marketplace-connection-not-found"
    )
    made = api.post(
        "/api/v1/marketplaces",
        json={
            "code": "wb",
            "marketplace": "wildberries",
            "channel": "mp",
            "token": "t",
            "base_url": retailcrm.url,
        },
    )
    assert made.status_code == 201, made.text
    problem(api.post("/api/v1/marketplaces/wb/crm-backfills"), 422, "connection-not-a-crm")
    problem(
        api.post("/api/v1/marketplaces/wb/crm-backfills", json={"restart": "yes"}),
        422,
        "invalid-input",
    )


@pytest.fixture
def _leave_the_environment_as_found() -> Iterator[None]:
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def potok_cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["--db", url, *args], env={"COLUMNS": "200", "USER": "integrator"}
    )


@pytest.mark.usefixtures("_leave_the_environment_as_found")
def test_the_cli_runs_a_back_fill_with_its_progress_and_status(
    potok: Potok, database_url: str, retailcrm: RetailCrmSimulator
) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    for n in range(2):
        intake.place_order(potok.uow(), order_command([("KET", 1)], external_id=f"W-{n}"), TESTER)
    connect_marketplace(
        potok.uow(),
        ConnectionDraft(
            code="crm",
            marketplace=Marketplace.RETAILCRM,
            channel="mp",
            credentials=Credentials(retailcrm.api_key, "shop"),
            base_url=retailcrm.url,
        ),
        TESTER,
    )

    ran = potok_cli(database_url, "marketplaces", "backfill", "crm", "--output", "json")
    status = potok_cli(database_url, "marketplaces", "backfill-status", "crm", "-o", "json")
    wrong = potok_cli(database_url, "marketplaces", "backfill-status", "nope")

    assert ran.exit_code == 0, ran.output
    [row] = json.loads(ran.stdout)
    assert (row["state"], row["sent"], row["created"], row["done_percent"]) == ("done", 2, 2, 100)
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)[0]["state"] == "done"
    assert wrong.exit_code != 0
    assert "nope" in wrong.output
    assert len(retailcrm.orders) == 2
