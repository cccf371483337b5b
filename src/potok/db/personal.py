"""Personal data in the tables: sealed (encrypted) columns and the keyed hashes beside them.

Writers seal values and compute the hashes here, readers open them, and
:class:`PersonalData` seals afresh whatever is not under the current key - values
written under an older key, or in plaintext before encryption was on
(``potok security rotate``).
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from potok.db.tables import customers, idempotency_keys, marketplace_connections, orders
from potok.domain.customers import normalise_name
from potok.domain.orders import Address, Contact
from potok.security.data import PREFIX, DataProtector, SealedUnderMissingKey
from potok.services.read_models import Rewrapped


def seal(protector: DataProtector, value: str | None) -> str | None:
    """The value encrypted; None and the empty string stay as they are (nothing to hide)."""
    return protector.encrypt(value) if value else value


def name_hash(protector: DataProtector, name: str | None) -> str | None:
    """The keyed hash of a full name, whatever its case and spacing; None for no name."""
    key = normalise_name(name) if name else ""
    return protector.index(key) if key else None


def customer_values(
    protector: DataProtector, name: str, phone: str | None, email: str | None
) -> dict[str, Any]:
    """A customer's columns: the data sealed, phone and e-mail also as keyed hashes."""
    return {
        "name": seal(protector, name),
        "phone": seal(protector, phone),
        "email": seal(protector, email),
        "phone_hash": protector.index(phone),
        "email_hash": protector.index(email),
    }


def contact_values(
    protector: DataProtector, contact: Contact, address: Address | None
) -> dict[str, Any]:
    """An order's personal columns: the contact and address lines sealed, three hashes."""
    return {
        "customer_name": seal(protector, contact.name),
        "customer_phone": seal(protector, contact.phone),
        "customer_email": seal(protector, contact.email),
        "customer_name_hash": name_hash(protector, contact.name),
        "customer_phone_hash": protector.index(contact.phone),
        "customer_email_hash": protector.index(contact.email),
        "address_postal_code": seal(protector, address.postal_code) if address else None,
        "address_line1": seal(protector, address.line1) if address else None,
        "address_line2": seal(protector, address.line2) if address else None,
    }


NO_CONTACT: dict[str, Any] = {
    "customer_name": "",
    "customer_phone": None,
    "customer_email": None,
    "customer_name_hash": None,
    "customer_phone_hash": None,
    "customer_email_hash": None,
    "address_postal_code": None,
    "address_line1": None,
    "address_line2": None,
}
"""An order's personal columns once the customer is anonymised."""


UNAVAILABLE = "(unavailable: sealed with key {key_id})"
"""What an export shows for a customer whose data is sealed under a key this process lacks."""


class RecordOpener:
    """Opens one record's sealed values for a list or an export: a value sealed under a key
    this process lacks reads as None and the key is noted, so that one such record is shown
    as unavailable instead of failing the whole list."""

    def __init__(self, protector: DataProtector) -> None:
        self.protector = protector
        self.missing_key: str | None = None

    def __call__(self, stored: str | None) -> str | None:
        try:
            return self.protector.decrypt(stored)
        except SealedUnderMissingKey as error:
            self.missing_key = error.key_id
            return None

    @property
    def personal_data(self) -> str:
        """``available``, or ``unavailable`` when a value could not be opened."""
        return "available" if self.missing_key is None else "unavailable"


def seal_json(protector: DataProtector, data: Any) -> str:
    """JSON data (a stored answer that shows a customer's data) as one sealed string,
    compressed first: an order's answer shrinks from 5.5 KB to under 2 KB, so PostgreSQL
    keeps it in the row instead of moving it out to TOAST. ``bytes`` are JSON encoded
    already (the answer sent is the answer kept, encoded once)."""
    encoded = data if isinstance(data, bytes) else orjson.dumps(data)
    return protector.encrypt_bytes(zlib.compress(encoded, 1))


def open_json(protector: DataProtector, stored: Any) -> Any:
    """What :func:`seal_json` sealed; data stored before encryption comes back as it is,
    and so does JSON sealed uncompressed (before answers were compressed)."""
    if isinstance(stored, str) and stored.startswith(PREFIX + ":"):
        raw = protector.decrypt_bytes(stored)
        return orjson.loads(zlib.decompress(raw) if raw[:1] == _ZLIB else raw)
    return stored


