"""Users, sign-in, sessions and API keys: who may call Potok, proven how."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from potok.domain.access import KEY_SCOPES, ApiKey, Permission, Principal, Role, User
from potok.domain.access.events import (
    ApiKeyCreated,
    ApiKeyRevoked,
    UserChanged,
    UserCreated,
    UserPasswordChanged,
    UserPasswordReset,
    UserSignedIn,
    UserSignedOut,
    UserSignInFailed,
)
from potok.domain.access.model import (
    AccountLocked,
    ApiKeyNotFound,
    BadCredentials,
    UsernameTaken,
    UserNotFound,
    check_password,
)
from potok.domain.channels import ChannelNotFound
from potok.domain.errors import Conflict, FieldError, InvalidInput
from potok.domain.kernel import Actor, ChannelId, Clock, WarehouseId, utc_now
from potok.security.passwords import hash_password, verify_password
from potok.security.tokens import (
    digest,
    new_api_key,
    new_token,
    one_time_password,
    same,
    split_api_key,
)
from potok.services.idempotency import Once, atomically_once
from potok.services.ports import AuditPage
from potok.services.unit_of_work import UnitOfWork, atomically, reading

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
KEY_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    attempts: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the cookie's token and the CSRF token are shown once, here."""

    user: User
    token: str
    csrf_token: str
    expires_at: datetime


class LastAdmin(Conflict):
    code = "last-admin"
    title = "The last administrator must stay"
    template = "'{username}' is the last active administrator; appoint another one first."


class KeyNameTaken(Conflict):
    code = "api-key-name-taken"
    title = "The key name is taken"
    template = "An API key named '{name}' already exists."


# ---------------------------------------------------------------------- users


def create_user(
    uow: UnitOfWork,
    *,
    username: str,
    role: Role,
    actor: Actor,
    display_name: str = "",
    warehouses: Sequence[str] = (),
    clock: Clock = utc_now,
    once: Once[tuple[User, str]] | None = None,
) -> tuple[User, str]:
    """A new user with a one-time password, which must be changed at first sign-in."""
    _check_username(username)
    password = one_time_password()

    def work(uow: UnitOfWork) -> tuple[User, str]:
        if uow.users.get_by_username(username) is not None:
            raise UsernameTaken(username=username)
        warehouse_ids = _warehouse_ids(uow, role, warehouses)
        at = clock()
        record = uow.users.add(
            username=username,
            display_name=display_name.strip(),
            role=role,
            password_hash=hash_password(password),
            must_change_password=True,
            warehouse_ids=warehouse_ids,
            at=at,
        )
        uow.record(
            UserCreated(
                occurred_at=at,
                username=username,
                role=role.value,
                warehouses=list(record.user.warehouses),
            )
        )
        return record.user, password

    return atomically_once(uow, once, work)


def change_user(
    uow: UnitOfWork,
    username: str,
    *,
    actor: Actor,
    role: Role | None = None,
    display_name: str | None = None,
    active: bool | None = None,
    warehouses: Sequence[str] | None = None,
    clock: Clock = utc_now,
) -> User:
    def work(uow: UnitOfWork) -> User:
        record = uow.users.get_by_username(username)
        if record is None:
            raise UserNotFound(username=username)
        user = record.user
        new_role = role or user.role
        stays_admin = new_role is Role.ADMIN and (active if active is not None else user.active)
        leaves_admins = user.role is Role.ADMIN and user.active and not stays_admin
        if leaves_admins and uow.users.count_active_admins() <= 1:
            raise LastAdmin(username=username)
        at = clock()
        values: dict[str, object] = {"role": new_role.value}
        if display_name is not None:
            values["display_name"] = display_name.strip()
        if active is not None:
            values["active"] = active
        uow.users.update(user.id, at, **values)
        if warehouses is not None or new_role is not user.role:
            kept = user.warehouses if new_role is Role.WAREHOUSE else ()
            codes = warehouses if warehouses is not None else kept
            uow.users.set_warehouses(user.id, _warehouse_ids(uow, new_role, codes))
        if active is False:
            uow.sessions.delete_for_user(user.id)
        changed = uow.users.get(user.id)
        assert changed is not None
        uow.record(
            UserChanged(
                occurred_at=at, username=username, before=_view(user), after=_view(changed.user)
            )
        )
        return changed.user

    return atomically(uow, work)


def reset_password(uow: UnitOfWork, username: str, *, actor: Actor, clock: Clock = utc_now) -> str:
    """A new one-time password; the user's sessions end and a lock-out is lifted."""
    password = one_time_password()

    def work(uow: UnitOfWork) -> None:
        record = uow.users.get_by_username(username)
        if record is None:
            raise UserNotFound(username=username)
        at = clock()
        uow.users.update(
            record.user.id,
            at,
            password_hash=hash_password(password),
            must_change_password=True,
            failed_logins=0,
            locked_until=None,
        )
        uow.sessions.delete_for_user(record.user.id)
        uow.record(UserPasswordReset(occurred_at=at, username=username))

    atomically(uow, work)
    return password


def change_password(
    uow: UnitOfWork, user_id: int, current: str, new: str, *, clock: Clock = utc_now
) -> User:
    check_password(new, "new_password")
    if new == current:
        raise InvalidInput(
            [FieldError("new_password", "must differ from the current one", "unchanged")]
        )

    def work(uow: UnitOfWork) -> User:
        record = uow.users.get(user_id)
        if record is None or not verify_password(record.password_hash, current):
            raise BadCredentials()
        at = clock()
        uow.users.update(user_id, at, password_hash=hash_password(new), must_change_password=False)
        uow.record(UserPasswordChanged(occurred_at=at, username=record.user.username))
        changed = uow.users.get(user_id)
        assert changed is not None
        return changed.user

    return atomically(uow, work)


def list_users(uow: UnitOfWork) -> Sequence[User]:
    return reading(uow, lambda uow: uow.users.list())


def get_user(uow: UnitOfWork, username: str) -> User:
    def work(uow: UnitOfWork) -> User:
        record = uow.users.get_by_username(username)
        if record is None:
            raise UserNotFound(username=username)
        return record.user

    return reading(uow, work)


def ensure_first_admin(
    uow: UnitOfWork, *, username: str = "admin", clock: Clock = utc_now
) -> str | None:
    """Create the first administrator if there is none; its one-time password, else None."""
    if reading(uow, lambda uow: uow.users.count_active_admins()) > 0:
        return None
    _, password = create_user(
        uow,
        username=username,
        role=Role.ADMIN,
        actor=Actor.system("init"),
        display_name="Administrator",
        clock=clock,
    )
    return password


def _check_username(username: str) -> None:
    if not USERNAME.fullmatch(username):
        raise InvalidInput(
            [
                FieldError(
                    "username",
                    "use 2-64 lower-case letters, digits, '.', '_' or '-'",
                    "bad-username",
                )
            ]
        )


def _warehouse_ids(uow: UnitOfWork, role: Role, codes: Sequence[str]) -> list[WarehouseId]:
    if role is not Role.WAREHOUSE:
        if codes:
            raise InvalidInput(
                [
                    FieldError(
                        "warehouses",
                        "only warehouse staff are limited to warehouses",
                        "not-applicable",
                    )
                ]
            )
        return []
    if not codes:
        raise InvalidInput(
            [FieldError("warehouses", "warehouse staff need at least one warehouse", "required")]
        )
    found = uow.warehouses.ids_for(list(codes))
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise InvalidInput(
            [
                FieldError("warehouses", f"there is no warehouse '{c}'", "unknown-warehouse")
                for c in unknown
            ]
        )
    return [found[c] for c in codes]


def _view(user: User) -> dict[str, object]:
    return {
        "role": user.role.value,
        "display_name": user.display_name,
        "active": user.active,
        "warehouses": list(user.warehouses),
    }


# ---------------------------------------------------------------------- sign-in and sessions


def sign_in(
    uow: UnitOfWork,
    username: str,
    password: str,
    *,
    policy: LoginPolicy,
    ip: str | None = None,
    user_agent: str | None = None,
    clock: Clock = utc_now,
) -> SignedIn:
    """A session for the right password; failures count, and too many lock the account."""

    def work(uow: UnitOfWork) -> SignedIn | Exception:
        at = clock()
        record = uow.users.get_by_username(username)
        valid = verify_password(record.password_hash if record else None, password)
        if record is None or not record.user.active:
            return BadCredentials()
        user = record.user
        if user.locked(at):
            return AccountLocked(until=user.locked_until.isoformat() if user.locked_until else "")
        if not valid:
            failures = user.failed_logins + 1
            locked_until = at + policy.lockout if failures >= policy.attempts else None
            uow.users.update(
                user.id,
                at,
                failed_logins=0 if locked_until else failures,
                locked_until=locked_until,
            )
            uow.record(
                UserSignInFailed(
                    occurred_at=at,
                    username=username,
                    failures=failures,
                    locked=locked_until is not None,
                )
            )
            if locked_until is not None:
                return AccountLocked(until=locked_until.isoformat())
            return BadCredentials()
        token, csrf = new_token(), new_token()
        expires = at + policy.session
        uow.sessions.add(
            token_hash=digest(token),
            user_id=user.id,
            csrf_hash=digest(csrf),
            at=at,
            expires_at=expires,
            ip=ip,
            user_agent=user_agent,
        )
        uow.users.update(user.id, at, failed_logins=0, locked_until=None, last_login_at=at)
        uow.record(UserSignedIn(occurred_at=at, username=username))
        return SignedIn(user, token, csrf, expires)

    outcome = atomically(uow, work)  # failures are committed too: they count
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def sign_out(uow: UnitOfWork, token: str, *, clock: Clock = utc_now) -> None:
    def work(uow: UnitOfWork) -> None:
        found = uow.sessions.get(digest(token))
        if found is None:
            return
        uow.sessions.delete(found.token_hash)
        record = uow.users.get(found.user_id)
        if record is not None:
            uow.record(UserSignedOut(occurred_at=clock(), username=record.user.username))

    atomically(uow, work)


def session_principal(
    uow: UnitOfWork, token: str, csrf: str | None, *, clock: Clock = utc_now
) -> tuple[Principal, bool] | None:
    """The principal of a session token, and whether ``csrf`` is the session's CSRF token;
    None for an unknown, expired or disabled session."""

    def work(uow: UnitOfWork) -> tuple[Principal, bool] | None:
        found = uow.sessions.get(digest(token))
        if found is None or found.expires_at <= clock():
            return None
        record = uow.users.get(found.user_id)
        if record is None or not record.user.active:
            return None
        csrf_ok = csrf is not None and same(digest(csrf), found.csrf_hash)
        principal = Principal.for_user(
            record.user, record.warehouse_ids, session_id=found.token_hash
        )
        return principal, csrf_ok

    return reading(uow, work)


# ---------------------------------------------------------------------- API keys


def create_api_key(
    uow: UnitOfWork,
    *,
    name: str,
    scopes: Sequence[Permission],
    actor: Actor,
    channel: str | None = None,
    rate_limit_per_minute: int = 600,
    clock: Clock = utc_now,
    once: Once[tuple[ApiKey, str]] | None = None,
) -> tuple[ApiKey, str]:
    """A new key; the secret is returned here once and stored only as a digest."""
    problems = []
    if not KEY_NAME.fullmatch(name):
        problems.append(
            FieldError("name", "use 2-64 lower-case letters, digits, '.', '_' or '-'", "bad-name")
        )
    if not scopes:
        problems.append(FieldError("scopes", "give the key at least one scope", "required"))
    for scope in scopes:
        if scope not in KEY_SCOPES:
            problems.append(
                FieldError("scopes", f"'{scope.value}' cannot be given to a key", "not-a-key-scope")
            )
    if not 1 <= rate_limit_per_minute <= 100_000:
        problems.append(
            FieldError("rate_limit_per_minute", "must be from 1 to 100000", "out-of-range")
        )
    if problems:
        raise InvalidInput(problems)
    secret, prefix, secret_hash = new_api_key()

    def work(uow: UnitOfWork) -> tuple[ApiKey, str]:
        if uow.api_keys.get_by_name(name) is not None:
            raise KeyNameTaken(name=name)
        channel_id: ChannelId | None = None
        if channel is not None:
            ids = uow.channels.ids_for([channel])
            if channel not in ids:
                raise ChannelNotFound(channel=channel)
            channel_id = ids[channel]
        at = clock()
        key = uow.api_keys.add(
            name=name,
            prefix=prefix,
            secret_hash=secret_hash,
            scopes=sorted(set(scopes)),
            channel_id=channel_id,
            rate_limit_per_minute=rate_limit_per_minute,
            at=at,
            created_by=str(actor),
        )
        uow.record(
            ApiKeyCreated(
                occurred_at=at,
                name=name,
                scopes=[s.value for s in key.scopes],
                channel=channel,
                rate_limit_per_minute=rate_limit_per_minute,
            )
        )
        return key, secret

    return atomically_once(uow, once, work)


def revoke_api_key(uow: UnitOfWork, name: str, *, actor: Actor, clock: Clock = utc_now) -> ApiKey:
    def work(uow: UnitOfWork) -> ApiKey:
        found = uow.api_keys.get_by_name(name)
        if found is None:
            raise ApiKeyNotFound(key_id=name)
        at = clock()
        uow.api_keys.revoke(found.key.id, at, str(actor))
        uow.record(ApiKeyRevoked(occurred_at=at, name=name))
        revoked = uow.api_keys.get(found.key.id)
        assert revoked is not None
        return revoked.key

    return atomically(uow, work)


def list_api_keys(uow: UnitOfWork) -> Sequence[ApiKey]:
    return reading(uow, lambda uow: uow.api_keys.list())


def key_principal(uow: UnitOfWork, presented: str) -> tuple[Principal, ApiKey] | None:
    """The principal of an API key, or None when the key is unknown, wrong or revoked."""
    parts = split_api_key(presented)
    if parts is None:
        return None
    prefix, secret = parts

    def work(uow: UnitOfWork) -> tuple[Principal, ApiKey] | None:
        found = uow.api_keys.get_by_prefix(prefix)
        if found is None or found.key.revoked_at is not None:
            return None
        if not same(digest(secret), found.secret_hash):
            return None
        return Principal.for_key(found.key, found.channel_id), found.key

    return reading(uow, work)


def note_key_use(uow: UnitOfWork, key_id: int, *, clock: Clock = utc_now) -> None:
    atomically(uow, lambda uow: uow.api_keys.touch(key_id, clock()))


def audit_trail(
    uow: UnitOfWork,
    *,
    actor: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> AuditPage:
    """The audit trail, newest first, filtered."""
    return reading(
        uow,
        lambda uow: uow.audit.list(
            actor=actor,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        ),
    )
