"""``potok users``, ``potok keys`` and ``potok init``: who may call Potok, from the shell.

Every change is made as ``cli:<user>`` and written to the audit trail with ``via=cli``.
Secrets (one-time passwords, API keys) are printed once and never stored in the clear.
"""

from __future__ import annotations

from datetime import datetime

import typer

from potok.cli.common import (
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    handles_errors,
    open_potok,
    print_listing,
    when,
)
from potok.domain.access import KEY_SCOPES, Permission, Role

users = typer.Typer(
    help="Users: create, list, change role, disable/enable, reset passwords.",
    no_args_is_help=True,
)
keys = typer.Typer(help="API keys: create (secret shown once), list, revoke.", no_args_is_help=True)

NAME_RULE = "2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."
USER_STATES = {
    "active": "[green]active[/]",
    "disabled": "[dim]disabled[/]",
    "locked": "[red]locked[/]",
    "one_time_password": "[yellow]one-time password[/]",
}


def show_secret(label: str, secret: str) -> None:
    """A secret on a line of its own, unwrapped, so that it can be copied whole."""
    console.print(f"{label}: [bold]{secret}[/]", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------- init


@handles_errors
def init(
    username: str = typer.Option("admin", help="Name of the first administrator."),
) -> None:
    """Create the first administrator if there is none, and print its one-time password."""
    from potok.services import access

    potok = open_potok()
    try:
        password = access.ensure_first_admin(cli_uow(potok), username=username)
    finally:
        potok.close()
    if password is None:
        console.print("an active administrator already exists; nothing to do")
        return
    console.print(f"created the first administrator '{username}'")
    show_secret("one-time password", password)
    console.print(
        "[yellow]it is shown only now[/]; sign in with it (POST /api/v1/session) and set a "
        "password of your own"
    )


# ---------------------------------------------------------------------- users


@users.command("create")
@handles_errors
def create_user(
    username: str = typer.Argument(..., help=NAME_RULE),
    role: Role = typer.Option(..., "--role", "-r", help="What the user may do."),
    name: str = typer.Option("", "--name", help="Display name."),
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="For warehouse staff: a location code; repeat for several."
    ),
) -> None:
    """Add a user; prints a one-time password, which they must change at first sign-in."""
    from potok.services import access

    potok = open_potok()
    try:
        user, password = access.create_user(
            cli_uow(potok),
            username=username,
            role=role,
            actor=cli_actor(),
            display_name=name,
            warehouses=warehouse,
        )
    finally:
        potok.close()
    where = f" at {', '.join(user.warehouses)}" if user.warehouses else ""
    console.print(f"created user '{user.username}' ({user.role.value}{where})")
    show_secret("one-time password", password)
    console.print("[yellow]it is shown only now[/]; the user must change it at first sign-in")


@users.command("list")
@handles_errors
def list_users(output: Output = OUTPUT) -> None:
    """Every user: role, warehouses, state, when created and last signed in."""
    from potok.services import access

    potok = open_potok()
    try:
        found = access.list_users(cli_uow(potok))
    finally:
        potok.close()
    now = datetime.now().astimezone()
    rows = []
    for user in found:
        if not user.active:
            state = "disabled"
        elif user.locked(now):
            state = "locked"
        elif user.must_change_password:
            state = "one_time_password"
        else:
            state = "active"
        rows.append(
            {
                "username": user.username,
                "display_name": user.display_name,
                "role": user.role,
                "warehouses": list(user.warehouses),
                "state": state,
                "locked_until": user.locked_until if state == "locked" else None,
                "created_at": user.created_at,
                "last_login_at": user.last_login_at,
            }
        )
    columns = [
        Column("username", "user"),
        Column("display_name", "name"),
        Column("role"),
        Column("warehouses"),
        Column("state", show=USER_STATES.__getitem__),
        Column("locked_until", "locked until"),
        Column("created_at", "created"),
        Column("last_login_at", "last sign-in"),
    ]
    print_listing(rows, columns, output)


@users.command("set-role")
@handles_errors
def set_role(
    username: str = typer.Argument(...),
    role: Role = typer.Argument(..., help="The new role."),
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="For warehouse staff: a location code; repeat for several."
    ),
) -> None:
    """Give a user another role (the last active administrator keeps theirs)."""
    from potok.services import access

    potok = open_potok()
    try:
        user = access.change_user(
            cli_uow(potok),
            username,
            actor=cli_actor(),
            role=role,
            warehouses=warehouse or None,
        )
    finally:
        potok.close()
    where = f" at {', '.join(user.warehouses)}" if user.warehouses else ""
    console.print(f"'{user.username}' is now {user.role.value}{where}")


