"""``potok users``, ``potok keys`` and ``potok init``: who may call Potok, from the shell.

Every change is made as ``cli:<user>`` and written to the audit trail with ``via=cli``.
Secrets (one-time passwords, API keys) are printed once and never stored in the clear.
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from potok.cli.common import cli_actor, cli_uow, console, handles_errors, open_potok
from potok.domain.access import KEY_SCOPES, Permission, Role
from potok.services import access

users = typer.Typer(
    help="Users: create, list, change role, disable/enable, reset passwords.",
    no_args_is_help=True,
)
keys = typer.Typer(help="API keys: create (secret shown once), list, revoke.", no_args_is_help=True)


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def show_secret(label: str, secret: str) -> None:
    """A secret on a line of its own, unwrapped, so that it can be copied whole."""
    console.print(f"{label}: [bold]{secret}[/]", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------- init


@handles_errors
def init(
    username: str = typer.Option("admin", help="Name of the first administrator."),
) -> None:
    """Create the first administrator if there is none, and print its one-time password."""
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
    username: str = typer.Argument(..., help="Lower-case letters, digits, '.', '_' or '-'."),
    role: Role = typer.Option(..., "--role", "-r", help="What the user may do."),
    name: str = typer.Option("", "--name", help="Display name."),
    warehouse: list[str] = typer.Option(
        [], "--warehouse", "-w", help="For warehouse staff: a location code; repeat for several."
    ),
) -> None:
    """Add a user; prints a one-time password, which they must change at first sign-in."""
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
def list_users() -> None:
    """Every user as a table."""
    potok = open_potok()
    try:
        found = access.list_users(cli_uow(potok))
    finally:
        potok.close()
    table = Table("user", "name", "role", "warehouses", "state", "created", "last sign-in")
    now = datetime.now().astimezone()
    for user in found:
        if not user.active:
            state = "[dim]disabled[/]"
        elif user.locked(now):
            state = f"[red]locked until {_when(user.locked_until)}[/]"
        elif user.must_change_password:
            state = "[yellow]one-time password[/]"
        else:
            state = "[green]active[/]"
        table.add_row(
            user.username,
            user.display_name,
            user.role.value,
            ", ".join(user.warehouses),
            state,
            _when(user.created_at),
            _when(user.last_login_at),
        )
    console.print(table)


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
    name: str = typer.Argument(..., help="Lower-case letters, digits, '.', '_' or '-'."),
    scope: list[Permission] = typer.Option(
        ..., "--scope", "-s", help="A permission the key carries; repeat for several."
    ),
    channel: str | None = typer.Option(
        None, "--channel", "-c", help="Bind the key to one channel: it takes only its orders."
    ),
    rate_limit: int | None = typer.Option(
        None,
        "--rate-limit",
        help="Requests per minute [default: POTOK_SECURITY__KEY_RATE_LIMIT_PER_MINUTE, 600].",
        min=1,
    ),
) -> None:
    """Create an API key and print its secret - once."""
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
def list_keys() -> None:
    """Every API key as a table (never the secrets)."""
    potok = open_potok()
    try:
        found = access.list_api_keys(cli_uow(potok))
    finally:
        potok.close()
    table = Table(
        "key", "prefix", "scopes", "channel", "per minute", "created", "by", "last used", "state"
    )
    for key in found:
        table.add_row(
            key.name,
            f"pk_{key.prefix}_…",
            "every business scope" if set(key.scopes) == KEY_SCOPES else " ".join(key.scopes),
            key.channel or "",
            str(key.rate_limit_per_minute),
            _when(key.created_at),
            key.created_by,
            _when(key.last_used_at),
            f"[dim]revoked {_when(key.revoked_at)}[/]" if key.revoked_at else "[green]active[/]",
        )
    console.print(table)


@keys.command("revoke")
@handles_errors
def revoke_key(name: str = typer.Argument(...)) -> None:
    """Revoke an API key at once (in every process)."""
    potok = open_potok()
    try:
        key = access.revoke_api_key(cli_uow(potok), name, actor=cli_actor())
    finally:
        potok.close()
    console.print(f"revoked API key '{key.name}'")
