"""Signing in and out, the caller's own account, users, API keys, and the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.access import (
    ApiKeyIn,
    ApiKeyOut,
    AuditEntryOut,
    AuditPageOut,
    MeOut,
    NewApiKeyOut,
    NewUserOut,
    OneTimePasswordOut,
    PasswordChangeIn,
    SessionOut,
    SignInIn,
    UserIn,
    UserOut,
    UserPatch,
)
from potok.api.schemas.common import AwareDatetime, KeyName, Username
from potok.api.scope import Reach, reach
from potok.api.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Caller,
    client_ip,
    needs,
    public,
    security_of,
)
from potok.domain.access import ApiKey, Permission, User
from potok.domain.access.model import (
    AccountLocked,
    ApiKeyNotFound,
    BadCredentials,
    OutOfScope,
    UsernameTaken,
    UserNotFound,
)
from potok.domain.errors import InvalidInput
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import access
from potok.services.access import KeyNameTaken, LastAdmin, LoginPolicy

sessions = APIRouter(prefix="/api/v1", tags=["access"])
users = APIRouter(prefix="/api/v1/users", tags=["access"])
keys = APIRouter(prefix="/api/v1/api-keys", tags=["access"])
audit = APIRouter(prefix="/api/v1/audit", tags=["access"])


def _policy(request: Request) -> LoginPolicy:
    settings = security_of(request).potok.settings.security
    return LoginPolicy(
        attempts=settings.login_attempts,
        lockout=timedelta(minutes=settings.lockout_minutes),
        session=timedelta(hours=settings.session_hours),
    )


@sessions.post(
    "/session",
    status_code=201,
    response_model=SessionOut,
    summary="Sign in: a browser session (cookie) and its CSRF token",
    responses=responses(BadCredentials, AccountLocked, InvalidInput),
    dependencies=[public(), reach(Reach.NETWORK)],
)
def sign_in(body: SignInIn, request: Request, response: Response, uow: Uow) -> SessionOut:
    signed = access.sign_in(
        uow,
        body.username,
        body.password.get_secret_value(),
        policy=_policy(request),
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    secure = security_of(request).potok.settings.security.cookie_secure
    max_age = int((signed.expires_at - datetime.now(signed.expires_at.tzinfo)).total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        max_age=max_age,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        signed.csrf_token,
        max_age=max_age,
        httponly=False,
        secure=secure,
        samesite="strict",
        path="/",
    )
    return SessionOut(
        user=UserOut.model_validate(signed.user),
        csrf_token=signed.csrf_token,
        expires_at=signed.expires_at,
        password_change_required=signed.user.must_change_password,
    )


@sessions.delete(
    "/session",
    status_code=204,
    summary="Sign out",
    dependencies=[needs(allow_pending_password=True), reach(Reach.NETWORK)],
)
def sign_out(request: Request, uow: Uow) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        access.sign_out(uow, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@sessions.get(
    "/me",
    response_model=MeOut,
    summary="Who am I, and what may I do?",
    dependencies=[needs(allow_pending_password=True), reach(Reach.NETWORK)],
)
def me(caller: Caller) -> MeOut:
    return MeOut(
        kind=caller.kind.value,
        name=caller.name,
        role=caller.role,
        permissions=sorted(caller.permissions),
        warehouses=list(caller.warehouse_codes),
        channel=caller.channel,
        password_change_required=caller.must_change_password,
    )


@sessions.post(
    "/me/password",
    status_code=204,
    summary="Change my password (the first thing after a one-time password)",
    responses=responses(BadCredentials, InvalidInput),
    dependencies=[needs(allow_pending_password=True), reach(Reach.NETWORK)],
)
def change_password(body: PasswordChangeIn, caller: Caller, uow: Uow) -> Response:
    if caller.user_id is None:
        raise OutOfScope(who=f"key '{caller.name}'", why="has no password to change")
    access.change_password(
        uow,
        caller.user_id,
        body.current_password.get_secret_value(),
        body.new_password.get_secret_value(),
    )
    return Response(status_code=204)


# ---------------------------------------------------------------------- users


@users.get(
    "",
    response_model=list[UserOut],
    summary="All users",
    dependencies=[needs(Permission.USERS_MANAGE), reach(Reach.NETWORK)],
)
def list_users(uow: Uow) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in access.list_users(uow)]


@users.post(
    "",
    status_code=201,
    response_model=NewUserOut,
    summary="Add a user; the answer carries a one-time password",
    responses=responses(InvalidInput, UsernameTaken, IdempotencyKeyReused),
    dependencies=[needs(Permission.USERS_MANAGE), reach(Reach.NETWORK)],
)
def create_user(
    body: UserIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def render(made: tuple[User, str]) -> tuple[int, object]:
        user, password = made
        out = NewUserOut(user=UserOut.model_validate(user), one_time_password=password)
        return 201, out.model_dump(mode="json")

    return answer(
        request,
        "create-user",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: access.create_user(
            uow,
            username=body.username,
            role=body.role,
            actor=caller.actor,
            display_name=body.display_name,
            warehouses=body.warehouses,
            once=once,
        ),
        render,
    )


@users.get(
    "/{username}",
    response_model=UserOut,
    summary="A user",
    responses=responses(UserNotFound),
    dependencies=[needs(Permission.USERS_MANAGE), reach(Reach.NETWORK)],
)
def get_user(username: Username, uow: Uow) -> UserOut:
    return UserOut.model_validate(access.get_user(uow, username))


@users.patch(
    "/{username}",
    response_model=UserOut,
    summary="Change a user's role, name, warehouses, or disable them",
    responses=responses(UserNotFound, InvalidInput, LastAdmin),
    dependencies=[needs(Permission.USERS_MANAGE), reach(Reach.NETWORK)],
)
def change_user(username: Username, body: UserPatch, uow: Uow, caller: Caller) -> UserOut:
    changed = access.change_user(
        uow,
        username,
        actor=caller.actor,
        role=body.role,
        display_name=body.display_name,
        active=body.active,
        warehouses=body.warehouses,
    )
    return UserOut.model_validate(changed)


@users.post(
    "/{username}/password-reset",
    response_model=OneTimePasswordOut,
    summary="A new one-time password for a user (their sessions end, a lock-out is lifted)",
    responses=responses(UserNotFound),
    dependencies=[needs(Permission.USERS_MANAGE), reach(Reach.NETWORK)],
)
def reset_password(username: Username, uow: Uow, caller: Caller) -> OneTimePasswordOut:
    return OneTimePasswordOut(
        one_time_password=access.reset_password(uow, username, actor=caller.actor)
    )


# ---------------------------------------------------------------------- API keys


@keys.get(
    "",
    response_model=list[ApiKeyOut],
    summary="All API keys (never their secrets)",
    dependencies=[needs(Permission.KEYS_MANAGE), reach(Reach.NETWORK)],
)
def list_keys(uow: Uow) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in access.list_api_keys(uow)]


@keys.post(
    "",
    status_code=201,
    response_model=NewApiKeyOut,
    summary="Create an API key; its secret is shown in this answer only",
    responses=responses(InvalidInput, KeyNameTaken, IdempotencyKeyReused),
    dependencies=[needs(Permission.KEYS_MANAGE), reach(Reach.NETWORK)],
)
def create_key(
    body: ApiKeyIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    settings = security_of(request).potok.settings.security

    def render(made: tuple[ApiKey, str]) -> tuple[int, object]:
        key, secret = made
        out = NewApiKeyOut(key=ApiKeyOut.model_validate(key), secret=secret)
        return 201, out.model_dump(mode="json")

    return answer(
        request,
        "create-api-key",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: access.create_api_key(
            uow,
            name=body.name,
            scopes=body.scopes,
            actor=caller.actor,
            channel=body.channel,
            rate_limit_per_minute=body.rate_limit_per_minute or settings.key_rate_limit_per_minute,
            once=once,
        ),
        render,
    )


@keys.delete(
    "/{name}",
    response_model=ApiKeyOut,
    summary="Revoke an API key",
    description="The key is refused at once by this server process and within "
    "`security.key_cache_seconds` (2 s by default) by every other one.",
    responses=responses(ApiKeyNotFound),
    dependencies=[needs(Permission.KEYS_MANAGE), reach(Reach.NETWORK)],
)
def revoke_key(name: KeyName, request: Request, uow: Uow, caller: Caller) -> ApiKeyOut:
    revoked = access.revoke_api_key(uow, name, actor=caller.actor)
    security_of(request).keys.clear()
    return ApiKeyOut.model_validate(revoked)


# ---------------------------------------------------------------------- audit


@audit.get(
    "",
    response_model=AuditPageOut,
    summary="The audit trail, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.AUDIT_READ), reach(Reach.UNLIMITED)],
)
def audit_trail(
    uow: Uow,
    actor: Annotated[str | None, Query(max_length=255, examples=["user:ivanova"])] = None,
    entity_type: Annotated[str | None, Query(max_length=32, examples=["order"])] = None,
    entity_id: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64, examples=["order.cancelled"])] = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPageOut:
    page = access.audit_trail(
        uow,
        actor=actor,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return AuditPageOut(
        items=[AuditEntryOut.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )
