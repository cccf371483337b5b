"""Lots and serial numbers: what a receipt, a write-off or a count must name for a product,
and the errors when it does not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from potok.domain.errors import Conflict, InvalidInput, Rejected
from potok.domain.kernel import Tracking
from potok.domain.validation import Problems

MAX_SERIAL_LENGTH = 100


@dataclass(frozen=True, slots=True)
class LotInput:
    """A lot as a person names it: its number and, when known, its dates."""

    number: str
    produced_on: date | None = None
    expires_on: date | None = None


class LotDatesDiffer(Conflict):
    code = "lot-dates-differ"
    title = "The lot is already known with other dates"
    template = (
        "Lot '{lot}' of '{sku}' was received before as produced {known_produced}, expiring "
        "{known_expires}; this receipt says produced {produced}, expiring {expires}."
    )


class LotNotFound(Rejected):
    code = "lot-not-found"
    title = "No such lot"
    template = "Warehouse '{warehouse}' keeps no lot '{lot}' of '{sku}'."


class SerialTaken(Conflict):
    code = "serial-taken"
    title = "A serial number is already known"
    template = "'{sku}' already has units with serial numbers {serials}."


class SerialNotInStock(Rejected):
    code = "serial-not-in-stock"
    title = "A serial number is not in stock here"
    template = "Serial numbers {serials} of '{sku}' are not in stock (unreserved) at '{warehouse}'."


def check_identity(
    problems: Problems,
    tracking: Tracking,
    sku: str,
    quantity: int,
    lot: LotInput | None,
    serials: Sequence[str] | None,
) -> None:
    """A product kept by lot must name its lot, a serialised one each unit's serial number;
    an untracked one names neither."""
    if tracking is Tracking.LOT:
        if lot is None:
            problems.add("lot", f"'{sku}' is kept by lot: name the lot", "lot-required")
        else:
            check_lot(problems, lot)
    elif lot is not None:
        problems.add("lot", f"'{sku}' is not kept by lot; leave the lot out", "lot-not-allowed")
    if tracking is Tracking.SERIAL:
        if serials is None:
            problems.add(
                "serials", f"'{sku}' is serialised: list every unit's serial", "serials-required"
            )
        else:
            check_serials(problems, serials, quantity)
    elif serials:
        problems.add(
            "serials", f"'{sku}' is not serialised; leave the serials out", "serials-not-allowed"
        )


def check_lot(problems: Problems, lot: LotInput) -> None:
    """Dates are optional: a lot without an expiry date never expires."""
    problems.text("lot.number", lot.number, max_length=64)
    if (
        lot.produced_on is not None
        and lot.expires_on is not None
        and lot.produced_on > lot.expires_on
    ):
        problems.add("lot.expires_on", "must not be before produced_on", "expires-before-produced")


def check_serials(problems: Problems, serials: Sequence[str], quantity: int) -> None:
    if len(serials) != quantity:
        problems.add(
            "serials",
            f"list exactly {quantity} serial numbers, one per unit (got {len(serials)})",
            "serials-count",
        )
    seen: set[str] = set()
    for index, serial in enumerate(serials):
        if not serial.strip() or len(serial) > MAX_SERIAL_LENGTH or not serial.isprintable():
            problems.add(
                f"serials[{index}]",
                f"must be 1-{MAX_SERIAL_LENGTH} printable characters",
                "bad-serial",
            )
        elif serial in seen:
            problems.add(f"serials[{index}]", f"'{serial}' is listed twice", "duplicate")
        seen.add(serial)


def require_identity(
    tracking: Tracking,
    sku: str,
    quantity: int,
    lot: LotInput | None,
    serials: Sequence[str] | None,
) -> None:
    problems = Problems()
    check_identity(problems, tracking, sku, quantity, lot, serials)
    if problems:
        raise InvalidInput(problems.errors)
