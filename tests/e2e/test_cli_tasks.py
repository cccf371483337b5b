"""``potok tasks`` with skills: operators given skills, a queue asking one, tasks given to
who has them (or left waiting when nobody has), the operators listed; a bad skill is a
plain error and a non-zero exit. SQLite and PostgreSQL."""

from __future__ import annotations

from potok.bootstrap import Potok
from potok.domain.access import Role
from tests.auth import make_user
from tests.e2e.test_cli import potok_cli, table_rows


def test_skills_set_from_the_command_line_decide_who_gets_a_task(
    potok: Potok, database_url: str
) -> None:
    make_user(potok, "anna", Role.OPERATOR)
    make_user(potok, "boris", Role.OPERATOR)
    skilled = potok_cli(database_url, "tasks", "skills", "anna", "fraud,en")
    assert skilled.exit_code == 0, skilled.output
    assert "anna: en, fraud" in skilled.stdout
    assert potok_cli(database_url, "tasks", "skills", "boris", "fraud").exit_code == 0

    made = potok_cli(
        database_url,
        "tasks",
        "queue",
        "fraud",
        "--name",
        "Fraud review",
        "--policy",
        "least_loaded",
        "--members",
        "boris,anna",
        "--skills",
        "fraud",
        "--by-channel",
    )
    assert made.exit_code == 0, made.output
    assert "needs fraud, by channel" in made.stdout

    english = potok_cli(
        database_url, "tasks", "add", "--queue", "fraud", "--title", "call", "--skills", "en"
    )
    assert english.exit_code == 0, english.output
    assert "for anna" in english.stdout
    chinese = potok_cli(
        database_url, "tasks", "add", "--queue", "fraud", "--title", "call", "--skills", "zh"
    )
    assert "whoever has fraud, zh and claims it (no member has them)" in chinese.stdout

    listed = potok_cli(database_url, "tasks", "operators")
    assert listed.exit_code == 0, listed.output
    assert table_rows(listed.stdout) == [
        ["anna", "en, fraud", "fraud", "1"],
        ["boris", "fraud", "fraud", "0"],
    ]
    tasks = table_rows(potok_cli(database_url, "tasks", "list").stdout)
    assert [row[-1] for row in tasks] == ["en, fraud", "fraud, zh"]

    bad = potok_cli(database_url, "tasks", "skills", "anna", "en,two words")
    assert bad.exit_code != 0
    assert "skills[1]" in bad.output
