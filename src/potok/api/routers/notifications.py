"""Customer notifications: the log of every message attempt, opt-outs, the message
templates (administrators change them; every version kept) and their previews.

The log spans every channel (it names orders of all of them): limited callers do not see
it. Addresses are masked everywhere.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.schemas.notifications import (
    DraftIn,
    OptOutIn,
    OptOutOut,
    PreferenceIn,
    PreferenceOut,
    PreviewOut,
    SentPageOut,
    SwitchIn,
    SwitchOut,
    TemplateIn,
    TemplateOut,
    TemplateVersionOut,
    TrackingLinkOut,
    render_change,
    render_sent,
    render_switch,
    render_template,
    render_version,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.customers import CustomerNotFound, normalise_phone
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.notifications.templates import TemplateRefused
from potok.domain.orders import OrderNotFound
from potok.security.masking import mask_email, mask_phone
from potok.services import notification_switches as switches
from potok.services import notification_templates as templates
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
    if (body.email is None) == (body.phone is None):
        raise InvalidInput([FieldError("email", "an e-mail address or a phone, one", "one-of")])
    address = (body.email or body.phone or "").strip()
    if body.opted_out:
        changed = service.opt_out(uow, address, caller.actor)
    else:
        changed = service.opt_in(uow, address)
    if body.phone is not None:
        return OptOutOut(
            email=None,
            phone=mask_phone(normalise_phone(address) or address),
            opted_out=body.opted_out,
            changed=changed,
        )
    return OptOutOut(email=mask_email(address), opted_out=body.opted_out, changed=changed)


@router.put(
    "/customers/{customer_id}/notification-preference",
    response_model=PreferenceOut,
    summary="How a customer wants to hear from the shop: e-mail, SMS, both or nothing",
    description="Wins over the shop's default (`POTOK_NOTIFICATIONS__MEDIA`) for every medium "
    "a provider is set up for.",
    responses=responses(InvalidInput, CustomerNotFound),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.UNLIMITED)],
)
def set_preference(
    customer_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: PreferenceIn,
    uow: Uow,
    caller: Caller,
) -> PreferenceOut:
    media = service.set_preference(uow, customer_id, body.media, caller.actor)
    return PreferenceOut(customer_id=customer_id, media=list(media))


MediumName = Annotated[
    Literal["email", "sms"], Query(description="email (subject, text, HTML) or sms (one text)")
]


@router.get(
    "/notification-templates",
    response_model=list[TemplateOut],
    summary="Every message template in force: per topic, language and medium",
    description="An administrator's stored version where there is one, else the shipped "
    "template (version 0).",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def list_templates(uow: Uow) -> list[TemplateOut]:
    return [render_template(t) for t in templates.list_templates(uow)]


@router.get(
    "/notification-templates/{topic}/{language}",
    response_model=PreviewOut,
    summary="The template in force rendered against a sample order",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def preview_template(
    topic: Annotated[TopicName, Path()],
    language: Annotated[Literal["ru", "en"], Path()],
    uow: Uow,
    medium: MediumName = "email",
) -> PreviewOut:
    key = templates.parse_key(topic, language, medium)
    shown = templates.preview_in_force(uow, *key)
    return PreviewOut(
        topic=topic, language=language, subject=shown.subject, text=shown.text, html=shown.html
    )


@router.put(
    "/notification-templates/{topic}/{language}",
    response_model=TemplateOut,
    summary="Change a message template (a new version), or go back to the shipped one",
    description="The template is checked first (parsed in Jinja's sandbox, only the "
    "variables a message has, rendered against a sample order into the parts its medium "
    "needs); a refused one is not stored. Every save is a new version: see `/versions`.",
    responses=responses(InvalidInput, TemplateRefused),
    dependencies=[needs(Permission.NOTIFICATIONS_MANAGE), reach(Reach.NETWORK)],
)
def put_template(
    topic: Annotated[TopicName, Path()],
    language: Annotated[Literal["ru", "en"], Path()],
    body: TemplateIn,
    uow: Uow,
    caller: Caller,
) -> TemplateOut:
    key = templates.parse_key(topic, language, body.medium)
    saved = templates.save_template(uow, *key, body.source, caller.actor)
    return render_template(saved)


@router.post(
    "/notification-templates/{topic}/{language}/preview",
    response_model=PreviewOut,
    summary="A draft template checked and rendered against a sample order (not stored)",
    responses=responses(InvalidInput, TemplateRefused),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def preview_draft(
    topic: Annotated[TopicName, Path()],
    language: Annotated[Literal["ru", "en"], Path()],
    body: DraftIn,
) -> PreviewOut:
    key = templates.parse_key(topic, language, body.medium)
    shown = templates.preview_source(*key, body.source)
    return PreviewOut(
        topic=topic, language=language, subject=shown.subject, text=shown.text, html=shown.html
    )


@router.get(
    "/notification-templates/{topic}/{language}/versions",
    response_model=list[TemplateVersionOut],
    summary="Every stored version of a template, newest first, with who saved it",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def template_versions(
    topic: Annotated[TopicName, Path()],
    language: Annotated[Literal["ru", "en"], Path()],
    uow: Uow,
    medium: MediumName = "email",
) -> list[TemplateVersionOut]:
    key = templates.parse_key(topic, language, medium)
    return [render_version(v) for v in templates.template_history(uow, *key)]


@router.get(
    "/notification-switches",
    response_model=list[SwitchOut],
    summary="Every topic and sales channel with the administrator's on/off switch in force",
    description="`enabled: null`: never switched; the deployment's settings decide.",
    dependencies=[needs(Permission.NOTIFICATIONS_MANAGE), reach(Reach.UNLIMITED)],
)
def list_switches(uow: Uow) -> list[SwitchOut]:
    return [render_switch(s) for s in switches.list_switches(uow)]


@router.put(
    "/notification-switches/{kind}/{code}",
    response_model=SwitchOut,
    summary="Turn a topic's or a sales channel's customer messages on or off",
    description="In force for the next event the notifier handles; a stored `false` wins "
    "over the settings, a stored `true` over `POTOK_NOTIFICATIONS__TOPICS_OFF` / "
    "`CHANNELS_OFF`. Every change is kept with who made it and when. An unknown topic or "
    "channel is `422` naming the ones there are.",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.NOTIFICATIONS_MANAGE), reach(Reach.UNLIMITED)],
)
def put_switch(
    kind: Annotated[Literal["topic", "channel"], Path()],
    code: Annotated[str, Path(min_length=1, max_length=64)],
    body: SwitchIn,
    uow: Uow,
    caller: Caller,
) -> SwitchOut:
    return render_change(switches.set_switch(uow, kind, code, body.enabled, caller.actor))


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
