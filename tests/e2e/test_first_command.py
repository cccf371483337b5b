"""The README's first command, as `make demo` runs it: `potok demo` in its own process
builds a sandbox, then serves it; the API answers on the sandbox's data with the key the
demo printed, and Ctrl+C stops it cleanly.

A small sandbox (a few orders, no year of history) keeps it cheap; the default demo's
contents are checked in-process by tests/e2e/test_cli.py. What only this test sees is the
path between the two halves: the demo handing over to `potok serve` in the same process
(which once crashed right after "Sandbox ready"), and the server's start and stop.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.conftest import free_port

POTOK = str(Path(sys.executable).parent / "potok")
ORDERS = 5
SERVED_WITHIN_S = 300  # a loaded two-core CI machine; the demo itself takes seconds


def served(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``/api/v1/health`` answers 200; fail at once if the demo ended first."""
    deadline = time.monotonic() + SERVED_WITHIN_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the demo ended (exit {process.returncode}) before it served:\n"
                + log.read_text(errors="replace")
            )
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the demo did not serve in time:\n" + log.read_text(errors="replace"))


def test_the_demo_builds_a_sandbox_serves_it_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.out"
    # a fresh machine's environment: none of the tests' POTOK_ settings (data keys...), so
    # the demo makes its own key file in its working directory as `make demo` does
    env = {name: value for name, value in os.environ.items() if not name.startswith("POTOK_")}
    env["COLUMNS"] = "200"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [
                POTOK,
                "--db",
                f"sqlite:///{tmp_path / 'potok-demo.db'}",
                "demo",
                "--orders",
                str(ORDERS),
                "--history-days",
                "0",
                "--port",
                str(port),
            ],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        served(url, process, log)
        printed = log.read_text()
        key = re.search(r"API key 'sandbox' \(every business scope\): (\S+)", printed)
        assert key is not None, printed
        statuses = Counter(
            {
                row[0]: int(row[1])
                for row in (
                    [cell.strip() for cell in line.strip("│ ").split("│")]
                    for line in printed.partition("Sandbox ready")[2]
                    .partition("shipment status")[0]
                    .splitlines()
                    if line.startswith("│")
                )
            }
        )

        listed = httpx.get(
            f"{url}/api/v1/orders",
            params={"limit": 50},
            headers={"Authorization": f"Bearer {key[1]}"},
            timeout=30,
        )

        assert listed.status_code == 200, listed.text
        orders = listed.json()["items"]
        assert 0 < len(orders) <= ORDERS + 1  # an exchange may add its replacement
        assert Counter(order["status"] for order in orders) == statuses
        assert all(order["personal_data"] == "available" for order in orders)
        assert (tmp_path / "potok-keys.json").exists()  # what sealed the customers' data
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl+C, as a person stops it
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = log.read_text(errors="replace")
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    assert "Finished server process" in output, output
