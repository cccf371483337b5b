"""The command line's help: every command has it, flags read as flags, limits are stated."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from potok.cli.main import app

runner = CliRunner()


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of ``potok``, as the words that call it."""
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, (*path, name))

    walk(get_command(app), ())
    return found


@pytest.mark.parametrize("path", command_paths(), ids=lambda path: " ".join(path) or "potok")
def test_every_command_has_plain_help_with_flags_as_flags(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})

    assert result.exit_code == 0, result.output
    assert "Usage: potok" in result.stdout
    assert "<bool>" not in result.stdout  # a flag takes no value
    assert "╭" not in result.stdout  # plain help, not rich panels (which ate '[default: …]')
    for line in result.stdout.splitlines():
        if line.strip().startswith("--help"):
            assert line.split() == ["--help", "Show", "this", "message", "and", "exit."]


def test_the_whole_command_tree_is_reachable() -> None:
    """Guards the test above against an empty walk."""
    paths = {" ".join(path) for path in command_paths()}
    assert {"orders list", "stock rules list", "backup create", "keys create"} <= paths
    assert len(paths) > 60


@pytest.mark.parametrize("group", ["keys", "users"])
def test_help_states_the_length_of_a_name_that_the_command_enforces(group: str) -> None:
    help_text = runner.invoke(app, [group, "create", "--help"], env={"COLUMNS": "100"}).stdout

    assert "2-64 lower-case letters" in " ".join(help_text.split())


def test_a_one_letter_key_name_is_refused_with_the_stated_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/potok.db"
    assert runner.invoke(app, ["--db", url, "db", "upgrade"]).exit_code == 0

    result = runner.invoke(app, ["--db", url, "keys", "create", "k", "--scope", "orders:read"])

    assert result.exit_code == 3
    assert "2-64" in result.stderr


def test_key_options_show_their_default_and_their_range() -> None:
    help_text = runner.invoke(app, ["keys", "create", "--help"], env={"COLUMNS": "200"}).stdout
    words = " ".join(help_text.split())

    assert "POTOK_SECURITY__KEY_RATE_LIMIT_PER_MINUTE, 600" in words
    assert "1<=x<=100000" in words
    assert "orders:read" in words  # the scopes a key may carry are listed


def test_the_tariff_and_rule_file_headers_in_help_are_the_ones_the_parsers_expect() -> None:
    from potok.services.rule_files import HEADER as RULES_HEADER
    from potok.services.tariff_files import HEADER as TARIFFS_HEADER

    tariffs = runner.invoke(app, ["sourcing", "tariffs", "import", "--help"]).stdout
    rules = runner.invoke(app, ["stock", "rules", "import", "--help"]).stdout

    assert TARIFFS_HEADER in "".join(tariffs.split())
    assert RULES_HEADER in "".join(rules.split())
