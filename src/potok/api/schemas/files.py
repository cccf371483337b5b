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
