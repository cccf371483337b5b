"""Yandex Market's returns and unredeemed orders as Potok returns, each exactly once.

Every poll asks Market for the returns of each mapped campaign changed since a day before
the last good poll (``getReturns``); a notification about a return (``ORDER_RETURN_CREATED``,
``ORDER_RETURN_STATUS_UPDATED``) reads that one back (``getReturn``). What Market says is
then taken the same way, whichever brought it:

- a return Potok has not seen becomes a Potok return of the order it was imported as, its
  lines found by the offer each Market item names (the order's link keeps the offer of each
  line), in one transaction with its link to Market's return - the link's unique (connection,
  return id) makes a poll and a notification racing on one return make one Potok return.
  A customer's return (``RETURN``) is *requested*, with Market's reason as the shop's
  (``BAD_QUALITY`` → ``defective`` ...); an unredeemed order (``UNREDEEMED``: the customer
  never collected it) is *approved* at once, with the reason ``unclaimed``: Market brings the
  parcel back whatever the seller says;
- while the Potok return is *requested*, Market's word moves it: the parcel left the customer
  (``shipmentStatus`` ``RECEIVED``, ``IN_TRANSIT``, ``READY_FOR_PICKUP``, ``PICKED``) approves
  it - the units are on their way; Market cancelling or rejecting it (``CANCELLED``,
  ``EXPIRED``, ``REJECTED``) declines it with Market's words. Every change Market reports
  is kept on the link; what happens at the warehouse (receipt, inspection, refund) is
  Potok's as for any return;
- a return Potok cannot take (its order was never imported or never shipped, an offer not
  in the order, more units than were shipped) goes to the connection's journal as
  ``return-<id>``, refused with the reason, and is tried again at the next poll (resolved
  when taken).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from potok.connectors.marketplaces import (
    CredentialsRefused,
    MarketplaceError,
    MarketplaceRefused,
)
from potok.connectors.marketplaces.yandex_market import YandexMarket
from potok.connectors.marketplaces.yandex_market_returns import (
    REASONS,
    UNREDEEMED,
    MarketReturn,
)
from potok.domain.errors import InvalidInput, PotokError, TransientConflict
from potok.domain.kernel import Actor, ActorKind, Clock, utc_now
from potok.domain.marketplaces import Connection, JournalKind
from potok.domain.returns import ReturnSource, ReturnStatus
from potok.services.marketplace_ports import LinkedReturn
from potok.services.marketplaces.journal import keep_aside
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.returns.common import locked, note_on_order
from potok.services.returns.policy import DEFAULT_POLICY, UNCLAIMED, ReturnPolicy
from potok.services.returns.requests import RequestReturn, ReturnLineRequest, request_within
from potok.services.unit_of_work import UnitOfWork, atomically, reading

FIRST_LOOK_BACK = timedelta(days=14)
"""How far back a connection's first poll asks for returns."""
MARGIN = timedelta(days=1)
"""Returns are asked for from a day before the last good poll (Market lists by day)."""
CHANGER = "yandex market"


