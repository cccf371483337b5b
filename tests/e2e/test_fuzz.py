"""Schemathesis against a real server on each database, with all its phases (the document's
examples, its coverage of every constraint's edges, random fuzzing, and stateful runs that
follow what one operation returns into the next) and all its checks: no server error, no
request outside the document accepted, no request inside it refused by the request models
(see fuzz_checks.py), every status and header as documented, ``Allow`` right on 405.

The caller holds every business scope of an API key (admin-only routes then answer 403,
which the document declares). Each run draws a new seed and prints it; replay a failure
with ``POTOK_FUZZ_SEED=<seed>``. The run is bounded by cases, not by time, so that a slow or
loaded machine runs the same test as a fast one: the coverage phase runs to its end, and the
examples and fuzzing phases take ``POTOK_FUZZ_EXAMPLES`` cases per operation (default 5);
``POTOK_FUZZ_PHASES`` picks phases for a local replay.

On PostgreSQL every case is generated: valid requests, and invalid ones that must be refused.
On SQLite only the valid ones (``--mode positive``, all four phases): an invalid request is
refused by the request models before any query, by the same code on either database, so
PostgreSQL's run proves that. What SQLite adds is how it stores, finds and answers with
what a valid request carries, at the edges of the document's constraints too: its valid cases
in every phase still reach that. It makes the SQLite run about 7,700 cases instead of
19,300 (one seed), less than half its CPU.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from potok.bootstrap import bootstrap
from potok.db import migrate
from tests.conftest import LiveServer, _settings, empty_all_tables, key_for, start_server
from tests.factories import build_world

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SEED = int(os.environ.get("POTOK_FUZZ_SEED") or random.SystemRandom().randrange(2**31))
EXAMPLES = int(os.environ.get("POTOK_FUZZ_EXAMPLES", "5"))
PHASES = os.environ.get("POTOK_FUZZ_PHASES", "examples,coverage,fuzzing,stateful")


def _serve(url: str) -> tuple[LiveServer, str]:
    potok = bootstrap(_settings(url, pool_size=10))
    migrate.upgrade(potok.engine)
    empty_all_tables(potok)
    build_world(potok, {("MSK", "KET"): 50, ("SPB", "MUG"): 50})
    live = start_server(potok)
    # the document is built on its first request; on a loaded machine that outlasted
    # schemathesis's 10-second read timeout, so it is asked for once before the run
    assert httpx.get(f"{live.url}/api/v1/openapi.json", timeout=300).status_code == 200
    return live, key_for(potok, name="fuzz")


@pytest.fixture
def fuzz_target(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[LiveServer, str]]:
    if backend == "postgresql":
        url: str = request.getfixturevalue("migrated_postgres")
    else:
        url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    live, secret = _serve(url)
    yield live, secret
    live.stop()
    live.potok.close()


def schemathesis_command(url: str, secret: str, report: Path, mode: str = "all") -> list[str]:
    return [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {secret}",
        "--checks",
        "all",
        "--phases",
        PHASES,
        "--mode",
        mode,
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--request-timeout",
        "40",  # above the change feed's longest wait (30 s)
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]


@pytest.mark.slow
# the two databases' runs go one after the other on one worker rather than halving each
# other's CPU
@pytest.mark.xdist_group("fuzz")
def test_schemathesis_finds_nothing_wrong(
    fuzz_target: tuple[LiveServer, str], backend: str, tmp_path: Path
) -> None:
    live, secret = fuzz_target
    report = tmp_path / "schemathesis.xml"
    print(f"\nSchemathesis seed {SEED} (replay: POTOK_FUZZ_SEED={SEED})")
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_checks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }

    finished = subprocess.run(  # noqa: S603 - our own virtualenv's schemathesis, no shell
        schemathesis_command(
            live.url, secret, report, mode="all" if backend == "postgresql" else "positive"
        ),
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,  # its cache and reports stay out of the working tree
        timeout=1800,
        check=False,
    )

    output = finished.stdout + finished.stderr
    summary = output[output.find("== SUMMARY") :] if "== SUMMARY" in output else output[-3000:]
    assert finished.returncode == 0, f"seed {SEED}:\n{output[-20000:]}"
    selected = re.search(r"Operations:\s+(\d+) selected / (\d+) total", output)
    tested = re.search(r"Tested: (\d+)", summary)
    cases = re.search(r"(\d+) generated", summary)
    assert selected is not None, output[-3000:]
    assert tested is not None, summary
    assert cases is not None, summary
    assert int(selected.group(1)) == int(selected.group(2)) >= 200, summary
    assert int(tested.group(1)) == int(selected.group(2)), summary  # every operation reached
    assert int(cases.group(1)) >= 5000, summary
    assert report.exists()
