"""``potok categories`` on SQLite and PostgreSQL: a tree built, moved and listed, products
put into a category, and plain refusals."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.services import catalogue
from tests.factories import build_world


def test_the_command_line_builds_the_tree_and_puts_products_in_it(
    potok: Potok, database_url: str
) -> None:
    build_world(potok)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        done = runner.invoke(
            app, ["--db", database_url, "categories", *args], env={"USER": "ops", "COLUMNS": "200"}
        )
        return done.exit_code, done.output

    assert run("list") == (0, "No categories yet.\n")
    assert run("add", "home", "Дом")[0] == 0
    assert run("add", "appliances", "Техника")[0] == 0
    code, out = run("add", "kettles", "Чайники", "--parent", "home")
    assert (code, out) == (0, "kettles: home > kettles\n")
    code, out = run("change", "kettles", "--parent", "appliances", "--name", "Электрочайники")
    assert (code, out) == (0, "kettles: Электрочайники (appliances > kettles)\n")
    code, out = run("list", "--output", "json")
    assert code == 0, out
    assert [(r["code"], r["name"], r["parent"], r["path"]) for r in json.loads(out)] == [
        ("appliances", "Техника", "", "appliances"),
        ("kettles", "Электрочайники", "appliances", "appliances > kettles"),
        ("home", "Дом", "", "home"),
    ]

    assert run("assign", "kettles", "KET", "MUG") == (0, "2 of 2 products changed\n")
    assert run("assign", "kettles", "KET") == (0, "0 of 1 products changed\n")
    assert catalogue.get_product(potok.uow(), "MUG").category == "kettles"
    code, out = run("assign", "nope", "KET")
    assert code != 0
    assert "There is no category with code 'nope'" in out
    code, out = run("assign", "home", "KET", "NOPE")
    assert code != 0
    assert "NOPE" in out
    assert catalogue.get_product(potok.uow(), "KET").category == "kettles"  # all or none
    code, out = run("delete", "appliances")
    assert code != 0
    assert "has categories below it" in out
    assert run("assign", "-", "MUG")[0] == 0
    assert catalogue.get_product(potok.uow(), "MUG").category is None
    code, out = run("change", "home", "--parent", "-")
    assert code == 0, out
    assert run("delete", "home") == (0, "home: deleted\n")
