"""Events for systems outside Potok: the change feed (pull) and webhook subscriptions (push)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.schemas.common import Code
from potok.api.schemas.events import (
    DeliveryPageOut,
    FeedOut,
    NewSubscriptionOut,
    ReaderOut,
    ReplayIn,
    ReplayOut,
    SecretRotationIn,
    SecretRotationOut,
    SubscriptionChangeIn,
    SubscriptionIn,
    SubscriptionOut,
    render_delivery,
    render_reader,
    render_replay,
    render_subscription,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs, security_of
from potok.domain.access import Permission
from potok.domain.access.model import OutOfReach
from potok.domain.errors import InvalidInput
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.domain.webhooks import (
    DeliveryOutcome,
    NothingToReplay,
    ReaderInUse,
    ReaderNotFound,
    ReaderOfSubscription,
    SubscriptionNotFound,
    cloud_event,
)
from potok.services import events as event_service

feed = APIRouter(prefix="/api/v1/events", tags=["events"])
webhooks = APIRouter(prefix="/api/v1/webhook-subscriptions", tags=["events"])
readers = APIRouter(prefix="/api/v1/event-readers", tags=["events"])

MAX_WAIT_S = 30
POLL_S = 0.2

SubscriptionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ReaderName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:/-]{1,64}$",
        description="The reader's name, as listed ('nats', 'marketplace-stock/ozon', ...).",
    ),
]


@feed.get(
    "",
    response_model=FeedOut,
    summary="The change feed: events in commit order after a cursor",
    description="Pass the `next_cursor` of the last answer as `after` (start from 0). The "
    "order is the order in which events became visible, so an event that a slower "
    "transaction committed late still comes after the cursor: nothing is ever skipped. "
    "`wait` (seconds) holds the request open until something new arrives.",
    responses=responses(InvalidInput, OutOfReach),
    dependencies=[needs(Permission.EVENTS_READ), reach(Reach.UNLIMITED)],
)
def read_feed(
    request: Request,
    uow: Uow,
    after: Annotated[str, Query(max_length=19, pattern=r"^[0-9]{1,19}$")] = "0",
    type: Annotated[list[Code] | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
) -> Response:
    cursor = min(int(after), 2**63 - 1)
    source = security_of(request).potok.settings.events.source
    deadline = time.monotonic() + wait
    while True:
        page = event_service.read_feed(uow, cursor, types=type or (), limit=limit)
        if page.items or time.monotonic() >= deadline:
            break
        cursor = page.cursor  # past events of other types that came meanwhile
        time.sleep(min(POLL_S, max(deadline - time.monotonic(), 0)))
    return json_response(
        {"items": [cloud_event(e, source) for e in page.items], "next_cursor": str(page.cursor)}
    )


@webhooks.post(
    "",
    status_code=201,
    response_model=NewSubscriptionOut,
    summary="Subscribe a receiver to events (its signing secret is shown once)",
    responses=responses(InvalidInput, OutOfReach, IdempotencyKeyReused),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def subscribe(
    body: SubscriptionIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    allow_private = security_of(request).potok.settings.events.allow_private_addresses

    def render(made: event_service.NewSubscription) -> tuple[int, object]:
        out = NewSubscriptionOut(
            subscription=render_subscription(made.subscription), secret=made.secret
        )
        return 201, out.model_dump(mode="json")

    return answer(
        request,
        "subscribe-webhook",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: event_service.subscribe(
            uow,
            body.url,
            body.event_types,
            caller.actor,
            description=body.description,
            channels=body.channels,
            warehouses=body.warehouses,
            allow_private=allow_private,
            once=once,
        ),
        render,
    )


@webhooks.get(
    "",
    response_model=list[SubscriptionOut],
    summary="Webhook subscriptions and how far each has got",
    responses=responses(OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def list_subscriptions(uow: Uow) -> list[SubscriptionOut]:
    return [render_subscription(s) for s in event_service.list_subscriptions(uow)]


@webhooks.get(
    "/{subscription_id}",
    response_model=SubscriptionOut,
    summary="One webhook subscription",
    responses=responses(SubscriptionNotFound, OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def get_subscription(subscription_id: SubscriptionId, uow: Uow) -> SubscriptionOut:
    return render_subscription(event_service.get_subscription(uow, subscription_id))


@webhooks.patch(
    "/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Change what a subscription receives: event types, channel or warehouse filter",
    description="Checked as when subscribing (a 422 problem names the field). A field left "
    "out stays as it is; an empty `channels` or `warehouses` list drops that filter. The "
    "change holds from the next event the subscription is handed (its cursor stays where "
    "it is) and is kept in the audit trail with what it replaced.",
    responses=responses(SubscriptionNotFound, InvalidInput, OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def change_subscription(
    subscription_id: SubscriptionId, body: SubscriptionChangeIn, uow: Uow
) -> SubscriptionOut:
    return render_subscription(
        event_service.change_subscription(
            uow,
            subscription_id,
            event_types=body.event_types,
            channels=body.channels,
            warehouses=body.warehouses,
        )
    )


@webhooks.delete(
    "/{subscription_id}",
    status_code=204,
    summary="Unsubscribe: deliveries stop, the delivery log goes",
    responses=responses(SubscriptionNotFound, OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def unsubscribe(subscription_id: SubscriptionId, uow: Uow) -> Response:
    event_service.unsubscribe(uow, subscription_id)
    return Response(status_code=204)


@webhooks.post(
    "/{subscription_id}/pause",
    response_model=SubscriptionOut,
    summary="Pause deliveries: events wait behind the subscription's cursor until resumed",
    responses=responses(SubscriptionNotFound, OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def pause(subscription_id: SubscriptionId, uow: Uow, caller: Caller) -> SubscriptionOut:
    return render_subscription(event_service.pause_subscription(uow, subscription_id, caller.actor))


@webhooks.post(
    "/{subscription_id}/resumption",
    response_model=SubscriptionOut,
    summary="Resume deliveries, in order, from where the subscription was paused",
    responses=responses(SubscriptionNotFound, OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def resume(subscription_id: SubscriptionId, uow: Uow) -> SubscriptionOut:
    return render_subscription(event_service.resume_subscription(uow, subscription_id))


@webhooks.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryPageOut,
    summary="The delivery log, newest first ('outcome=dead' lists dead letters)",
    responses=responses(SubscriptionNotFound, InvalidInput, OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def list_deliveries(
    subscription_id: SubscriptionId,
    uow: Uow,
    outcome: DeliveryOutcome | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPageOut:
    page = event_service.list_deliveries(
        uow, subscription_id, outcome=outcome, cursor=cursor, limit=limit
    )
    return DeliveryPageOut(
        items=[render_delivery(d) for d in page.items], next_cursor=page.next_cursor
    )


@webhooks.post(
    "/{subscription_id}/replays",
    status_code=201,
    response_model=ReplayOut,
    summary="Deliver past events again: one event, from a sequence on, or a time range",
    description="The worker delivers the subscription's events of that range again, in "
    "commit order, beside its usual deliveries (which go on). Only what the subscription "
    "takes, and never past where it has got (later events reach it anyway). The attempts "
    "appear in the delivery log with the replay's id; receivers deduplicate by "
    "`webhook-id` as with any repeat.",
    responses=responses(
        SubscriptionNotFound, NothingToReplay, InvalidInput, OutOfReach, IdempotencyKeyReused
    ),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def replay(
    subscription_id: SubscriptionId,
    body: ReplayIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    wanted = event_service.ReplayRange(
        event_id=body.event_id,
        from_position=None if body.from_sequence is None else int(body.from_sequence),
        to_position=None if body.to_sequence is None else int(body.to_sequence),
        since=body.since,
        until=body.until,
    )
    return answer(
        request,
        "replay-webhook",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: event_service.replay_subscription(
            uow, subscription_id, wanted, caller.actor, once=once
        ),
        lambda made: (201, render_replay(made).model_dump(mode="json")),
    )


@webhooks.get(
    "/{subscription_id}/replays",
    response_model=list[ReplayOut],
    summary="The subscription's replays, oldest first, with how far each has got",
    responses=responses(SubscriptionNotFound, OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def list_replays(subscription_id: SubscriptionId, uow: Uow) -> list[ReplayOut]:
    return [render_replay(r) for r in event_service.list_replays(uow, subscription_id)]


@webhooks.post(
    "/{subscription_id}/secret-rotation",
    response_model=SecretRotationOut,
    summary="A new signing secret (shown once); the old one keeps signing for a while",
    description="Until `old_secret_until` every delivery carries two signatures in "
    "`webhook-signature`, one by each secret, so the receiver can switch to the new secret "
    "when it is ready; then only the new one signs.",
    responses=responses(SubscriptionNotFound, InvalidInput, OutOfReach, IdempotencyKeyReused),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def rotate_secret(
    subscription_id: SubscriptionId,
    request: Request,
    uow: Uow,
    caller: Caller,
    body: SecretRotationIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    wanted = body or SecretRotationIn()

    def render(made: event_service.RotatedSecret) -> tuple[int, object]:
        out = SecretRotationOut(
            subscription=render_subscription(made.subscription),
            secret=made.secret,
            old_secret_until=made.old_secret_until,
        )
        return 200, out.model_dump(mode="json")

    return answer(
        request,
        "rotate-webhook-secret",
        caller,
        idempotency_key,
        wanted.model_dump_json(),
        lambda once: event_service.rotate_secret(
            uow,
            subscription_id,
            keep_old_for=timedelta(seconds=wanted.keep_old_for_s),
            once=once,
        ),
        render,
    )


@readers.get(
    "",
    response_model=list[ReaderOut],
    summary="Every reader of the outbox and where it stands, slowest first",
    description="Webhook subscriptions, replays, after-commit reactions, customer messages, "
    "marketplace stock pushes and the NATS stream each read the events with a cursor of "
    "their own. Retention keeps every event after the slowest (`holds_retention`); one "
    "that never moves again (a stream turned off, a connection closed) keeps them for ever "
    "until it is forgotten.",
    responses=responses(OutOfReach),
    dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)],
)
def list_readers(uow: Uow) -> list[ReaderOut]:
    return [render_reader(r) for r in event_service.list_readers(uow)]


@readers.delete(
    "/{name:path}",
    response_model=ReaderOut,
    summary="Forget a reader that no longer moves, so that retention goes on",
    description="Answers where the reader stood. Kept in the audit trail (with `reason`). "
    "A replay's reader ends the replay. Refused (409) for a webhook subscription's own "
    "cursor (unsubscribe instead) and for a reader a worker is moving now. Should the "
    "reader come back (the stream turned on again), it starts from the newest event.",
    responses=responses(ReaderNotFound, ReaderOfSubscription, ReaderInUse, OutOfReach),
    dependencies=[needs(Permission.EVENTS_MANAGE), reach(Reach.UNLIMITED)],
)
def forget_reader(
    name: ReaderName,
    uow: Uow,
    caller: Caller,
    reason: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
) -> ReaderOut:
    return render_reader(event_service.forget_reader(uow, name, caller.actor, reason=reason))
