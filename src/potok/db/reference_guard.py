"""References that intake writes with every order, checked once per statement on
PostgreSQL instead of by a foreign key row by row.

A foreign key checks each new row on its own (a query per row) and locks the row it
refers to (``FOR KEY SHARE``): every order locked the one ``channels`` row, its products
and a few of the ten ``warehouses`` rows, so concurrent orders shared those locks
(multixacts) and each lock wrote to the WAL. These references keep their meaning - a
row never names a parent that is not there, and a parent that rows name is never
deleted - by other means on PostgreSQL:

- **An order's channel and an order line's product** (:data:`CHECKED`): after each
  statement that adds rows, one query looks up the parents of all of them (a statement
  trigger over the new rows; a changed reference is checked by a row trigger). Deleting
  a channel or a product first locks its children's table against writers (``SHARE``),
  so that the orders still being written are either waited for - and then seen, and the
  delete refused - or come after the delete and fail their own check: no interleaving
  leaves an order naming a deleted parent.
- **A reservation's product and warehouse** (:data:`BY_STOCK`) are those of the stock row
  it reserves: one query per statement compares them (a reservation never changes
  them). The reservation's foreign key to ``stock`` stays, and so do the stock row's to
  its product and warehouse: neither can go while the reservation is there.

Violations raise PostgreSQL's own ``foreign_key_violation`` under the constraint's usual
name, so :mod:`potok.db.integrity` names them as it named the foreign keys. SQLite keeps
the foreign keys (its checks take no locks and its writers take turns); the tables in
code declare them for both, and the schema-drift check knows that PostgreSQL has
:data:`REPLACED` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class Reference:
    table: str
    column: str
    parent: str

    @property
    def constraint(self) -> str:
        """The foreign key's conventional name (``db/tables/base.py``)."""
        return f"fk_{self.table}_{self.column}_{self.parent}"


CHECKED = (
    Reference("orders", "channel_id", "channels"),
    Reference("order_lines", "product_id", "products"),
)
BY_STOCK = (
    Reference("reservations", "product_id", "products"),
    Reference("reservations", "warehouse_id", "warehouses"),
)
REPLACED = frozenset(
    {*(r.constraint for r in (*CHECKED, *BY_STOCK)), "fk_reservations_stock_id_stock"}
)
"""The foreign keys PostgreSQL does not have (the triggers below stand for them)."""


def _missing(reference: Reference, detail: str) -> str:
    return (
        f'RAISE EXCEPTION \'insert or update on table "{reference.table}" violates '
        f'foreign key constraint "{reference.constraint}"\' USING '
        f"ERRCODE = 'foreign_key_violation', DETAIL = {detail}, "
        f"CONSTRAINT = '{reference.constraint}', TABLE = '{reference.table}'"
    )


