"""``potok categories``: the product category tree - list it, add, rename or move a
category, delete one, put products into one."""

from __future__ import annotations

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_uow,
    console,
    handles_errors,
    open_potok,
    print_listing,
)

app = typer.Typer(
    help="Product categories: list the tree, add, change, delete, put products in one.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("code"),
    Column("name"),
    Column("parent"),
    Column("path"),
]


@app.command("list")
@handles_errors
def list_categories(
    under: str | None = typer.Option(None, help="Only this category's branch."),
    output: Output = OUTPUT,
) -> None:
    """The tree, each parent before its children, names indented by level."""
    from potok.services import categories

    potok = open_potok()
    try:
        found = categories.list_categories(cli_uow(potok), under=under)
    finally:
        potok.close()
    rows = [
        {
            "code": c.code,
            "name": ("  " * (c.depth - 1) + c.name) if output is Output.TABLE else c.name,
            "parent": c.parent or "",
            "path": " > ".join(c.path),
        }
        for c in found
    ]
    print_listing(rows, COLUMNS, output, empty="No categories yet.")


@app.command("add")
@handles_errors
def add_category(
    code: str = typer.Argument(..., help="Never changes once given (rules and reports name it)."),
    name: str = typer.Argument(...),
    parent: str | None = typer.Option(None, help="The code of the category above it."),
) -> None:
    """Add a top-level category, or one under ``--parent``."""
    from potok.domain.catalogue import CategoryDraft
    from potok.services import categories

    potok = open_potok()
    try:
        made = categories.create_category(cli_uow(potok), CategoryDraft(code, name, parent))
    finally:
        potok.close()
    console.print(f"{made.code}: {' > '.join(made.path)}", highlight=False)


@app.command("change")
@handles_errors
def change_category(
    code: str = typer.Argument(...),
    name: str | None = typer.Option(None, help="A new name."),
    parent: str | None = typer.Option(
        None, help="Move it (with its branch) under this category; '-' makes it top-level."
    ),
) -> None:
    """Rename a category or move it with everything below it."""
    from potok.domain.catalogue import CategoryDraft
    from potok.services import categories

    potok = open_potok()
    try:
        uow = cli_uow(potok)
        current = categories.get_category(uow, code)
        moved_to = current.parent if parent is None else (None if parent == "-" else parent)
        draft = CategoryDraft(code, current.name if name is None else name, moved_to)
        made = categories.replace_category(uow, code, draft)
    finally:
        potok.close()
    console.print(f"{made.code}: {made.name} ({' > '.join(made.path)})", highlight=False)


@app.command("delete")
@handles_errors
def delete_category(code: str = typer.Argument(...)) -> None:
    """Delete a category with no products and no categories below it."""
    from potok.services import categories

    potok = open_potok()
    try:
        categories.delete_category(cli_uow(potok), code)
    finally:
        potok.close()
    console.print(f"{code}: deleted", highlight=False)


@app.command("assign")
@handles_errors
def assign_products(
    category: str = typer.Argument(..., help="The category's code; '-' takes them out of any."),
    skus: list[str] = typer.Argument(..., help="The products' SKUs."),
) -> None:
    """Put products into a category (each product is in one category at most)."""
    from potok.services import catalogue

    potok = open_potok()
    try:
        done = catalogue.assign_category(
            cli_uow(potok), None if category == "-" else category, skus
        )
    finally:
        potok.close()
    console.print(f"{done} of {len(set(skus))} products changed", highlight=False)
