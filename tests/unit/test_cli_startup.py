"""The command line starts fast because nothing heavy is imported before a command runs.

A timed assertion would flake on a busy machine; what makes ``potok --help`` take two
seconds instead of a fraction of one is importing SQLAlchemy, pydantic, FastAPI, the
solver and the services at start-up, and that is checked here in a fresh interpreter.
``benchmarks/cli_startup.py`` prints the times themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "pydantic_settings",  # pydantic itself may load: recent Typer checks parameters with it
    "highspy",
    "numpy",
    "argon2",
    "cryptography",
    "httpx",
    "potok.api",
    "potok.backup",
    "potok.bootstrap",
    "potok.db",
    "potok.sandbox",
    "potok.security",
    "potok.settings",
    "potok.worker",
)

PROBE = """
import json, sys
from potok.cli.main import app
try:
    app(sys.argv[1:], prog_name="potok")
except SystemExit as done:
    code = done.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def heavy_modules_after(*args: str) -> list[str]:
    done = subprocess.run(  # noqa: S603 - this interpreter and fixed words
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done
    return [
        module
        for module in report["modules"]
        if any(module == name or module.startswith(name + ".") for name in HEAVY)
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("orders", "list", "--help"),
        ("stock", "--help"),
        ("stock", "replenishment", "--help"),
        ("sourcing", "replan", "--help"),
        ("backup", "create", "--help"),
        ("serve", "--help"),
        ("demo", "--help"),
    ],
    ids=" ".join,
)
def test_help_and_version_import_no_framework_database_or_solver(args: tuple[str, ...]) -> None:
    assert heavy_modules_after(*args) == []


def test_importing_the_command_line_alone_imports_nothing_heavy() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, potok.cli.main; print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = json.loads(done.stdout)
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]

    assert heavy == []
    assert "potok.cli.orders" in loaded  # the probe did load the commands
