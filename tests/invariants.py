"""Checks that every stock and reservation invariant holds, read straight from the tables."""

from __future__ import annotations

import sqlalchemy as sa

from potok.bootstrap import Potok


def assert_stock_invariants(potok: Potok) -> None:
    """0 <= reserved <= on_hand; reserved = open reservations; on_hand = the ledger;
    unavailable = the ledger's unavailable changes, and reserved + unavailable <= on_hand;
    serialised positions hold as many serials as units, and each open reservation of them
    as many reserved serials as units; a reserved order has every unit reserved (or, when
    consolidated at a hub, on a shipped transfer to it), any other order none."""
    with potok.engine.connect() as connection:
        broken = connection.execute(
            sa.text(
                "SELECT id, on_hand, reserved FROM stock WHERE reserved < 0 OR reserved > on_hand"
            )
        ).all()
        assert broken == [], f"stock rows outside 0 <= reserved <= on_hand: {broken}"
        drift = connection.execute(
            sa.text(
                """
            SELECT s.id, s.reserved, COALESCE(r.total, 0) AS held
              FROM stock s
              LEFT JOIN (SELECT stock_id, SUM(quantity) AS total FROM reservations
                          WHERE status = 'open' GROUP BY stock_id) r ON r.stock_id = s.id
             WHERE s.reserved <> COALESCE(r.total, 0)
            """
            )
        ).all()
        assert drift == [], f"reserved differs from open reservations: {drift}"
        ledger = connection.execute(
            sa.text(
                """
            SELECT s.id, s.on_hand, COALESCE(m.total, 0) AS ledger
              FROM stock s
              LEFT JOIN (SELECT stock_id, SUM(quantity) AS total FROM stock_movements
                          GROUP BY stock_id) m ON m.stock_id = s.id
             WHERE s.on_hand <> COALESCE(m.total, 0)
            """
            )
        ).all()
        assert ledger == [], f"on_hand differs from the ledger: {ledger}"
        aside = connection.execute(
            sa.text(
                """
            SELECT s.id, s.unavailable, COALESCE(m.total, 0) AS ledger
              FROM stock s
              LEFT JOIN (SELECT stock_id, SUM(unavailable_change) AS total FROM stock_movements
                          GROUP BY stock_id) m ON m.stock_id = s.id
             WHERE s.unavailable <> COALESCE(m.total, 0) OR s.unavailable < 0
                OR s.reserved + s.unavailable > s.on_hand
            """
            )
        ).all()
        assert aside == [], f"unavailable differs from the ledger or overflows on_hand: {aside}"
        units = connection.execute(
            sa.text(
                """
            SELECT s.id, s.on_hand, COALESCE(n.total, 0) AS serials
              FROM stock s
              JOIN products p ON p.id = s.product_id AND p.tracking = 'serial'
              LEFT JOIN (SELECT stock_id, COUNT(*) AS total FROM serials
                          WHERE status IN ('in_stock', 'reserved') GROUP BY stock_id) n
                ON n.stock_id = s.id
             WHERE s.on_hand <> COALESCE(n.total, 0)
            """
            )
        ).all()
        assert units == [], f"serialised positions whose serials differ from on_hand: {units}"
        promised = connection.execute(
            sa.text(
                """
            SELECT r.order_id, r.line_no, r.stock_id, r.total, COALESCE(n.total, 0) AS serials
              FROM (SELECT order_id, line_no, stock_id, SUM(quantity) AS total
                      FROM reservations WHERE status = 'open'
                     GROUP BY order_id, line_no, stock_id) r
              JOIN stock s ON s.id = r.stock_id
              JOIN products p ON p.id = s.product_id AND p.tracking = 'serial'
              LEFT JOIN (SELECT order_id, line_no, stock_id, COUNT(*) AS total FROM serials
                          WHERE status = 'reserved' GROUP BY order_id, line_no, stock_id) n
                ON n.order_id = r.order_id AND n.line_no = r.line_no AND n.stock_id = r.stock_id
             WHERE r.total <> COALESCE(n.total, 0)
            """
            )
        ).all()
        assert promised == [], f"reservations without as many reserved serials: {promised}"
        partial = connection.execute(
            sa.text(
                """
            SELECT o.id, o.allocation, l.line_no, l.quantity, COALESCE(r.total, 0) AS held,
                   COALESCE(r.free, 0) AS free
              FROM orders o
              JOIN order_lines l ON l.order_id = o.id
              LEFT JOIN (SELECT order_id, line_no,
                                SUM(quantity) AS total,
                                SUM(CASE WHEN shipment_id IS NULL THEN quantity ELSE 0 END)
                                    AS free,
                                SUM(CASE WHEN status = 'open' THEN quantity ELSE 0 END)
                                    AS open_units
                           FROM reservations
                          WHERE status = 'open'
                             OR (status = 'consumed' AND shipment_id IS NOT NULL)
                          GROUP BY order_id, line_no) r
                ON r.order_id = l.order_id AND r.line_no = l.line_no
             WHERE (o.allocation = 'reserved' AND COALESCE(r.total, 0) <> l.quantity
                    AND NOT EXISTS (SELECT 1 FROM transfers t
                                     WHERE t.order_id = o.id AND t.status = 'shipped'))
                OR (o.allocation <> 'reserved' AND o.state <> 'cancelled'
                    AND COALESCE(r.free, 0) <> 0)
                OR (o.state = 'cancelled' AND COALESCE(r.open_units, 0) <> 0)
            """
            )
        ).all()
        assert partial == [], f"orders whose reservations do not match their allocation: {partial}"
        travelling = connection.execute(
            sa.text(
                """
            SELECT o.id, l.product_id, l.quantity, COALESCE(r.total, 0) AS held,
                   COALESCE(t.total, 0) AS on_the_way
              FROM orders o
              JOIN (SELECT order_id, product_id, SUM(quantity) AS quantity FROM order_lines
                     GROUP BY order_id, product_id) l ON l.order_id = o.id
              LEFT JOIN (SELECT order_id, product_id, SUM(quantity) AS total FROM reservations
                          WHERE status = 'open' GROUP BY order_id, product_id) r
                ON r.order_id = o.id AND r.product_id = l.product_id
              LEFT JOIN (SELECT t.order_id, tl.product_id, SUM(tl.shipped_quantity) AS total
                           FROM transfers t JOIN transfer_lines tl ON tl.transfer_id = t.id
                          WHERE t.status = 'shipped' GROUP BY t.order_id, tl.product_id) t
                ON t.order_id = o.id AND t.product_id = l.product_id
             WHERE o.allocation = 'reserved'
               AND EXISTS (SELECT 1 FROM transfers x
                            WHERE x.order_id = o.id AND x.status = 'shipped')
               AND (COALESCE(r.total, 0) > l.quantity
                    OR COALESCE(r.total, 0) + COALESCE(t.total, 0) < l.quantity)
            """
            )
        ).all()
        assert travelling == [], (
            f"reserved orders with units neither reserved nor on a transfer to them: {travelling}"
        )


