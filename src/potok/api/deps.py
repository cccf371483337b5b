"""Typed dependencies of the routes: the unit of work, the actor, If-Match."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from potok.bootstrap import Potok
from potok.db.unit_of_work import SqlUnitOfWork
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, ActorKind


async def get_potok(request: Request) -> Potok:
    potok: Potok = request.app.state.potok
    return potok


async def get_uow(potok: Annotated[Potok, Depends(get_potok)]) -> SqlUnitOfWork:
    return potok.uow()


def actor_from(header: str | None) -> Actor:
    """The actor named by the Potok-Actor header; anonymous when absent."""
    name = (header or "").strip()
    if len(name) > 120:
        raise InvalidInput(
            [FieldError("Potok-Actor", "must be at most 120 characters", "too-long")]
        )
    return Actor(ActorKind.API, name or "anonymous")


async def get_actor(
    potok_actor: Annotated[
        str | None,
        Header(
            description="Who acts, as history will show it (e.g. `operator:ivanova`). "
            "Until user accounts exist this is taken on trust. At most 120 characters.",
        ),
    ] = None,
) -> Actor:
    return actor_from(potok_actor)


async def get_expected_version(
    if_match: Annotated[
        str | None,
        Header(description="The order's version (its ETag); a stale one is answered with 412."),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit():
        raise InvalidInput(
            [
                FieldError(
                    "If-Match", 'must be the ETag the order was read with, e.g. "3"', "bad-if-match"
                )
            ]
        )
    return int(text)


Uow = Annotated[SqlUnitOfWork, Depends(get_uow)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
ExpectedVersion = Annotated[int | None, Depends(get_expected_version)]
