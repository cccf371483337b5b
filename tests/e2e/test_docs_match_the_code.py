"""The README and the guides name only commands, options and API paths that exist.

Every ``potok ...`` written in their code (blocks and inline spans) must resolve to a
command whose ``--help`` works, and each ``--option`` written after it must be one of that
command's (or ``potok``'s own). Every ``/api/v1/...`` path must be in the OpenAPI document,
with the method written before it when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from potok.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    "README.md",
    "docs/operators.md",
    "docs/integrators.md",
    "docs/architecture.md",
    "docs/payments.md",
]
runner = CliRunner()

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")
COMMAND = re.compile(r"(?<![\w.-])potok(?![\w.-])((?:[ \t]+[^\s|&;#<>()`]+)*)")
CRON_USER = re.compile(r"(?<![\w.-])potok[ \t]{2,}")
PATH = re.compile(r"(?:\b([A-Z]{3,6}(?:/[A-Z]{3,6})*)\s+)?(/api/v1/[^\s`'\"),;|*]*)")
GLOBAL_OPTIONS = {"--db": True, "--version": False, "--help": False}  # name: takes a value
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
SERVED_BESIDE = {"/api/v1/openapi.json"}  # served by the framework, not an operation


@dataclass(frozen=True)
class Mention:
    document: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: {self.text}"


def code_of(document: str) -> Iterator[tuple[int, str]]:
    """Each line of code in a markdown file: fenced blocks whole, inline spans alone."""
    text = (ROOT / document).read_text(encoding="utf-8")
    fenced: list[tuple[int, int]] = []
    for block in FENCE.finditer(text):
        fenced.append(block.span())
        first = text.count("\n", 0, block.start(1)) + 1
        for offset, line in enumerate(block.group(1).splitlines()):
            yield first + offset, line
    for span in INLINE.finditer(text):
        if not any(start <= span.start() < end for start, end in fenced):
            yield text.count("\n", 0, span.start()) + 1, span.group(1)


def command_mentions() -> list[Mention]:
    found = []
    for document in DOCUMENTS:
        for number, line in code_of(document):
            line = CRON_USER.sub("", line)  # '30 2 * * *  potok  potok backup ...'
            for match in COMMAND.finditer(line):
                found.append(Mention(document, number, "potok" + match.group(1)))
    return found


def path_mentions() -> list[tuple[Mention, str | None, str]]:
    found = []
    for document in DOCUMENTS:
        text = (ROOT / document).read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in PATH.finditer(line):
                methods, path = match.group(1), match.group(2)
                found.append((Mention(document, number, match.group(0)), methods, path))
    return found


def resolve(words: list[str]) -> tuple[tuple[str, ...], Any, list[str]] | None:
    """The command the words call, the click command, and the words after it; None for a
    mention that names no command (``potok [--db URL] COMMAND``)."""
    words = [w.strip("[]") for w in words]
    rest = list(words)
    while rest and rest[0] in GLOBAL_OPTIONS:
        takes_value = GLOBAL_OPTIONS[rest.pop(0)]
        if takes_value and rest:
            rest.pop(0)
    if not rest or rest[0].isupper():
        return None  # `potok [--db URL] COMMAND`
    node: Any = get_command(app)
    path: tuple[str, ...] = ()
    while rest and getattr(node, "commands", None) and rest[0] in node.commands:
        node = node.commands[rest[0]]
        path = (*path, rest.pop(0))
    if not path:
        raise AssertionError(f"'{rest[0]}' is not a potok command")
    if getattr(node, "commands", None) and rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
        raise AssertionError(f"'potok {' '.join(path)}' has no command '{rest[0]}'")
    return path, node, rest


def options_of(node: Any) -> set[str]:
    return {
        name
        for param in node.params
        for name in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ()))
    }


MENTIONS = command_mentions()


def test_the_documents_name_many_commands() -> None:
    """Guards the test below against an extraction that finds nothing."""
    assert len(MENTIONS) > 80
    assert {m.document for m in MENTIONS} >= {"README.md", "docs/operators.md"}


@pytest.mark.parametrize("mention", MENTIONS, ids=str)
def test_every_command_in_the_docs_exists_with_the_options_written(mention: Mention) -> None:
    resolved = resolve(mention.text.split()[1:])
    if resolved is None:
        return
    path, node, rest = resolved
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, f"{mention}\n{result.output}"
    known = options_of(node) | set(GLOBAL_OPTIONS)
    for word in rest:
        option = word.strip("[]").split("=", 1)[0]
        if option.startswith("--"):
            assert option in known, f"{mention}: 'potok {' '.join(path)}' has no {option}"


def test_a_command_that_is_not_there_is_caught() -> None:
    with pytest.raises(AssertionError, match="has no command 'frobnicate'"):
        resolve(["stock", "frobnicate"])
    with pytest.raises(AssertionError, match="is not a potok command"):
        resolve(["teleport", "list"])
    _, node, rest = resolve(["orders", "list", "--colour", "red"]) or ((), None, [])
    assert "--colour" in rest
    assert "--colour" not in options_of(node)


def normalised(path: str) -> str:
    path = path.split("?", 1)[0].rstrip(".")
    path = re.sub(r"/\.\.\.$", "", path)
    path = re.sub(r"/\d+(?=/|$)", "/{}", path)  # /api/v1/orders/49
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_api_path_in_the_docs_is_in_the_openapi_document(api: httpx.Client) -> None:
    document = api.get("/api/v1/openapi.json").json()
    operations = {
        normalised(path): {method.upper() for method in item} & METHODS
        for path, item in document["paths"].items()
    }
    mentions = path_mentions()
    assert len(mentions) > 100  # the extraction works
    problems = []
    for mention, methods, path in mentions:
        key = normalised(path)
        if path in SERVED_BESIDE:
            continue
        if key not in operations:
            problems.append(f"{mention}: no such path")
        elif methods and set(methods.split("/")) <= METHODS:
            missing = set(methods.split("/")) - operations[key]
            if missing:
                problems.append(f"{mention}: {', '.join(sorted(missing))} not allowed")
    assert problems == []