_ZLIB = b"\x78"  # the first byte of a zlib stream; JSON text never starts with "x"


# ---------------------------------------------------------------------- rotation


def _same(value: str) -> str:
    return value


@dataclass(frozen=True, slots=True)
class _Sealed:
    """A table's sealed columns, and its hashes as (hash column, source column, key)."""

    table: sa.Table
    columns: tuple[str, ...]
    hashes: tuple[tuple[str, str, Callable[[str], str]], ...]
    unique_hashes: bool = False


_TABLES: dict[str, _Sealed] = {
    "customers": _Sealed(
        customers,
        ("name", "phone", "email"),
        (("phone_hash", "phone", _same), ("email_hash", "email", _same)),
        unique_hashes=True,
    ),
    "orders": _Sealed(
        orders,
        (
            "customer_name",
            "customer_phone",
            "customer_email",
            "address_postal_code",
            "address_line1",
            "address_line2",
        ),
        (
            ("customer_name_hash", "customer_name", normalise_name),
            ("customer_phone_hash", "customer_phone", _same),
            ("customer_email_hash", "customer_email", _same),
        ),
    ),
    # not personal data, but secrets kept the same way: a marketplace account's token
    "marketplace_connections": _Sealed(marketplace_connections, ("credentials",), ()),
}
_ANSWERS = "idempotency_keys"


class PersonalData:
    """Finds personal data that is not under the current key and seals it afresh."""

    tables = (*_TABLES, _ANSWERS)

    def __init__(self, connection: sa.Connection, protector: DataProtector) -> None:
        self.connection = connection
        self.protector = protector
        self._prefix = f"{PREFIX}:{protector.current_id}:"

    def pending(self) -> int:
        """Rows holding at least one value to seal afresh, in every table."""
        return sum(
            self.connection.execute(
                sa.select(sa.func.count()).select_from(self._table(name)).where(self._stale(name))
            ).scalar_one()
            for name in self.tables
        )

    def rewrap(self, table: str, after_id: int, limit: int) -> Rewrapped:
        """Seal afresh the values of up to ``limit`` such rows after ``after_id`` (locked
        meanwhile) and recompute their hashes."""
        source = self._table(table)
        columns = _TABLES[table].columns if table in _TABLES else ("response",)
        hashes = _TABLES[table].hashes if table in _TABLES else ()
        rows = self.connection.execute(
            sa.select(
                source.c.id, *(source.c[c] for c in columns), *(source.c[h] for h, _, _ in hashes)
            )
            .where(source.c.id > after_id, self._stale(table))
            .order_by(source.c.id)
            .limit(limit)
            .with_for_update()
        ).all()
        if not rows:
            return Rewrapped(0, 0, after_id)
        if table == _ANSWERS:
            changes = [{"b_id": r.id, "response": self._answer(r.response)} for r in rows]
            values = len(changes)
        else:
            changes, values = self._sealed_rows(_TABLES[table], rows)
        if changes:
            names = [name for name in changes[0] if name != "b_id"]
            self.connection.execute(
                sa.update(source)
                .where(source.c.id == sa.bindparam("b_id"))
                .values({name: sa.bindparam(name) for name in names}),
                changes,
            )
        return Rewrapped(len(rows), values, rows[-1].id)

    def _sealed_rows(self, spec: _Sealed, rows: Sequence[Any]) -> tuple[list[dict[str, Any]], int]:
        protector = self.protector
        changes: list[dict[str, Any]] = []
        values = 0
        for row in rows:
            stored = row._mapping
            plain = {c: protector.decrypt(stored[c]) for c in spec.columns}
            change: dict[str, Any] = {"b_id": row.id}
            for column in spec.columns:
                change[column] = stored[column]
                if stored[column] and protector.needs_rewrap(stored[column]):
                    change[column] = protector.encrypt(plain[column])
                    values += 1
            for hash_column, column, key in spec.hashes:
                value = plain[column]
                text = key(value) if value else ""
                change[hash_column] = protector.index(text) if text else None
            changes.append(change)
        if spec.unique_hashes:
            self._keep_unique(spec, rows, changes)
        return changes, values

    def _keep_unique(
        self, spec: _Sealed, rows: Sequence[Any], changes: list[dict[str, Any]]
    ) -> None:
        """A hash another row already has stays off this one: a customer written before
        encryption was on may have been added again since, found by the hash."""
        for hash_column, _, _ in spec.hashes:
            column = spec.table.c[hash_column]
            wanted = sorted({c[hash_column] for c in changes if c[hash_column] is not None})
            taken = set(
                self.connection.execute(sa.select(column).where(column.in_(wanted))).scalars()
                if wanted
                else ()
            )
            for row, change in zip(rows, changes, strict=True):
                value = change[hash_column]
                if value is not None and value != row._mapping[hash_column] and value in taken:
                    change[hash_column] = row._mapping[hash_column]
                if change[hash_column] is not None:
                    taken.add(change[hash_column])

    def _answer(self, stored: Any) -> str:
        return seal_json(self.protector, open_json(self.protector, stored))

    def _table(self, name: str) -> sa.Table:
        if name == _ANSWERS:
            return idempotency_keys
        return _TABLES[name].table

    def _stale(self, name: str) -> sa.ColumnElement[bool]:
        """Rows with a value that is plaintext or under another key."""
        if name == _ANSWERS:
            # stored as a JSON string: its text starts with a quote
            text = sa.cast(idempotency_keys.c.response, sa.Text)
            return sa.func.substr(text, 1, len(self._prefix) + 1) != '"' + self._prefix
        table = _TABLES[name].table
        return sa.or_(
            *(
                sa.and_(
                    table.c[c].is_not(None),
                    table.c[c] != "",
                    sa.func.substr(table.c[c], 1, len(self._prefix)) != self._prefix,
                )
                for c in _TABLES[name].columns
            )
        )


