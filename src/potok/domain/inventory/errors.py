"""Errors of the inventory area."""

from __future__ import annotations

from collections.abc import Sequence

from potok.domain.errors import Conflict, FieldError, InvalidInput, NotFound, Rejected


class StockPositionNotFound(NotFound):
    code = "stock-not-found"
    title = "No stock is kept for this SKU here"
    template = "Warehouse '{warehouse}' keeps no stock of '{sku}'."


class WriteOffExceedsStock(Rejected):
    code = "write-off-exceeds-stock"
    title = "Cannot write off more than is on hand"
    template = "Writing off {quantity} of '{sku}' at '{warehouse}', but only {on_hand} are on hand."


class CountMismatch(Conflict):
    """The caller's expected quantity is not the one recorded: someone changed it meanwhile."""

    code = "count-mismatch"
    title = "The stock changed since you read it"
    template = (
        "You expected {expected} of '{sku}' at '{warehouse}' on hand, but Potok has {actual}; "
        "re-read the level and send the count again."
    )


class BulkRejected(InvalidInput):
    """Some rows of a batch are wrong: none of the batch is applied; ``errors`` names each."""

    code = "bulk-rejected"
    title = "Some rows are wrong; nothing was changed"

    def __init__(self, errors: Sequence[FieldError], *, rows: int, bad_rows: int) -> None:
        super().__init__(
            errors,
            detail=f"{bad_rows} of {rows} rows have errors; fix them and send the whole batch "
            "again (nothing was changed).",
        )
        self.context.update(rows=rows, bad_rows=bad_rows)
