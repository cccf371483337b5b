"""Answers of the file import and export endpoints."""

from __future__ import annotations

from pydantic import Field

from potok.api.schemas.common import Out


class ImportSummaryOut(Out):
    kind: str = Field(examples=["stock-levels"])
    rows: int = Field(description="Rows read, the header not counted.")
    changed: int = Field(description="Rows that changed something (created ones included).")
    created: int = Field(description="Rows that created a product or a stock position.")
    unchanged: int = Field(description="Rows that were right already (a re-import).")


class OrderOutcomeOut(Out):
    row: int = Field(description="The order's first row in the file (the header is row 1).")
    channel: str
    external_id: str | None
    outcome: str = Field(
        description="`taken` (new, taken now), `changed` (Potok has it: its lines changed "
        "as the file says), `existing` (Potok has it as the file says: nothing changed), "
        "`refused` (intake or the edit refused it: see `problem`), `would_take` and "
        "`would_change` (a dry run)",
        examples=["taken"],
    )
    order_id: int | None
    status: str | None = Field(description="The order's status after the import.")
    problem: str = Field(description="Why it was refused; empty otherwise.")


class OrderImportOut(Out):
    kind: str = Field(examples=["orders"])
    dry_run: bool
    rows: int = Field(description="Rows read, the header not counted.")
    orders: int = Field(description="Orders the file lists.")
    taken: int = Field(description="New orders taken (none in a dry run).")
    changed: int = Field(description="Orders Potok has whose lines the file changed.")
    existing: int = Field(description="Orders Potok has as the file says: nothing changed.")
    refused: int = Field(description="Orders intake refused (see their `problem`).")
    would_take: int = Field(description="In a dry run: the orders an import would take.")
    would_change: int = Field(description="In a dry run: the orders an import would edit.")
    outcomes: list[OrderOutcomeOut] = Field(
        description="Each order, by its first row; at most the first 1,000 (ask for the "
        "report file with `Accept: text/csv` or the XLSX media type to have them all)."
    )
