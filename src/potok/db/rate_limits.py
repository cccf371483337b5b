"""Per-key rate limits shared by every API process (PostgreSQL): one token bucket per key
in the database, from which each process takes a few tokens at a time.

A process that lets a request through spends a token it took from the key's bucket; when
it has none left it takes the next few in one statement (the bucket refilled for the time
since, at the key's rate, up to its minute's limit). So the processes together never let
more through than the key's limit, and a busy key costs a statement per batch, not per
request. A batch is about a second of the key's rate (1 to 100 tokens); tokens a process
took and did not spend within a second go back to the bucket with its next take.

The statement is its own transaction (no BEGIN or COMMIT around it: one round trip), sent
with numbered parameters on the raw connection, prepared by the driver after a few takes.
"""

from __future__ import annotations

import sqlalchemy as sa

from potok.db.pg import driver, execute_raw, numbered, outside_transaction

_AVAILABLE = (
    "least(%(capacity)s, b.tokens + %(returned)s + greatest(0.0, "
    "CAST(extract(epoch FROM now() - b.refilled_at) AS double precision)) * %(per_second)s)"
)
_GRANTED = f"least(%(wanted)s, floor({_AVAILABLE}))"
_TAKE = numbered(
    """
    INSERT INTO api_key_buckets AS b (key_id, tokens, granted, refilled_at)
    VALUES (%(key_id)s, %(capacity)s - %(first)s, %(first)s, now())
    ON CONFLICT (key_id) DO UPDATE
       SET tokens = {available} - {granted}, granted = {granted}, refilled_at = now()
    RETURNING granted, tokens
""".replace("{granted}", _GRANTED).replace("{available}", _AVAILABLE)
)


def take(
    connection: sa.Connection,
    key_id: int,
    *,
    capacity: float,
    per_second: float,
    wanted: int,
    returned: float = 0.0,
) -> tuple[int, float]:
    """Take up to ``wanted`` whole tokens from the key's bucket, giving back ``returned``
    unspent ones first: how many were granted, and how many are left (a fraction short of
    one says how long until the next). ``connection`` has nothing begun yet."""
    raw = driver(connection)
    with outside_transaction(raw):
        row = execute_raw(
            raw,
            _TAKE,
            {
                "key_id": int(key_id),
                "capacity": float(capacity),
                "per_second": float(per_second),
                "wanted": float(wanted),
                "returned": float(returned),
                "first": min(float(wanted), float(capacity)),
            },
        )
    assert row is not None
    return int(row[0]), float(row[1])