def holds_sealed_data(engine: sa.Engine) -> bool:
    """Whether the database already holds personal data sealed under some key (False for
    a database without the tables yet, or one that cannot be reached to tell)."""
    try:
        with engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
            for spec in _TABLES.values():
                if spec.table.name not in present:
                    continue
                sealed = sa.or_(*(spec.table.c[c].like(f"{PREFIX}:%") for c in spec.columns))
                found = connection.execute(
                    sa.select(sa.literal(1)).select_from(spec.table).where(sealed).limit(1)
                ).first()
                if found is not None:
                    return True
    except sa.exc.OperationalError:
        return False
    return False


# ---------------------------------------------------------------------- keys the data needs


def keys_that_cannot_open(engine: sa.Engine, protector: DataProtector) -> set[str]:
    """The ids of the keys that sealed data in this database and that this process cannot
    open it with: ids it lacks, or ids it has under another key. One value per key id is
    tried; each table is read until no value under a key not yet seen is left."""
    seen: set[str] = set()
    missing: set[str] = set()
    with engine.connect() as connection:
        present = set(sa.inspect(connection).get_table_names())
        for spec in _TABLES.values():
            if spec.table.name not in present:
                continue
            columns = [spec.table.c[c] for c in spec.columns]
            while True:
                row = connection.execute(
                    sa.select(*columns)
                    .where(sa.or_(*(_sealed_under_other_keys(c, seen) for c in columns)))
                    .limit(1)
                ).first()
                if row is None:
                    break
                for value in row:
                    if not (isinstance(value, str) and value.startswith(PREFIX + ":")):
                        continue
                    key_id = value.split(":", 2)[1]
                    if key_id in seen:
                        continue
                    seen.add(key_id)
                    if not protector.opens(value):
                        missing.add(key_id)
    return missing


def _sealed_under_other_keys(column: sa.Column[Any], seen: set[str]) -> sa.ColumnElement[bool]:
    return sa.and_(
        column.like(f"{PREFIX}:%"), *(column.not_like(f"{PREFIX}:{k}:%") for k in sorted(seen))
    )


class KeyCheck:
    """Whether this process holds every key the sealed data needs, for readiness: the
    database is read at most once per ``every_s`` seconds, and a value a request failed to
    open counts at once."""

    def __init__(self, engine: sa.Engine, protector: DataProtector, every_s: float) -> None:
        self.engine = engine
        self.protector = protector
        self.every_s = every_s
        self._found: set[str] = set()
        self._at: float | None = None
        self._lock = threading.Lock()

    def missing(self) -> list[str]:
        """The key ids the data needs and this process lacks, sorted."""
        with self._lock:
            now = time.monotonic()
            if self._at is None or now - self._at >= self.every_s:
                self._found = keys_that_cannot_open(self.engine, self.protector)
                self._at = now
            return sorted(self._found | self.protector.unreadable)
