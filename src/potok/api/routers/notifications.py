"""Customer notifications: the log of every message attempt, opt-outs, template previews.

The log spans every channel (it names orders of all of them): limited callers do not see
it. Addresses are masked everywhere.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.schemas.notifications import (
    OptOutIn,
    OptOutOut,
    PreviewOut,
    SentPageOut,
    TrackingLinkOut,
    render_sent,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.errors import InvalidInput
from potok.domain.notifications import Language, Topic
from potok.domain.orders import OrderNotFound
from potok.security.masking import mask_email
from potok.services import notifications as service
from potok.services import public_tracking

router = APIRouter(prefix="/api/v1", tags=["notifications"])

TopicName = Literal[
    "order_accepted",
    "order_confirmed",
    "order_shipped",
    "ready_for_pickup",
    "order_delivered",
    "order_cancelled",
    "return_received",
    "refund_paid",
]


@router.get(
    "/notifications",
    response_model=SentPageOut,
    summary="Customer message attempts, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def list_notifications(
    uow: Uow,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    outcome: Annotated[
        str | None, Query(max_length=16, description="sent, failed, dead or skipped")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SentPageOut:
    items, next_cursor = service.list_sent(
        uow, order_id=order_id, outcome=outcome, cursor=cursor, limit=limit
    )
    return SentPageOut(items=[render_sent(r) for r in items], next_cursor=next_cursor)


@router.post(
    "/notification-opt-outs",
    response_model=OptOutOut,
    summary="A customer wants no more messages at an address (or wants them again)",
    description="Kept as a keyed hash of the address, never the address itself.",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def opt_out(body: OptOutIn, uow: Uow, caller: Caller) -> OptOutOut:
    if body.opted_out:
        changed = service.opt_out(uow, body.email, caller.actor)
    else:
        changed = service.opt_in(uow, body.email)
    return OptOutOut(
        email=mask_email(body.email.strip()) or "", opted_out=body.opted_out, changed=changed
    )


@router.get(
    "/notification-templates/{topic}/{language}",
    response_model=PreviewOut,
    summary="A message template rendered against a sample order",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def preview_template(
    topic: Annotated[TopicName, Path()], language: Annotated[Literal["ru", "en"], Path()]
) -> PreviewOut:
    subject, text, html = service.preview(Topic(topic), Language(language))
    return PreviewOut(topic=topic, language=language, subject=subject, text=text, html=html)


@router.post(
    "/orders/{order_id}/tracking-link",
    response_model=TrackingLinkOut,
    summary="The order's public tracking page",
    description="The same unguessable token every time (made on first use); the page "
    "`/track/{token}` needs no sign-in and shows no personal data beyond the city and the "
    "customer's first name. Notifications carry the link when `POTOK_NOTIFICATIONS__"
    "TRACKING_URL` is set.",
    responses=responses(OrderNotFound),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.ORDER)],
)
def tracking_link(order_id: Annotated[int, Path(ge=1, le=2**63 - 1)], uow: Uow) -> TrackingLinkOut:
    token = public_tracking.tracking_token(uow, order_id)
    return TrackingLinkOut(token=token, path=f"/track/{token}")
