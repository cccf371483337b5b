"""What a marketplace refused item by item - an item's stock, a step of an order (packed,
handed over, cancelled) - kept in the connection's journal and told to the operators once,
with what to fix. Journal entries of stock are named ``stock WAREHOUSE/SKU``; one that the
marketplace takes again is resolved. Alerts are raised once per item (or order and step):
``add_once`` never raises the same kind about the same subject twice."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from potok.domain.alerts import AlertKind
from potok.domain.kernel import Clock
from potok.domain.marketplaces import Connection, JournalKind, Marketplace
from potok.services.alerts import raise_alert_once
from potok.services.unit_of_work import UnitOfWork, atomically

STOCK_PREFIX = "stock "


def stock_entry(position: str) -> str:
    """The journal's name of a stock position (``"658434/KET"``)."""
    return f"{STOCK_PREFIX}{position}"[:128]


def what_to_fix(marketplace: Marketplace, reason: str) -> str:
    """The operator's next step for a refused stock update, from the marketplace's words."""
    if "WAREHOUSE_NOT_FOUND" in reason or ("warehouse" in reason and "not a number" in reason):
        return (
            "the marketplace does not know this warehouse as the seller's: correct the "
            "connection's warehouse map (potok marketplaces update NAME -w ID=LOCATION)"
        )
    if marketplace is Marketplace.RETAILCRM:
        return (
            "RetailCRM has no such offer, or no such store: check the SKU's offer id in the "
            "connection's item map (potok marketplaces map NAME SKU OFFER_ID) and the store "
            "code in its warehouse map"
        )
    if marketplace is Marketplace.OZON:
        return (
            "Ozon does not take this product_id: correct the SKU's item in the connection's "
            "item map (potok marketplaces match-catalogue NAME, or map NAME SKU ITEM "
            "--product ID); an archived product must be restored on Ozon first"
        )
    return (
        "WB does not take this chrtId at this warehouse: check the SKU's chrtId in the "
        "connection's item map (potok marketplaces map NAME SKU CHRTID) and that the card "
        "is on sale at the warehouse"
    )


def note_stock_refusals(
    uow: UnitOfWork,
    connection: Connection,
    refused: Mapping[str, str],
    accepted: Collection[str],
    clock: Clock,
) -> None:
    """Journal and alert the positions (``warehouse/SKU``) the marketplace refused; resolve
    the journal entries of those it took this time."""
    if not refused and not accepted:
        return

    def work(uow: UnitOfWork) -> None:
        at = clock()
        for position, reason in sorted(refused.items()):
            fix = what_to_fix(connection.marketplace, reason)
            detail = f"stock of {position} refused: {reason}. To fix: {fix}"[:2000]
            uow.marketplaces.keep_aside(
                connection.id,
                stock_entry(position),
                JournalKind.STOCK_REFUSED,
                detail,
                {"position": position, "reason": reason[:500]},
                at,
            )
            raise_alert_once(
                uow,
                AlertKind.MARKETPLACE_STOCK_REFUSED,
                f"{connection.code}/{position}",
                f"{connection.code}: {detail}",
                at,
            )
        if accepted:
            open_entries = {
                e.external_id
                for e in uow.marketplaces.journal(connection.id, limit=10_000)
                if e.kind is JournalKind.STOCK_REFUSED
            }
            for position in accepted:
                if stock_entry(position) in open_entries:
                    uow.marketplaces.resolve(connection.id, stock_entry(position), at)

    atomically(uow, work)


def alert_update_refused(
    uow: UnitOfWork,
    connection: Connection,
    external_id: str,
    step: str,
    reason: str,
    clock: Clock,
) -> None:
    """Tell the operators, once per order and step, that the marketplace refused it (the
    journal keeps the latest words; Potok tries again at every poll)."""
    message = (
        f"{connection.code}: telling the marketplace that order {external_id} was '{step}' "
        f"is refused: {reason}. Potok tries again at every poll; the connection's journal "
        "shows the latest answer - fix what the marketplace names (or settle the order on "
        "the marketplace's side)"
    )[:2000]
    atomically(
        uow,
        lambda uow: raise_alert_once(
            uow,
            AlertKind.MARKETPLACE_UPDATE_REFUSED,
            f"{connection.code}/{external_id}/{step}",
            message,
            clock(),
        ),
    )
