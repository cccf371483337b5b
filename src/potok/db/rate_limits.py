"""Per-key rate limits shared by every API process (PostgreSQL): one token bucket per key
in the database, from which each process takes a few tokens at a time.

A process that lets a request through spends a token it took from the key's bucket; when
it has none left it takes the next few in one statement (the bucket refilled for the time
since, at the key's rate, up to its minute's limit). So the processes together never let
more through than the key's limit, and a busy key costs a statement per batch, not per
request. A batch is about a second of the key's rate (1 to 100 tokens); tokens a process
took and did not spend within a second go back to the bucket with its next take.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from potok.db.tables import api_key_buckets

_B = api_key_buckets.c


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
    one says how long until the next)."""
    elapsed = sa.func.greatest(0.0, sa.extract("epoch", sa.func.now() - _B.refilled_at))
    available = sa.func.least(capacity, _B.tokens + returned + elapsed * per_second)
    granted = sa.func.least(float(wanted), sa.func.floor(available))
    first = min(float(wanted), capacity)
    statement = (
        postgresql.insert(api_key_buckets)
        .values(key_id=key_id, tokens=capacity - first, granted=first, refilled_at=sa.func.now())
        .on_conflict_do_update(
            index_elements=[_B.key_id],
            set_={
                "tokens": available - granted,
                "granted": granted,
                "refilled_at": sa.func.now(),
            },
        )
        .returning(_B.granted, _B.tokens)
    )
    row = connection.execute(statement).one()
    return int(row.granted), float(row.tokens)
