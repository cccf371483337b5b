"""Administrators turn customer notifications on or off per topic and per sales channel,
at runtime: the newest change of a switch is in force (read by ``notifications.compose``
in its own transaction) and every change is kept with who made it and when. A switch never
changed leaves the deployment's settings to decide."""

from __future__ import annotations

from dataclasses import dataclass

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.notifications import Topic
from potok.domain.notifications.switches import NotificationSwitch, SwitchKind
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class SwitchState:
    """A topic or a channel and its stored switch (None: never changed, the settings
    decide)."""

    kind: SwitchKind
    code: str
    stored: NotificationSwitch | None


def _kind(kind: str) -> SwitchKind:
    if kind not in {k.value for k in SwitchKind}:
        raise InvalidInput([FieldError("kind", "topic or channel", "unknown-kind")])
    return SwitchKind(kind)


def _check_code(uow: UnitOfWork, kind: SwitchKind, code: str) -> None:
    if kind is SwitchKind.TOPIC:
        known = [t.value for t in Topic]
        what = "unknown-topic"
    else:
        known = sorted(c.code for c in uow.channels.list())
        what = "unknown-channel"
    if code not in known:
        allowed = "one of " + ", ".join(known) if known else "a sales channel (none exists)"
        raise InvalidInput([FieldError("code", allowed, what)])


def switch_off_reason(uow: UnitOfWork, topic: str, channel: str) -> str | None:
    """Why a stored switch stops this topic or channel (None: no stored switch is off),
    inside the caller's transaction."""
    stored = uow.notification_switches.current(SwitchKind.TOPIC, topic)
    if stored is not None and not stored.enabled:
        return f"{topic} is turned off by {stored.changed_by}"
    stored = uow.notification_switches.current(SwitchKind.CHANNEL, channel)
    if stored is not None and not stored.enabled:
        return f"channel {channel} is turned off by {stored.changed_by}"
    return None


def switched_on(uow: UnitOfWork, kind: SwitchKind, code: str) -> bool:
    """Whether a stored switch turns this topic or channel on (over the settings)."""
    stored = uow.notification_switches.current(kind, code)
    return stored is not None and stored.enabled


def list_switches(uow: UnitOfWork) -> list[SwitchState]:
    """Every topic, then every sales channel, with its stored switch if any."""

    def work(uow: UnitOfWork) -> list[SwitchState]:
        stored = {(s.kind, s.code): s for s in uow.notification_switches.all_current()}
        found = [
            SwitchState(SwitchKind.TOPIC, t.value, stored.get((SwitchKind.TOPIC, t.value)))
            for t in Topic
        ]
        for channel in sorted(uow.channels.list(), key=lambda c: c.code):
            key = (SwitchKind.CHANNEL, channel.code)
            found.append(SwitchState(SwitchKind.CHANNEL, channel.code, stored.get(key)))
        return found

    return reading(uow, work)


def set_switch(
    uow: UnitOfWork,
    kind: str,
    code: str,
    enabled: bool,
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> NotificationSwitch:
    """Turn a topic's or a channel's notifications on or off (a new change in the
    history, even when it repeats the state in force)."""
    checked = _kind(kind)

    def work(uow: UnitOfWork) -> NotificationSwitch:
        _check_code(uow, checked, code)
        switch = NotificationSwitch(checked, code, enabled, clock(), str(actor))
        uow.notification_switches.add(switch)
        return switch

    return atomically(uow, work)


def switch_history(uow: UnitOfWork, kind: str, code: str) -> list[NotificationSwitch]:
    """Every change of one switch, newest first."""
    checked = _kind(kind)

    def work(uow: UnitOfWork) -> list[NotificationSwitch]:
        _check_code(uow, checked, code)
        return uow.notification_switches.history(checked, code)

    return reading(uow, work)
