"""The shipment aggregate: what one warehouse sends for an order, from the first pick to
the customer's door (or back), with every step kept (when, who, from which status).

A shipment is released ``pending``: its units are still the order's open reservations at
the warehouse. Picking starts with the items frozen from those reservations; picks, short
picks, parcels (with the identifiers each unit needs) and the hand-over follow, then the
carrier's tracking events move it to its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.events import DomainEvent
from potok.domain.fulfilment import events as ev
from potok.domain.fulfilment.errors import (
    AlreadyPicked,
    CodeAlreadyUsed,
    IdentifierMismatch,
    IdentifierNotRequired,
    IdentifiersMissing,
    PackExceedsPicked,
    SerialRequired,
    ShipmentNotStarted,
    WrongSerial,
)
from potok.domain.fulfilment.identifiers import UnitCode, UnitIdentifier, read_code
from potok.domain.fulfilment.states import SHIPMENT, ShipmentStatus
from potok.domain.kernel import OrderId, ProductId, StockId, WarehouseId

MAX_PARCEL_WEIGHT_G = 1_000_000  # a tonne: pallets included
MAX_DIMENSION_MM = 10_000
MAX_PARCELS = 500


@dataclass(slots=True)
class ShipmentItem:
    """Units of one order line from one stock position (one lot)."""

    item_no: int
    line_no: int
    product_id: ProductId
    sku: str
    stock_id: StockId
    quantity: int
    lot: str | None = None
    picked: int = 0
    packed: int = 0
    serials: tuple[str, ...] = ()  # the serial numbers set aside for it (serialised goods)
    picked_serials: list[str] = field(default_factory=list)
    # read with the item, not stored on it: what the product needs, where it lies
    name: str = ""
    identifiers: frozenset[UnitIdentifier] = frozenset()
    gtins: frozenset[str] = frozenset()  # the product's GTINs, 14 digits each
    location: str | None = None
    zone: str = ""
    pick_sequence: int | None = None

    @property
    def left(self) -> int:
        """Units still to pick."""
        return self.quantity - self.picked

    @property
    def unpacked(self) -> int:
        """Units picked and not in a parcel yet."""
        return self.picked - self.packed

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "item_no": self.item_no,
            "line_no": self.line_no,
            "sku": self.sku,
            "quantity": self.quantity,
        }
        if self.lot is not None:
            data["lot"] = self.lot
        if self.picked_serials:
            data["serials"] = list(self.picked_serials)
        return data


@dataclass(frozen=True, slots=True)
class PackedCode:
    """An identifier of one unit in a parcel."""

    parcel_no: int
    item_no: int
    code: UnitCode


@dataclass(slots=True)
class Parcel:
    """A box (or bag, or pallet) with its weight, dimensions and contents."""

    parcel_no: int
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    contents: dict[int, int]  # item number to units
    packed_at: datetime
    packed_by: str

    def summary(self) -> dict[str, Any]:
        return {
            "parcel_no": self.parcel_no,
            "weight_g": self.weight_g,
            "dimensions_mm": [self.length_mm, self.width_mm, self.height_mm],
            "items": {str(k): v for k, v in sorted(self.contents.items())},
        }


@dataclass(frozen=True, slots=True)
class ParcelLine:
    """What a packer puts in a parcel for one item: units and their identifiers as scanned."""

    item_no: int
    quantity: int
    codes: tuple[tuple[UnitIdentifier, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ParcelDraft:
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    lines: tuple[ParcelLine, ...]


@dataclass(frozen=True, slots=True)
class ShipmentStep:
    """One step of the shipment: when, who, what, and the status before and after."""

    occurred_at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ShipmentChanges:
    """What changed since the shipment was loaded, for the repository to write."""

    steps: list[ShipmentStep] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    items: set[int] = field(default_factory=set)  # item numbers written afresh
    parcels: list[Parcel] = field(default_factory=list)
    removed_parcels: list[int] = field(default_factory=list)
    codes: list[PackedCode] = field(default_factory=list)
    header: bool = False

    def __bool__(self) -> bool:
        return bool(self.steps or self.items or self.parcels or self.codes or self.header)


@dataclass(slots=True, eq=False)
class Shipment:
    """What one warehouse sends for one order (one parcel group of it)."""

    id: int | None
    order_id: OrderId
    seq: int  # the shipment's number within its order: order 42's second is 42-2
    warehouse_id: WarehouseId
    warehouse_code: str
    status: ShipmentStatus
    created_at: datetime
    updated_at: datetime
    parcel_group: str = ""
    wave_id: int | None = None
    wave: str | None = None
    items: list[ShipmentItem] = field(default_factory=list)
    parcels: list[Parcel] = field(default_factory=list)
    codes: list[PackedCode] = field(default_factory=list)
    carrier: str | None = None  # the carrier that booked it (or took it by hand)
    carrier_ref: str | None = None  # the carrier's own id of the shipment
    tracking_number: str | None = None
    label: str | None = None  # where the carrier's label can be fetched
    tariff: str | None = None
    promised_on: date | None = None  # the order's promise, for on-time
    eta_on: date | None = None  # expected delivery, moved by tracking events
    storage_until: datetime | None = None  # at a pickup point: collect before
    delivered_at: datetime | None = None
    handed_over_at: datetime | None = None
    version: int = 1
    steps: list[ShipmentStep] = field(default_factory=list)
    changes: ShipmentChanges = field(default_factory=ShipmentChanges)
    planned_carrier: str | None = None  # the carrier to book: sourcing's choice, or an operator's

    # ----------------------------------------------------------------- reading

    @property
    def number(self) -> str:
        return f"{self.order_id}-{self.seq}"

    def item(self, item_no: int) -> ShipmentItem:
        for item in self.items:
            if item.item_no == item_no:
                return item
        raise InvalidInput(
            [FieldError("item_no", f"shipment {self.number} has no item {item_no}", "unknown")]
        )

    @property
    def units(self) -> int:
        return sum(i.quantity for i in self.items)

    @property
    def weight_g(self) -> int:
        return sum(p.weight_g for p in self.parcels)

    @property
    def on_time(self) -> bool | None:
        """Delivered by the promised date (None while undelivered or without a promise)."""
        if self.delivered_at is None or self.promised_on is None:
            return None
        return self.delivered_at.date() <= self.promised_on

    def missing_identifiers(self) -> list[str]:
        """What each item still lacks, in words ("3 of 4 marking codes of SHOE-1")."""
        have: dict[tuple[int, UnitIdentifier], int] = {}
        for packed in self.codes:
            key = (packed.item_no, packed.code.kind)
            have[key] = have.get(key, 0) + 1
        missing = []
        for item in self.items:
            for kind in sorted(item.identifiers):
                got = have.get((item.item_no, kind), 0)
                if got < item.quantity:
                    missing.append(
                        f"{item.quantity - got} of {item.quantity} {kind.value} codes of {item.sku}"
                    )
        return missing

    def _id(self) -> int:
        if self.id is None:
            raise RuntimeError("the shipment must be stored before its changes are recorded")
        return self.id

    # ----------------------------------------------------------------- recording

    def _step(
        self,
        at: datetime,
        actor: str,
        action: str,
        target: ShipmentStatus | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> ShipmentStatus:
        before = self.status
        if target is not None and target is not before:
            self.status = SHIPMENT.check(before, target)
        self.changes.steps.append(
            ShipmentStep(at, actor, action, before.value, self.status.value, reason, details or {})
        )
        self.updated_at = at
        self.changes.header = True
        return before

    def _base(self, before: ShipmentStatus | None) -> dict[str, Any]:
        return {
            "shipment_id": self._id(),
            "order_id": self.order_id,
            "warehouse": self.warehouse_code,
            "from_status": before.value if before is not None else None,
            "to_status": self.status.value,
        }

    def released(self, at: datetime, actor: str) -> None:
        """Say that the order went to the warehouse (call once the shipment has its id)."""
        self.changes.steps.append(
            ShipmentStep(at, actor, "created", None, self.status.value, None, {"wave": self.wave})
        )
        self.changes.events.append(
            ev.ShipmentCreated(occurred_at=at, **self._base(None), wave=self.wave)
        )

    # ----------------------------------------------------------------- picking

    def start(self, items: Sequence[ShipmentItem], at: datetime, actor: str) -> None:
        """Picking begins with these items (the order's reservations here, frozen)."""
        before = self._step(at, actor, "picking_started", ShipmentStatus.PICKING)
        self.items = list(items)
        self.changes.items.update(i.item_no for i in items)
        summary = [i.summary() for i in items]
        self.changes.steps[-1].details["items"] = summary
        self.changes.events.append(
            ev.ShipmentPickingStarted(occurred_at=at, **self._base(before), items=summary)
        )

    def _require_picking(self, action: str) -> None:
        if self.status is not ShipmentStatus.PICKING:
            raise ShipmentNotStarted(
                shipment_id=self._id(), status=self.status.value, action=action
            )

    def pick(
        self,
        item_no: int,
        quantity: int,
        at: datetime,
        actor: str,
        *,
        serial: str | None = None,
        bin_code: str | None = None,
    ) -> None:
        """Units of an item are in the picker's hands (a serialised one: that unit)."""
        self._require_picking("only a shipment being picked takes picks")
        item = self.item(item_no)
        if quantity > item.left:
            raise AlreadyPicked(sku=item.sku, scanned=quantity, expected=item.left)
        if item.serials:
            open_serials = [s for s in item.serials if s not in item.picked_serials]
            if serial is None:
                raise SerialRequired(sku=item.sku, expected=", ".join(open_serials[:10]))
            if serial not in open_serials:
                raise WrongSerial(
                    sku=item.sku, scanned=serial, expected=", ".join(open_serials[:10]) or "none"
                )
            if quantity != 1:
                raise InvalidInput(
                    [FieldError("quantity", "scan serialised units one at a time", "one-unit")]
                )
            item.picked_serials.append(serial)
        item.picked += quantity
        self.changes.items.add(item_no)
        details: dict[str, Any] = {"sku": item.sku, "item_no": item_no, "quantity": quantity}
        if serial:
            details["serial"] = serial
        if bin_code:
            details["bin"] = bin_code
        self._step(at, actor, "picked", details=details)

    def short(self, item_no: int, missing: int, at: datetime, actor: str, note: str | None) -> None:
        """Units of an item were not on the shelf: the shipment carries that many fewer."""
        self._require_picking("only a shipment being picked can be short")
        item = self.item(item_no)
        if not 1 <= missing <= item.left:
            raise InvalidInput(
                [
                    FieldError(
                        "missing",
                        f"{item.left} unit(s) of '{item.sku}' are left to pick on this item",
                        "more-than-left",
                    )
                ]
            )
        item.quantity -= missing
        self.changes.items.add(item_no)
        before = self._step(
            at,
            actor,
            "short_picked",
            reason=note,
            details={"sku": item.sku, "item_no": item_no, "missing": missing},
        )
        self.changes.events.append(
            ev.ShipmentShortPicked(
                occurred_at=at, **self._base(before), sku=item.sku, lot=item.lot, missing=missing
            )
        )

    def add_items(
        self, items: Sequence[ShipmentItem], at: datetime, actor: str, reason: str
    ) -> None:
        """More units join a shipment being picked (the rest of a short line found here)."""
        self._require_picking("only a shipment being picked takes more items")
        self.items.extend(items)
        self.changes.items.update(i.item_no for i in items)
        self._step(
            at, actor, "items_added", reason=reason, details={"items": [i.summary() for i in items]}
        )

    @property
    def next_item_no(self) -> int:
        return max((i.item_no for i in self.items), default=0) + 1

    @property
    def fully_picked(self) -> bool:
        return all(i.left == 0 for i in self.items)

    @property
    def empty(self) -> bool:
        return self.units == 0

    # ----------------------------------------------------------------- packing

    def pack(
        self,
        draft: ParcelDraft,
        at: datetime,
        actor: str,
        *,
        taken: dict[tuple[UnitIdentifier, str], int] | None = None,
    ) -> Parcel:
        """Put picked units into a new parcel with the identifiers scanned for them; the
        shipment is ``packed`` when every unit is. ``taken`` are codes other shipments hold
        (identifier and key to shipment id), found by the caller."""
        self._require_picking("only a shipment being picked can be packed")
        _check_parcel(draft, len(self.parcels))
        counts: dict[int, int] = {}
        for line in draft.lines:
            counts[line.item_no] = counts.get(line.item_no, 0) + line.quantity
        for item_no, quantity in counts.items():
            item = self.item(item_no)
            if quantity > item.unpacked:
                raise PackExceedsPicked(sku=item.sku, requested=quantity, available=item.unpacked)
        parcel_no = max((p.parcel_no for p in self.parcels), default=0) + 1
        codes = self._read_codes(draft, parcel_no, taken or {})
        parcel = Parcel(
            parcel_no,
            draft.weight_g,
            draft.length_mm,
            draft.width_mm,
            draft.height_mm,
            counts,
            at,
            actor,
        )
        for item_no, quantity in counts.items():
            self.item(item_no).packed += quantity
            self.changes.items.add(item_no)
        self.parcels.append(parcel)
        self.codes.extend(codes)
        self.changes.parcels.append(parcel)
        self.changes.codes.extend(codes)
        self._step(at, actor, "parcel_packed", details={**parcel.summary(), "codes": len(codes)})
        if self.fully_picked and all(i.unpacked == 0 for i in self.items) and not self.empty:
            before = self._step(at, actor, "packed", ShipmentStatus.PACKED)
            self.changes.events.append(
                ev.ShipmentPacked(
                    occurred_at=at,
                    **self._base(before),
                    parcels=[p.summary() for p in self.parcels],
                )
            )
        return parcel

    def _read_codes(
        self, draft: ParcelDraft, parcel_no: int, taken: dict[tuple[UnitIdentifier, str], int]
    ) -> list[PackedCode]:
        seen = {(c.code.kind, c.code.key) for c in self.codes}
        found: list[PackedCode] = []
        for index, line in enumerate(draft.lines):
            item = self.item(line.item_no)
            per_kind: dict[UnitIdentifier, int] = {}
            for position, (kind, text) in enumerate(line.codes):
                where = f"items[{index}].codes[{position}]"
                if kind not in item.identifiers:
                    raise IdentifierNotRequired(
                        sku=item.sku,
                        kind=kind.value,
                        expected=", ".join(sorted(k.value for k in item.identifiers)) or "none",
                    )
                code = read_code(kind, text, where)
                if code.gtin is not None and item.gtins and code.gtin not in item.gtins:
                    raise IdentifierMismatch(
                        gtin=code.gtin, sku=item.sku, expected=", ".join(sorted(item.gtins))
                    )
                if (kind, code.key) in seen:
                    raise CodeAlreadyUsed(kind=kind.value, key=code.key, shipment_id=self._id())
                other = taken.get((kind, code.key))
                if other is not None:
                    raise CodeAlreadyUsed(kind=kind.value, key=code.key, shipment_id=other)
                seen.add((kind, code.key))
                per_kind[kind] = per_kind.get(kind, 0) + 1
                found.append(PackedCode(parcel_no, item.item_no, code))
            for kind, count in per_kind.items():
                if count > line.quantity:
                    raise InvalidInput(
                        [
                            FieldError(
                                f"items[{index}].codes",
                                f"{count} {kind.value} codes for {line.quantity} unit(s)",
                                "too-many-codes",
                            )
                        ]
                    )
        return found

    def unpack(self, parcel_no: int, at: datetime, actor: str) -> Parcel:
        """Open a parcel again: its units are picked and unpacked, its codes free."""
        if self.status not in (ShipmentStatus.PICKING, ShipmentStatus.PACKED):
            raise ShipmentNotStarted(
                shipment_id=self._id(),
                status=self.status.value,
                action="only a shipment still in the warehouse can be repacked",
            )
        parcel = next((p for p in self.parcels if p.parcel_no == parcel_no), None)
        if parcel is None:
            raise InvalidInput(
                [FieldError("parcel_no", f"shipment {self.number} has no parcel {parcel_no}")]
            )
        for item_no, quantity in parcel.contents.items():
            self.item(item_no).packed -= quantity
            self.changes.items.add(item_no)
        self.parcels.remove(parcel)
        self.codes = [c for c in self.codes if c.parcel_no != parcel_no]
        self.changes.removed_parcels.append(parcel_no)
        before = self._step(
            at, actor, "parcel_opened", ShipmentStatus.PICKING, details={"parcel_no": parcel_no}
        )
        if before is ShipmentStatus.PACKED:
            self.changes.events.append(
                ev.ShipmentReopened(occurred_at=at, **self._base(before), parcel_no=parcel_no)
            )
        return parcel

    # ----------------------------------------------------------------- leaving

    def hand_over(
        self,
        at: datetime,
        actor: str,
        *,
        carrier: str | None,
        tracking_number: str | None,
    ) -> None:
        """The carrier (or the customer at the counter) takes the parcels."""
        missing = self.missing_identifiers()
        if missing and self.status is ShipmentStatus.PACKED:
            raise IdentifiersMissing(shipment_id=self._id(), summary="; ".join(missing))
        if carrier is not None:
            self.carrier = carrier
        if tracking_number is not None:
            self.tracking_number = tracking_number
        before = self._step(
            at,
            actor,
            "handed_over",
            ShipmentStatus.HANDED_OVER,
            details={"carrier": self.carrier, "tracking_number": self.tracking_number},
        )
        self.handed_over_at = at
        self.changes.events.append(
            ev.ShipmentHandedOver(
                occurred_at=at,
                **self._base(before),
                carrier=self.carrier,
                tracking_number=self.tracking_number,
                items=[i.summary() for i in self.items if i.quantity],
                codes=[
                    {"item_no": c.item_no, "kind": c.code.kind.value, "code": c.code.value}
                    for c in self.codes
                ],
            )
        )

    def track(
        self,
        target: ShipmentStatus,
        at: datetime,
        actor: str,
        *,
        event: str,
        eta_on: date | None = None,
        storage_until: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """A carrier's tracking event moves the shipment on."""
        if eta_on is not None:
            self.eta_on = eta_on
        if storage_until is not None:
            self.storage_until = storage_until
        if target is ShipmentStatus.DELIVERED:
            self.delivered_at = at
        noted = dict(details or {})
        if eta_on:
            noted["eta_on"] = eta_on.isoformat()
        if storage_until:
            noted["storage_until"] = storage_until.isoformat()
        before = self._step(at, actor, target.value, target, reason=event, details=noted)
        base = {
            **self._base(before),
            "event": event,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "eta_on": self.eta_on.isoformat() if self.eta_on else None,
            "storage_until": self.storage_until.isoformat() if self.storage_until else None,
        }
        made: ev.ShipmentTracked
        if target is ShipmentStatus.DELIVERED:
            made = ev.ShipmentDelivered(occurred_at=at, **base, on_time=self.on_time)
        else:
            made = _TRACKED[target](occurred_at=at, **base)
        self.changes.events.append(made)

    def note(self, at: datetime, actor: str, action: str, reason: str, **details: Any) -> None:
        """A step that changes no status (a carrier's label, a new expected date)."""
        self._step(at, actor, action, reason=reason, details=details)

    def plan_carrier(
        self, carrier: str, at: datetime, actor: str, reason: str, **details: Any
    ) -> None:
        """The carrier this shipment is to be booked with, until it is booked; a change of
        an earlier plan says what it was."""
        before = self.planned_carrier
        if before == carrier:
            return
        self.planned_carrier = carrier
        action = "carrier_planned" if before is None else "carrier_changed"
        if before is not None:
            details = {"from_carrier": before, **details}
        self._step(at, actor, action, reason=reason, details={"carrier": carrier, **details})

    def cancel(self, at: datetime, actor: str, reason: str) -> None:
        """Until hand-over: the units go back on the shelf; its codes are free again."""
        before = self._step(at, actor, "cancelled", ShipmentStatus.CANCELLED, reason=reason)
        self.changes.events.append(
            ev.ShipmentCancelled(occurred_at=at, **self._base(before), reason=reason)
        )

    def take_changes(self) -> ShipmentChanges:
        changes, self.changes = self.changes, ShipmentChanges()
        return changes


_TRACKED: dict[ShipmentStatus, type[ev.ShipmentTracked]] = {
    ShipmentStatus.IN_TRANSIT: ev.ShipmentInTransit,
    ShipmentStatus.READY_FOR_PICKUP: ev.ShipmentReadyForPickup,
    ShipmentStatus.FAILED_DELIVERY: ev.ShipmentDeliveryFailed,
    ShipmentStatus.RETURNING: ev.ShipmentReturning,
    ShipmentStatus.RETURNED_TO_SENDER: ev.ShipmentReturnedToSender,
}


def _check_parcel(draft: ParcelDraft, parcels: int) -> None:
    errors: list[FieldError] = []
    if parcels >= MAX_PARCELS:
        errors.append(FieldError("parcel", f"a shipment has at most {MAX_PARCELS} parcels"))
    if not 1 <= draft.weight_g <= MAX_PARCEL_WEIGHT_G:
        errors.append(
            FieldError("weight_g", f"must be 1 to {MAX_PARCEL_WEIGHT_G} grams", "out-of-range")
        )
    for name, value in (
        ("length_mm", draft.length_mm),
        ("width_mm", draft.width_mm),
        ("height_mm", draft.height_mm),
    ):
        if not 1 <= value <= MAX_DIMENSION_MM:
            errors.append(FieldError(name, f"must be 1 to {MAX_DIMENSION_MM} mm", "out-of-range"))
    if not draft.lines:
        errors.append(FieldError("items", "a parcel holds at least one item", "required"))
    for index, line in enumerate(draft.lines):
        if line.quantity < 1:
            errors.append(FieldError(f"items[{index}].quantity", "must be at least 1"))
    if errors:
        raise InvalidInput(errors)