def _set_active(username: str, active: bool) -> None:
    from potok.services import access

    potok = open_potok()
    try:
        user = access.change_user(cli_uow(potok), username, actor=cli_actor(), active=active)
    finally:
        potok.close()
    if user.active:
        console.print(f"'{user.username}' may sign in again")
    else:
        console.print(f"'{user.username}' is disabled; their sessions have ended")


@users.command("disable")
@handles_errors
def disable(username: str = typer.Argument(...)) -> None:
    """Stop a user from signing in and end their sessions."""
    _set_active(username, False)


@users.command("enable")
@handles_errors
def enable(username: str = typer.Argument(...)) -> None:
    """Let a disabled user sign in again."""
    _set_active(username, True)


@users.command("reset-password")
@handles_errors
def reset_password(username: str = typer.Argument(...)) -> None:
    """A new one-time password for a user; their sessions end and a lock-out is lifted."""
    from potok.services import access

    potok = open_potok()
    try:
        password = access.reset_password(cli_uow(potok), username, actor=cli_actor())
    finally:
        potok.close()
    console.print(f"the password of '{username}' was reset")
    show_secret("one-time password", password)
    console.print("[yellow]it is shown only now[/]; the user must change it at first sign-in")


# ---------------------------------------------------------------------- API keys


@keys.command("create")
@handles_errors
def create_key(
    name: str = typer.Argument(..., help=NAME_RULE),
    scope: list[Permission] = typer.Option(
        ...,
        "--scope",
        "-s",
        metavar="SCOPE",
        show_choices=False,
        help="A permission the key carries; repeat for several. One of: "
        + ", ".join(sorted(KEY_SCOPES))
        + ".",
    ),
    channel: str | None = typer.Option(
        None, "--channel", "-c", help="Bind the key to one channel: it takes only its orders."
    ),
    rate_limit: int | None = typer.Option(
        None,
        "--rate-limit",
        help="Requests per minute.",
        show_default="POTOK_SECURITY__KEY_RATE_LIMIT_PER_MINUTE, 600",
        min=1,
        max=100_000,
    ),
) -> None:
    """Create an API key and print its secret - once."""
    from potok.services import access

    potok = open_potok()
    try:
        key, secret = access.create_api_key(
            cli_uow(potok),
            name=name,
            scopes=scope,
            actor=cli_actor(),
            channel=channel,
            rate_limit_per_minute=rate_limit or potok.settings.security.key_rate_limit_per_minute,
        )
    finally:
        potok.close()
    bound = f", channel {key.channel}" if key.channel else ""
    console.print(
        f"created API key '{key.name}' ({', '.join(key.scopes)}{bound}; "
        f"{key.rate_limit_per_minute} requests a minute)"
    )
    show_secret("secret", secret)
    console.print(
        "[yellow]warning:[/] the secret will not be shown again - store it now. Send it as "
        "'Authorization: Bearer <secret>'."
    )


@keys.command("list")
@handles_errors
def list_keys(output: Output = OUTPUT) -> None:
    """Every API key: scopes, channel, rate limit, use and state (never the secrets)."""
    from potok.services import access

    potok = open_potok()
    try:
        found = access.list_api_keys(cli_uow(potok))
    finally:
        potok.close()
    rows = [
        {
            "name": key.name,
            "prefix": key.prefix,
            "scopes": list(key.scopes),
            "channel": key.channel,
            "rate_limit_per_minute": key.rate_limit_per_minute,
            "created_at": key.created_at,
            "created_by": key.created_by,
            "last_used_at": key.last_used_at,
            "revoked_at": key.revoked_at,
            "state": "revoked" if key.revoked_at else "active",
            "shown_state": f"[dim]revoked {when(key.revoked_at)}[/]"
            if key.revoked_at
            else "[green]active[/]",
        }
        for key in found
    ]
    columns = [
        Column("name", "key"),
        Column("prefix", show=lambda prefix: f"pk_{prefix}_…"),
        Column(
            "scopes",
            show=lambda scopes: (
                "every business scope" if set(scopes) == KEY_SCOPES else " ".join(scopes)
            ),
        ),
        Column("channel"),
        Column("rate_limit_per_minute", "per minute", right=True),
        Column("created_at", "created"),
        Column("created_by", "by"),
        Column("last_used_at", "last used"),
        Column("revoked_at", table=False),
        Column("state", table=False),
        Column("shown_state", "state", data=False, show=str),
    ]
    print_listing(rows, columns, output)


@keys.command("revoke")
@handles_errors
def revoke_key(name: str = typer.Argument(...)) -> None:
    """Revoke an API key at once (in every process)."""
    from potok.services import access

    potok = open_potok()
    try:
        key = access.revoke_api_key(cli_uow(potok), name, actor=cli_actor())
    finally:
        potok.close()
    console.print(f"revoked API key '{key.name}'")
