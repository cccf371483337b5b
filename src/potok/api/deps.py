"""Typed dependencies of the routes: the unit of work, the acting principal, If-Match."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from potok.api.security import current, uow_for
from potok.db.unit_of_work import SqlUnitOfWork
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor


async def get_uow(request: Request) -> SqlUnitOfWork:
    """A unit of work whose audit trail names the caller (after the route's requirement)."""
    uow: SqlUnitOfWork = uow_for(request, getattr(request.state, "principal", None))
    return uow


async def get_actor(request: Request) -> Actor:
    return current(request).actor


IF_MATCH_PATTERN = r'^ *(\*|(?:W/)?"?([0-9]{1,18})"?) *$'
"""An order's ETag as it was read ("3", W/"3" or 3), or * for any version."""
_IF_MATCH = re.compile(IF_MATCH_PATTERN)


async def get_expected_version(
    if_match: Annotated[
        str | None,
        Header(
            max_length=64,
            json_schema_extra={"pattern": IF_MATCH_PATTERN},  # checked below, with our code
            description="The order's version (its ETag); a stale one is answered with 412.",
        ),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    match = _IF_MATCH.match(if_match)
    if match is None:
        raise InvalidInput(
            [
                FieldError(
                    "If-Match", 'must be the ETag the order was read with, e.g. "3"', "bad-if-match"
                )
            ]
        )
    return None if match.group(1) == "*" else int(match.group(2))


Uow = Annotated[SqlUnitOfWork, Depends(get_uow)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
ExpectedVersion = Annotated[int | None, Depends(get_expected_version)]