def _checked(reference: Reference) -> list[str]:
    """The child's triggers: the new rows' parents exist (once per statement), and so does
    a changed reference's (per row, only when it changed)."""
    table, column, parent = reference.table, reference.column, reference.parent
    name = f"{table}_{column}_exists"
    detail = f"format('Key ({column})=(%s) is not present in table \"{parent}\".', missing)"
    return [
        f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE missing bigint;
        BEGIN
            IF TG_LEVEL = 'ROW' THEN
                missing := NEW.{column};
                IF missing IS NULL OR EXISTS (SELECT 1 FROM {parent} p WHERE p.id = missing)
                THEN RETURN NULL; END IF;
            ELSE
                SELECT a.{column} INTO missing FROM added a
                WHERE a.{column} IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = a.{column})
                LIMIT 1;
                IF NOT FOUND THEN RETURN NULL; END IF;
            END IF;
            {_missing(reference, detail)};
        END $$
        """,  # noqa: S608 - names from the constants above
        f"CREATE TRIGGER {name} AFTER INSERT ON {table} REFERENCING NEW TABLE AS added "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        f"CREATE TRIGGER {name}_changed AFTER UPDATE OF {column} ON {table} FOR EACH ROW "
        f"WHEN (OLD.{column} IS DISTINCT FROM NEW.{column}) EXECUTE FUNCTION {name}()",
    ]


def _parent(reference: Reference) -> list[str]:
    """The parent's trigger: a row that children name is not deleted (nor its id changed);
    the children's table is locked against writers first, so that children being written
    now are waited for and seen."""
    table, column, parent = reference.table, reference.column, reference.parent
    name = f"{parent}_held_by_{table}"
    return [
        f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN RETURN NEW; END IF;
            LOCK TABLE {table} IN SHARE MODE;
            IF EXISTS (SELECT 1 FROM {table} c WHERE c.{column} = OLD.id) THEN
                RAISE EXCEPTION 'update or delete on table "{parent}" violates foreign key '
                    'constraint "{reference.constraint}" on table "{table}"' USING
                    ERRCODE = 'foreign_key_violation',
                    DETAIL = format('Key (id)=(%s) is still referenced from table "{table}".',
                                    OLD.id),
                    CONSTRAINT = '{reference.constraint}', TABLE = '{table}';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END $$
        """,  # noqa: S608 - names from the constants above
        f"CREATE TRIGGER {name} BEFORE DELETE OR UPDATE OF id ON {parent} FOR EACH ROW "
        f"EXECUTE FUNCTION {name}()",
    ]


_STOCK_OF_RESERVATION = "fk_reservations_stock_id_stock"
"""On PostgreSQL the reservation's key to its stock row carries the row's warehouse and
product too: one check, on a row the reserving statement has locked already, instead of
three (two of them locking a warehouse's and a product's row)."""


def _by_stock() -> list[str]:
    return [
        f"ALTER TABLE reservations DROP CONSTRAINT {_STOCK_OF_RESERVATION}",
        f"ALTER TABLE reservations ADD CONSTRAINT {_STOCK_OF_RESERVATION} FOREIGN KEY "
        "(warehouse_id, product_id, stock_id) REFERENCES stock (warehouse_id, product_id, id)",
    ]


def _by_stock_undone() -> list[str]:
    return [
        f"ALTER TABLE reservations DROP CONSTRAINT {_STOCK_OF_RESERVATION}",
        f"ALTER TABLE reservations ADD CONSTRAINT {_STOCK_OF_RESERVATION} FOREIGN KEY "
        "(stock_id) REFERENCES stock (id)",
    ]


def _install() -> list[str]:
    statements = [
        f"ALTER TABLE {r.table} DROP CONSTRAINT {r.constraint}" for r in (*CHECKED, *BY_STOCK)
    ]
    for reference in CHECKED:
        statements += _checked(reference) + _parent(reference)
    return statements + _by_stock()


def _uninstall() -> list[str]:
    statements = _by_stock_undone()
    for r in CHECKED:
        checked, held = f"{r.table}_{r.column}_exists", f"{r.parent}_held_by_{r.table}"
        statements += [
            f"DROP TRIGGER IF EXISTS {held} ON {r.parent}",
            f"DROP FUNCTION IF EXISTS {held}()",
            f"DROP TRIGGER IF EXISTS {checked}_changed ON {r.table}",
            f"DROP TRIGGER IF EXISTS {checked} ON {r.table}",
            f"DROP FUNCTION IF EXISTS {checked}()",
        ]
    return statements + [
        f"ALTER TABLE {r.table} ADD CONSTRAINT {r.constraint} FOREIGN KEY ({r.column}) "
        f"REFERENCES {r.parent} (id)"
        for r in (*CHECKED, *BY_STOCK)
    ]


def install(connection: sa.Connection) -> None:
    """PostgreSQL: the foreign keys of :data:`REPLACED` give way to the triggers."""
    if connection.dialect.name == "postgresql":
        for statement in _install():
            connection.execute(sa.text(statement))


def uninstall(connection: sa.Connection) -> None:
    """PostgreSQL: the triggers give way to the foreign keys again."""
    if connection.dialect.name == "postgresql":
        for statement in _uninstall():
            connection.execute(sa.text(statement))
