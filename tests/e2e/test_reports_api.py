"""Reports over HTTP and the command line: today's orders of two channels, the figures
for everybody and for a key bound to one channel, the same figures as CSV and XLSX, the
CLI's table and JSON, and a ten-year daily report refused with a problem saying why."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import httpx
from openpyxl import load_workbook
from typer.testing import CliRunner

from potok.cli.main import app
from potok.services import reports
from tests.conftest import LiveServer, key_for
from tests.factories import build_world, order_body


def _orders(live: LiveServer, api: httpx.Client) -> None:
    build_world(live.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10})
    for channel, lines in (
        ("web", [("KET", 1)]),  # 2490.00
        ("web", [("KET", 1), ("MUG", 2)]),  # 3270.00
        ("mp", [("MUG", 1)]),  # 390.00
    ):
        answer = api.post("/api/v1/orders", json=order_body(lines, channel=channel))
        assert answer.status_code == 201, answer.text
    reports.rebuild_order_facts(live.potok.uow())


def test_kpis_for_everybody_for_a_bound_key_and_as_files(
    live: LiveServer, api: httpx.Client
) -> None:
    _orders(live, api)
    today = datetime.now(UTC).date().isoformat()
    whole = api.get("/api/v1/reports/orders", params={"since": today, "until": today})
    assert whole.status_code == 200, whole.text
    (row,) = whole.json()["rows"]
    assert (row["orders"], row["revenue"], row["average_order"]) == (3, "6150.00", "2050.00")
    by_channel = api.get(
        "/api/v1/reports/orders", params={"since": today, "until": today, "by": "channel"}
    ).json()["rows"]
    assert [(r["key"], r["orders"], r["revenue"]) for r in by_channel] == [
        ("mp", 1, "390.00"),
        ("web", 2, "5760.00"),
    ]

    shop = live.client(
        headers={"Authorization": f"Bearer {key_for(live.potok, channel='web', name='shop')}"}
    )
    mine = shop.get(
        "/api/v1/reports/orders",
        params={"since": today, "until": today, "by": "channel", "channel": "mp"},
    ).json()["rows"]
    assert mine == []  # another channel's figures are not there for a bound key
    mine = shop.get(
        "/api/v1/reports/orders", params={"since": today, "until": today, "by": "channel"}
    ).json()["rows"]
    assert [(r["key"], r["orders"]) for r in mine] == [("web", 2)]
    shop.close()

    as_csv = api.get(
        "/api/v1/reports/orders/file", params={"since": today, "until": today, "by": "channel"}
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["key"], r["orders"], r["revenue"]) for r in rows] == [
        ("mp", "1", "390.00"),
        ("web", "2", "5760.00"),
    ]
    as_xlsx = api.get(
        "/api/v1/reports/orders/file",
        params={"since": today, "until": today, "format": "xlsx"},
    )
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    header, first = list(sheet.iter_rows(max_row=2, values_only=True))
    assert dict(zip(header, first, strict=True))["orders"] == 3


def test_an_empty_period_is_empty_and_ten_years_by_day_is_refused(
    live: LiveServer, api: httpx.Client
) -> None:
    empty = api.get("/api/v1/reports/orders", params={"since": "2020-01-01", "until": "2020-01-03"})
    assert empty.status_code == 200
    assert [(r["period"], r["orders"], r["revenue"]) for r in empty.json()["rows"]] == [
        ("2020-01-01", 0, "0.00"),
        ("2020-01-02", 0, "0.00"),
        ("2020-01-03", 0, "0.00"),
    ]
    refused = api.get(
        "/api/v1/reports/orders", params={"since": "2010-01-01", "until": "2026-01-01"}
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("report-period-too-long")
    reversed_ = api.get(
        "/api/v1/reports/reasons", params={"since": "2026-01-02", "until": "2026-01-01"}
    )
    assert reversed_.status_code == 422
    assert reversed_.json()["type"].endswith("report-period-reversed")


def test_the_cli_prints_the_same_figures(live: LiveServer, api: httpx.Client) -> None:
    _orders(live, api)
    runner = CliRunner()
    env = {"POTOK_DB__URL": live.potok.settings.db.url}
    today = datetime.now(UTC).date().isoformat()
    table = runner.invoke(
        app, ["reports", "orders", "--since", today, "--until", today, "--by", "channel"], env=env
    )
    assert table.exit_code == 0, table.output
    assert "web" in table.output
    assert "5760.00" in table.output
    as_json = runner.invoke(
        app,
        ["reports", "orders", "--since", today, "--until", today, "--output", "json"],
        env=env,
    )
    (row,) = json.loads(as_json.output)
    assert (row["orders"], row["revenue"]) == (3, "6150.00")
    refused = runner.invoke(
        app, ["reports", "orders", "--since", "2010-01-01", "--until", "2026-01-01"], env=env
    )
    assert refused.exit_code != 0
    assert "too long" in refused.output
    rebuilt = runner.invoke(app, ["reports", "rebuild"], env=env)
    assert rebuilt.exit_code == 0
    assert "3 orders" in rebuilt.output


def test_a_day_written_as_a_number_is_refused_not_read_as_a_unix_timestamp(
    api: httpx.Client,
) -> None:
    for path in ("orders", "reasons", "employees"):
        refused = api.get(f"/api/v1/reports/{path}", params={"until": "0"})
        assert refused.status_code == 422, path
        assert "ISO 8601" in refused.text, path