def assert_shipment_invariants(potok: Potok) -> None:
    """A started shipment's items are exactly the reservations it holds: open while it is
    in the warehouse, consumed once it left; a cancelled or pending one holds none; no
    item picked or packed beyond its units; an active code belongs to one live shipment."""
    with potok.engine.connect() as connection:
        mismatched = connection.execute(
            sa.text(
                """
            WITH items AS (
                SELECT i.shipment_id, i.line_no, i.stock_id, SUM(i.quantity) AS units
                  FROM shipment_items i JOIN shipments s ON s.id = i.shipment_id
                 WHERE s.status NOT IN ('pending', 'cancelled')
                 GROUP BY i.shipment_id, i.line_no, i.stock_id
                HAVING SUM(i.quantity) > 0
            ), held AS (
                SELECT r.shipment_id, r.line_no, r.stock_id, SUM(r.quantity) AS units
                  FROM reservations r JOIN shipments s ON s.id = r.shipment_id
                 WHERE (s.status IN ('picking', 'packed') AND r.status = 'open')
                    OR (s.status NOT IN ('pending', 'picking', 'packed', 'cancelled')
                        AND r.status = 'consumed')
                 GROUP BY r.shipment_id, r.line_no, r.stock_id
            )
            SELECT i.shipment_id, i.line_no, i.units, h.units FROM items i
              LEFT JOIN held h ON h.shipment_id = i.shipment_id AND h.line_no = i.line_no
                   AND h.stock_id = i.stock_id
             WHERE h.units IS NULL OR i.units <> h.units
            UNION ALL
            SELECT h.shipment_id, h.line_no, i.units, h.units FROM held h
              LEFT JOIN items i ON h.shipment_id = i.shipment_id AND h.line_no = i.line_no
                   AND h.stock_id = i.stock_id
             WHERE i.units IS NULL
            """
            )
        ).all()
        assert mismatched == [], f"shipment items differ from the reservations: {mismatched}"
        idle = connection.execute(
            sa.text(
                """
            SELECT r.id, s.status FROM reservations r JOIN shipments s ON s.id = r.shipment_id
             WHERE r.status = 'open' AND s.status NOT IN ('picking', 'packed')
            """
            )
        ).all()
        assert idle == [], f"open reservations held by shipments not in the warehouse: {idle}"
        codes = connection.execute(
            sa.text(
                """
            SELECT c.kind, c.code_key, s.status FROM shipment_codes c
              JOIN shipments s ON s.id = c.shipment_id
             WHERE c.active AND s.status IN ('cancelled', 'returned_to_sender')
            """
            )
        ).all()
        assert codes == [], f"codes still held by cancelled or returned shipments: {codes}"


def reserved_units(potok: Potok, sku: str) -> int:
    with potok.engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT COALESCE(SUM(s.reserved), 0) FROM stock s JOIN products p "
                    "ON p.id = s.product_id WHERE p.sku = :sku"
                ),
                {"sku": sku},
            ).scalar_one()
        )