class _NotTaken(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def journal_id(found: MarketReturn | str) -> str:
    """The journal's name for a Market return."""
    number = found.id if isinstance(found, MarketReturn) else found
    return f"return-{number}"


def poll_returns(
    uow: UnitOfWork,
    connection: Connection,
    market: YandexMarket,
    outcome: PollOutcome,
    *,
    clock: Clock = utc_now,
) -> None:
    """Take the returns Market changed since a day before the last good poll, campaign by
    campaign (those the connection maps)."""
    now = clock()
    since = ((connection.last_success_at or now - FIRST_LOOK_BACK) - MARGIN).date()
    until = (now + MARGIN).date()
    for campaign in sorted(connection.warehouses):
        if not campaign.isdigit():
            continue
        for found in market.returns.changed(campaign, since, until):
            if isinstance(found, str):
                number = found.split(":", 1)[0].removeprefix("return ")
                keep_aside(
                    uow,
                    connection,
                    journal_id(number),
                    JournalKind.MALFORMED,
                    found,
                    {},
                    clock,
                )
                outcome.kept_aside.append(journal_id(number))
                continue
            take_return(uow, connection, found, outcome, clock=clock)


def read_return(
    uow: UnitOfWork,
    connection: Connection,
    market: YandexMarket,
    campaign: str,
    order: str,
    number: str,
    outcome: PollOutcome,
    *,
    clock: Clock = utc_now,
) -> None:
    """One return Market told Potok about, read back and taken (a campaign the connection
    does not map is not the connection's business)."""
    if campaign not in connection.warehouses:
        return
    try:
        found = market.returns.one(campaign, order, number)
    except CredentialsRefused:
        raise
    except MarketplaceRefused:
        return  # Market does not know it (a forged or stale notification): nothing to take
    except MarketplaceError as error:
        outcome.error = str(error)
        return
    take_return(uow, connection, found, outcome, clock=clock)


def take_return(
    uow: UnitOfWork,
    connection: Connection,
    found: MarketReturn,
    outcome: PollOutcome,
    *,
    clock: Clock = utc_now,
    policy: ReturnPolicy = DEFAULT_POLICY,
) -> None:
    """What Market says of one return now: a Potok return made once, moved while it is
    requested, Market's words kept; what cannot be taken goes to the journal."""
    try:
        number, created = atomically(uow, lambda uow: _take(uow, connection, found, policy, clock))
    except TransientConflict:
        raise
    except _NotTaken as refused:
        _aside(uow, connection, found, refused.detail, outcome, clock)
        return
    except PotokError as refused:
        if reading(uow, lambda uow: uow.marketplaces.linked_return(connection.id, found.id)):
            return  # a twin (a poll, a notification) took it meanwhile: its units are claimed
        detail = refused.detail
        if isinstance(refused, InvalidInput):
            detail = "; ".join(f"{e.field}: {e.message}" for e in refused.errors) or detail
        _aside(uow, connection, found, detail, outcome, clock)
        return
    if created:
        outcome.returns_opened.append(number)
    elif number:
        outcome.returns_followed += 1


def _aside(
    uow: UnitOfWork,
    connection: Connection,
    found: MarketReturn,
    detail: str,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    payload = {
        "order": found.order_id,
        "campaign": found.campaign,
        "kind": found.kind,
        "status": found.words,
        "items": [{"offer": line.offer, "count": line.count} for line in found.lines],
    }
    keep_aside(
        uow,
        connection,
        journal_id(found),
        JournalKind.REFUSED,
        f"Yandex Market {found.kind.lower()} {found.id} of order {found.order_id}: {detail}",
        payload,
        clock,
    )
    outcome.kept_aside.append(journal_id(found))


def _take(
    uow: UnitOfWork,
    connection: Connection,
    found: MarketReturn,
    policy: ReturnPolicy,
    clock: Clock,
) -> tuple[str, bool]:
    """(the Potok return's number, whether it was made now); "" when nothing changed."""
    at = clock()
    link = uow.marketplaces.linked_return(connection.id, found.id)
    if link is None:
        number = _open(uow, connection, found, policy, at)
        uow.marketplaces.resolve(connection.id, journal_id(found), at)
        return number, True
    if link.status == found.words:
        return "", False
    order, ret = locked(uow, link.return_number)
    words = f"Yandex Market: {found.words}"
    if ret.status is ReturnStatus.REQUESTED and found.called_off:
        ret.decline(at, CHANGER, words)
        uow.returns.save(ret)
        note_on_order(uow, order, ret, at, CHANGER, "return_declined", words)
    elif ret.status is ReturnStatus.REQUESTED and found.going_ahead:
        ret.approve(at, CHANGER, words)
        uow.returns.save(ret)
        note_on_order(uow, order, ret, at, CHANGER, "return_approved", words)
    uow.marketplaces.follow_return(connection.id, found.id, found.words, at)
    return link.return_number, False


def _open(
    uow: UnitOfWork,
    connection: Connection,
    found: MarketReturn,
    policy: ReturnPolicy,
    at: datetime,
) -> str:
    order_link = uow.marketplaces.linked(connection.id, found.order_id)
    if order_link is None:
        raise _NotTaken("its order was never imported into Potok")
    lines = _lines(found, order_link.items)
    unredeemed = found.kind == UNREDEEMED
    command = RequestReturn(
        order_id=order_link.order_id,
        lines=lines,
        comment=f"Yandex Market {found.kind.lower()} {found.id} ({found.words})",
        approve=unredeemed or found.going_ahead,
    )
    reasons = (*policy.reasons, UNCLAIMED) if unredeemed else policy.reasons
    ret = request_within(
        uow,
        command,
        Actor(ActorKind.SYSTEM, CHANGER),
        at,
        policy=ReturnPolicy(reasons, policy.shipping, policy.by_channel),
        source=ReturnSource.UNCLAIMED if unredeemed else ReturnSource.CUSTOMER,
    )
    assert ret.id is not None
    uow.marketplaces.link_return(
        connection.id,
        LinkedReturn(
            external_id=found.id,
            order_external_id=found.order_id,
            campaign=found.campaign,
            return_number=ret.number,
            kind=found.kind,
            status=found.words,
        ),
        ret.id,
        at,
    )
    if found.called_off and ret.status is ReturnStatus.REQUESTED:
        ret.decline(at, CHANGER, f"Yandex Market: {found.words}")
        uow.returns.save(ret)
    return ret.number


def _lines(found: MarketReturn, items: Sequence[Mapping[str, Any]]) -> list[ReturnLineRequest]:
    """Market's items as request lines: each offer on the order line that carried it."""
    line_of: dict[str, int] = {}
    for item in items:
        if isinstance(item.get("line_no"), int):
            line_of.setdefault(str(item.get("item") or ""), item["line_no"])
    wanted: dict[int, ReturnLineRequest] = {}
    for line in found.lines:
        number = line_of.get(line.offer)
        if number is None:
            raise _NotTaken(f"offer {line.offer} is not in the order")
        reason = UNCLAIMED if found.kind == UNREDEEMED else REASONS.get(line.reason, "changed_mind")
        note = f"Честный ЗНАК: {', '.join(line.codes)}"[:500] if line.codes else ""
        before = wanted.get(number)
        count = line.count + (before.quantity if before is not None else 0)
        wanted[number] = ReturnLineRequest(number, count, reason, note=note)
    return [wanted[n] for n in sorted(wanted)]
