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


# ---------------------------------------------------------------------- buckets, bins, counts


class SetAsideExceedsStock(Rejected):
    code = "set-aside-exceeds-stock"
    title = "Cannot set aside more than is on hand and sellable or reserved"
    template = (
        "Setting {quantity} of '{sku}' at '{warehouse}' aside, but only {movable} are on hand "
        "outside the unavailable bucket."
    )


class UnavailableExceeded(Rejected):
    code = "unavailable-exceeded"
    title = "Cannot move more than the unavailable bucket holds"
    template = (
        "Moving {quantity} of '{sku}' at '{warehouse}' out of the unavailable bucket, but it "
        "holds {unavailable}."
    )


class LocationNotFound(NotFound):
    code = "location-not-found"
    title = "No such storage location"
    template = "Warehouse '{warehouse}' has no storage location '{location}'."


class LocationCodeTaken(Conflict):
    code = "location-code-taken"
    title = "The storage location already exists"
    template = "Warehouse '{warehouse}' already has a storage location '{location}'."


class LocationInUse(Conflict):
    code = "location-in-use"
    title = "The storage location is in use"
    template = "Location '{location}' at '{warehouse}' {why}; deactivate it instead."


class StockCountNotFound(NotFound):
    code = "stock-count-not-found"
    title = "No such stock count"
    template = "There is no stock count '{number}'."


class StockCountClosed(Conflict):
    code = "stock-count-closed"
    title = "The stock count no longer takes entries"
    template = "Stock count '{number}' is {status}; only an open count takes counted quantities."


class NothingToCount(Rejected):
    code = "nothing-to-count"
    title = "The count sheet would be empty"
    template = "Warehouse '{warehouse}' has no stock positions {where} to count."


class StockCountOverlaps(Conflict):
    code = "stock-count-overlaps"
    title = "Another open count already covers these positions"
    template = "Positions of this sheet are already on open count(s) {numbers}; finish those first."
