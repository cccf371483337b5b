"""Settings for administrators: locations, channels, users, API keys, routing, tariffs,
webhooks, the customer message templates and the overdue thresholds.

Each tab reads through the service the API's GET route uses, behind the same permission;
its forms send changes to the API (users, keys, warehouses, channels, rules, tariffs).
"""

from __future__ import annotations

import json
import math
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import KEY_SCOPES, Permission, Role
from potok.domain.access.model import NotPermitted
from potok.domain.notifications import Language, Topic
from potok.domain.notifications.templates import Medium
from potok.domain.orders import PaymentMethod
from potok.domain.webhooks.catalogue import event_kinds
from potok.services import access, catalogue
from potok.services import events as event_service
from potok.services import live as live_service
from potok.services import sourcing as sourcing_service
from potok.services.tariff_files import HEADER
from potok.web.pages import PageRoute, console_uow, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TABS: list[tuple[str, Permission]] = [
    ("warehouses", Permission.CATALOGUE_READ),
    ("channels", Permission.CATALOGUE_READ),
    ("users", Permission.USERS_MANAGE),
    ("keys", Permission.KEYS_MANAGE),
    ("routing", Permission.SOURCING_READ),
    ("tariffs", Permission.SOURCING_READ),
    ("webhooks", Permission.WEBHOOKS_MANAGE),
    ("notifications", Permission.ORDERS_READ),
    ("overdue", Permission.ORDERS_READ),
]


RECENT_DELIVERIES = 10
RECENT_REPLAYS = 5
GRACES = (0, 3600, 86_400, 7 * 86_400)
"""How long the old signing secret may keep signing after a rotation: the choices offered."""


def _tabs(caller: Caller) -> list[str]:
    return [name for name, permission in TABS if caller.may(permission)]


def _page(request: Request, caller: Caller, tab: str, context: dict[str, object]) -> Response:
    return render(request, f"settings/{tab}.html", {"tab": tab, "tabs": _tabs(caller), **context})


@router.get("/settings", dependencies=[needs(), reach(Reach.NETWORK)])
def settings_home(caller: Caller) -> Response:
    tabs = _tabs(caller)
    if not tabs:
        raise NotPermitted(who=f"user '{caller.name}'", permission=Permission.CATALOGUE_READ.value)
    return RedirectResponse(f"/settings/{tabs[0]}", status_code=303)


@router.get(
    "/settings/warehouses", dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.NETWORK)]
)
def warehouses(request: Request, caller: Caller) -> Response:
    found = catalogue.list_warehouses(console_uow(request))
    return _page(request, caller, "warehouses", {"warehouses": found})


@router.get(
    "/settings/channels", dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.LISTED)]
)
def channels(request: Request, caller: Caller) -> Response:
    found = [
        c for c in catalogue.list_channels(console_uow(request)) if caller.channel in (None, c.code)
    ]
    return _page(
        request, caller, "channels", {"channels": found, "payment_methods": list(PaymentMethod)}
    )


@router.get("/settings/users", dependencies=[needs(Permission.USERS_MANAGE), reach(Reach.NETWORK)])
def users(request: Request, caller: Caller) -> Response:
    found = access.list_users(console_uow(request))
    return _page(request, caller, "users", {"users": found, "roles": list(Role)})


@router.get("/settings/keys", dependencies=[needs(Permission.KEYS_MANAGE), reach(Reach.NETWORK)])
def keys(request: Request, caller: Caller) -> Response:
    found = access.list_api_keys(console_uow(request))
    return _page(request, caller, "keys", {"keys": found, "scopes": sorted(KEY_SCOPES)})


@router.get(
    "/settings/routing", dependencies=[needs(Permission.SOURCING_READ), reach(Reach.UNLIMITED)]
)
def routing(
    request: Request,
    caller: Caller,
    channel: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    uow = console_uow(request)
    codes = (
        [c.code for c in catalogue.list_channels(uow)]
        if caller.may(Permission.CATALOGUE_READ)
        else []
    )
    chosen = channel or "default"
    found = sourcing_service.get_rules(uow, chosen)
    return _page(
        request,
        caller,
        "routing",
        {
            "channels": codes,
            "chosen": chosen,
            "rules": found,
            "rules_json": json.dumps(found.rules, ensure_ascii=False, indent=2, sort_keys=True),
        },
    )


@router.get(
    "/settings/tariffs", dependencies=[needs(Permission.SOURCING_READ), reach(Reach.NETWORK)]
)
def tariffs(request: Request, caller: Caller) -> Response:
    version, found = sourcing_service.list_tariffs(console_uow(request))
    return _page(
        request,
        caller,
        "tariffs",
        {"version": version, "tariffs": found, "inf": math.inf, "header": HEADER},
    )


@router.get(
    "/settings/webhooks", dependencies=[needs(Permission.WEBHOOKS_MANAGE), reach(Reach.UNLIMITED)]
)
def webhooks(request: Request, caller: Caller) -> Response:
    """Subscriptions with their filters, how far each has got, its latest delivery attempts
    and its replays; forms to replay past events, rotate the signing secret, subscribe."""
    uow = console_uow(request)
    found = [
        (
            s,
            event_service.list_deliveries(uow, s.id, limit=RECENT_DELIVERIES).items,
            event_service.list_replays(uow, s.id)[-RECENT_REPLAYS:],
        )
        for s in event_service.list_subscriptions(uow)
    ]
    kinds = event_kinds()
    return _page(
        request,
        caller,
        "webhooks",
        {
            "subscriptions": found,
            "head": live_service.feed_head(uow),
            "types": [k.type for k in kinds],
            "aggregates": sorted({k.aggregate for k in kinds}),
            "channels": [c.code for c in catalogue.list_channels(uow)],
            "locations": [w.code for w in catalogue.list_warehouses(uow)],
            "graces": GRACES,
        },
    )


@router.get(
    "/settings/notifications",
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)],
)
def notification_templates(
    request: Request,
    caller: Caller,
    topic: Annotated[str, Query(max_length=32)] = "order_shipped",
    language: Annotated[str, Query(max_length=2)] = "ru",
    medium: Annotated[str, Query(max_length=16)] = "email",
) -> Response:
    """One message template in force, its history, and a form to preview and save a draft
    (administrators); the list of every template and which ones are changed."""
    from potok.services import notification_templates as templates

    uow = console_uow(request)
    key = templates.parse_key(topic, language, medium)
    found = templates.template_in_force(uow, *key)
    return _page(
        request,
        caller,
        "notifications",
        {
            "chosen": found,
            "history": templates.template_history(uow, *key),
            "changed": [t for t in templates.list_templates(uow) if t.overridden],
            "topics": [t.value for t in Topic],
            "languages": [v.value for v in Language],
            "media": [m.value for m in Medium],
        },
    )


@router.get("/settings/overdue", dependencies=[needs(Permission.ORDERS_READ), reach(Reach.NETWORK)])
def overdue_thresholds(request: Request, caller: Caller) -> Response:
    """Each warehouse stage's overdue threshold with its history, and a form to change it
    (administrators)."""
    from potok.domain.fulfilment.overdue import MAX_MINUTES, MIN_MINUTES
    from potok.services import overdue_thresholds as thresholds

    uow = console_uow(request)
    found = [
        (t, thresholds.threshold_history(uow, t.stage)) for t in thresholds.list_thresholds(uow)
    ]
    return _page(
        request,
        caller,
        "overdue",
        {"thresholds": found, "least": MIN_MINUTES, "most": MAX_MINUTES},
    )
