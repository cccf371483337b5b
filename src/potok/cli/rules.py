"""``potok rules``: automation rules - list, add and change from a JSON file, try one on an
order, read their versions and what they did to an order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from potok.cli.common import (
    MAX_ID,
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    handles_errors,
    open_potok,
    print_listing,
)

if TYPE_CHECKING:
    from potok.domain.automation import RuleDraft

app = typer.Typer(
    help="Automation rules: when an order event arrives and a condition holds, act.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("id", right=True),
    Column("position", "pos", right=True),
    Column("name"),
    Column("version", "v", right=True),
    Column("trigger"),
    Column("condition"),
    Column("actions"),
    Column("stop"),
    Column("active"),
    Column("disabled_reason", "switched off because"),
]

FILE = typer.Option(
    ...,
    "--file",
    exists=True,
    dir_okay=False,
    readable=True,
    help="The rule as JSON: name, trigger, condition, actions, and optionally stop, "
    "active, position, every_minutes (a schedule rule; as the API takes it).",
)
MAX_FILE = 100_000


def _draft(path: Path) -> RuleDraft:
    from potok.domain.automation import RuleDraft
    from potok.domain.errors import FieldError, InvalidInput

    def refuse(message: str) -> InvalidInput:
        return InvalidInput([FieldError(str(path), message, "bad-file")])

    if path.stat().st_size > MAX_FILE:
        raise refuse(f"a rule file is at most {MAX_FILE} bytes")
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise refuse(f"not JSON: {error}") from None
    if not isinstance(raw, dict):
        raise refuse("write the rule as one JSON object")
    unknown = sorted(
        set(raw)
        - {"name", "trigger", "condition", "actions", "stop", "active", "position", "every_minutes"}
    )
    if unknown:
        raise refuse(f"unknown keys: {', '.join(unknown)}")
    texts = {k: raw.get(k) for k in ("name", "trigger", "condition")}
    if not all(isinstance(v, str) for v in texts.values()):
        raise refuse("name, trigger and condition are text")
    actions = raw.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        raise refuse('actions is a list of objects, e.g. [{"do": "add_tag", "tag": "vip"}]')
    stop, active, position = raw.get("stop", False), raw.get("active", True), raw.get("position")
    if not isinstance(stop, bool) or not isinstance(active, bool):
        raise refuse("stop and active are true or false")
    every = raw.get("every_minutes")
    for key, value in (("position", position), ("every_minutes", every)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise refuse(f"{key} is a whole number")
    return RuleDraft(
        name=str(texts["name"]),
        trigger=str(texts["trigger"]),
        condition=str(texts["condition"]),
        actions=actions,
        stop=stop,
        active=active,
        position=position,
        every_minutes=every,
    )


def _actions(actions: list[dict[str, Any]]) -> str:
    return "; ".join(" ".join(str(v) for v in a.values()) for a in actions)


@app.command("list")
@handles_errors
def list_rules(output: Output = OUTPUT) -> None:
    """Every rule, in the order they run."""
    from potok.services.automation import rules

    potok = open_potok()
    try:
        found = rules.list_rules(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "id": r.id,
            "position": r.position,
            "name": r.name,
            "version": r.version,
            "trigger": r.trigger,
            "condition": r.condition.text,
            "actions": _actions([a.summary() for a in r.actions]),
            "stop": r.stop,
            "active": r.active,
            "disabled_reason": r.disabled_reason,
        }
        for r in found
    ]
    print_listing(rows, COLUMNS, output, empty="no rules yet")


@app.command("add")
@handles_errors
def add_rule(path: Path = FILE) -> None:
    """Write a rule from a JSON file (checked whole; mistakes are named with their place)."""
    from potok.services.automation import rules

    draft = _draft(path)
    potok = open_potok()
    try:
        rule = rules.add_rule(cli_uow(potok), draft, cli_actor())
    finally:
        potok.close()
    console.print(f"rule {rule.id} '{rule.name}' v{rule.version} at position {rule.position}")


@app.command("change")
@handles_errors
def change_rule(
    rule_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The rule's number."),
    path: Path = FILE,
) -> None:
    """Change a rule from a JSON file: a new version (switch it off with "active": false)."""
    from potok.services.automation import rules

    draft = _draft(path)
    potok = open_potok()
    try:
        rule = rules.change_rule(cli_uow(potok), rule_id, draft, cli_actor())
    finally:
        potok.close()
    state = "on" if rule.active else "off"
    console.print(f"rule {rule.id} '{rule.name}' is now v{rule.version} ({state})")


@app.command("versions")
@handles_errors
def versions(
    rule_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The rule's number."),
    output: Output = OUTPUT,
) -> None:
    """Every version of a rule, newest first."""
    from potok.services.automation import rules

    potok = open_potok()
    try:
        found = rules.rule_versions(cli_uow(potok), rule_id)
    finally:
        potok.close()
    rows = [
        {
            "version": v.version,
            "saved_at": v.saved_at,
            "saved_by": v.saved_by,
            "condition": v.body.get("condition"),
            "actions": _actions(v.body.get("actions", [])),
            "active": v.body.get("active"),
        }
        for v in found
    ]
    columns = [
        Column("version", "v", right=True),
        Column("saved_at", "saved"),
        Column("saved_by", "by"),
        Column("condition"),
        Column("actions"),
        Column("active"),
    ]
    print_listing(rows, columns, output)


@app.command("try")
@handles_errors
def try_rule(
    path: Path = FILE,
    order_id: int = typer.Option(
        ..., "--order", min=1, max=MAX_ID, metavar="ID", help="The order to try it on."
    ),
) -> None:
    """What a rule would do to an order now, changing nothing."""
    from potok.services.automation import rules

    draft = _draft(path)
    potok = open_potok()
    try:
        trial = rules.try_rule(cli_uow(potok), draft, order_id)
    finally:
        potok.close()
    if not trial.matches:
        console.print(f"order {order_id}: the condition does not hold; nothing would be done")
        return
    console.print(f"order {order_id}: the condition holds")
    for done in trial.actions:
        why = f" ({done.why})" if done.why else ""
        console.print(f"  {done.action.do.value}: {done.outcome}{why}")


@app.command("dry-run")
@handles_errors
def dry_run(
    path: Path = FILE,
    last: int | None = typer.Option(
        None, "--last", min=1, max=1000, metavar="N", help="The last N orders taken."
    ),
    days: int | None = typer.Option(
        None, "--days", min=1, max=366, metavar="N", help="The orders of the last N days."
    ),
    output: Output = OUTPUT,
) -> None:
    """What a draft rule would have done to the last N orders (or days), changing nothing."""
    from datetime import timedelta

    from potok.domain.kernel import utc_now
    from potok.services.automation import rules

    draft = _draft(path)
    since = utc_now() - timedelta(days=days) if days is not None else None
    potok = open_potok()
    try:
        found = rules.dry_run(cli_uow(potok), draft, last=last, since=since)
    finally:
        potok.close()
    rows = [
        {
            "order_id": t.order_id,
            "actions": "; ".join(
                f"{d.action.do.value} {d.outcome}" + (f" ({d.why})" if d.why else "")
                for d in t.actions
            ),
        }
        for t in found.matched
    ]
    columns = [Column("order_id", "order", right=True), Column("actions", "would do")]
    print_listing(
        rows,
        columns,
        output,
        title=f"{len(found.matched)} of {found.looked_at} orders matched",
        empty=f"none of {found.looked_at} orders matched",
    )


@app.command("firings")
@handles_errors
def firings(
    order_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The order's number."),
    output: Output = OUTPUT,
) -> None:
    """What rules did to an order, oldest first."""
    from potok.services.automation import rules

    potok = open_potok()
    try:
        found = rules.order_firings(cli_uow(potok), order_id)
    finally:
        potok.close()
    rows = [
        {
            "fired_at": f.fired_at,
            "rule_id": f.rule_id,
            "rule_version": f.rule_version,
            "outcome": f.outcome,
            "actions": _actions(list(f.actions)),
        }
        for f in found
    ]
    columns = [
        Column("fired_at", "fired"),
        Column("rule_id", "rule", right=True),
        Column("rule_version", "v", right=True),
        Column("outcome"),
        Column("actions"),
    ]
    print_listing(rows, columns, output, empty=f"no rule fired on order {order_id}")
