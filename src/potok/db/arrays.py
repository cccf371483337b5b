"""Many ids as one parameter on PostgreSQL: the array's text form (``{1,2,3}``, made by
``db/pg.int_array`` / ``text_array``) cast to the array type in the statement.

The parameter must reach the server untyped. Typed as text, SQLAlchemy's psycopg dialect
writes ``CAST(%(ids)s::VARCHAR AS BIGINT[])``: a conversion from ``varchar`` that the
planner cannot fold (an array's input function is only *stable*), so a sequential scan
parses the whole array again for every row it looks at - a window's 100 ids parsed for
each of the table's rows, the statement's CPU growing with the table (on ``order_lines``
of a few hundred rows, 7.7 ms against 1.0 ms). Untyped, the server takes the parameter as
the array itself (``CAST($1 AS BIGINT[])``): parsed once, when it arrives.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

BIGINTS = ARRAY(sa.BigInteger())
TEXTS = ARRAY(sa.Text())


def array_parameter(name: str, kind: ARRAY[Any] = BIGINTS) -> sa.Cast[Any]:
    """The parameter ``name``, given as an array's text form, as an array of ``kind``."""
    return sa.cast(sa.bindparam(name, type_=sa.types.NullType()), kind)
