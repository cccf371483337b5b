"""What one poll of a marketplace connection did."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PollOutcome:
    """What one poll of a connection did."""

    connection: str
    seen: int = 0
    imported: list[int] = field(default_factory=list)  # Potok order ids created
    repeated: int = 0  # orders the marketplace sent again, already imported
    kept_aside: list[str] = field(default_factory=list)  # external ids put in the journal
    followed: int = 0  # status changes recorded
    confirmed: list[str] = field(default_factory=list)  # told the marketplace: taken (Avito)
    packed: list[str] = field(default_factory=list)  # told the marketplace: packed
    handed_over: list[str] = field(default_factory=list)  # told: left the seller
    cancelled_there: list[str] = field(default_factory=list)  # cancelled on the marketplace
    push_failed: list[str] = field(default_factory=list)  # refused there: see the journal
    waiting: list[str] = field(default_factory=list)  # the marketplace is still checking
    stickers: list[str] = field(default_factory=list)  # stickers fetched and kept
    cancelled: list[int] = field(default_factory=list)  # Potok orders cancelled
    returns_opened: list[str] = field(default_factory=list)  # Potok returns made (Market's)
    returns_followed: int = 0  # Market's returns whose change was taken
    catalogue_mapped: int = 0  # items mapped from the catalogue before a first poll
    crm_changes: list[str] = field(default_factory=list)  # "<order id>:<what>" taken from a CRM
    crm_refused: list[str] = field(default_factory=list)  # CRM changes refused: see the journal
    error: str | None = None
    refused: bool = False
    requests: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0
    cursor: str | None = None  # where the next poll starts, when the marketplace has a cursor
