"""The customer-notification consumer of the outbox: one cursor (``notifications``) over
the events customers hear about; each message (an e-mail, an SMS, or both, as the customer
chose) is sent outside any transaction, then its attempt is recorded and the cursor moved
in one. A failing provider is tried again with backoff, in order, until the last attempt
(then the message is given up, ``dead``, and the next one goes); a medium that went out
already is not sent again on the retry; an order's own change never waits for any of it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import httpx

from potok.connectors.messaging import HttpSender, LogSender, Sender, SendFailed, SmtpSender
from potok.domain.notifications import Language, Medium, Outcome
from potok.domain.webhooks import StoredEvent
from potok.services.notifications import (
    Composed,
    Draft,
    NotificationPolicy,
    compose,
    compose_window,
)
from potok.services.reactions import NOTIFY_CUSTOMERS
from potok.services.unit_of_work import UnitOfWork, reading
from potok.settings import NotificationSettings

CONSUMER = NOTIFY_CUSTOMERS.consumer
TYPES = NOTIFY_CUSTOMERS.types
COMPOSED_AT_ONCE = 50
"""Events whose messages one transaction composes: a window's orders read together, the
write lock (SQLite) held for no more than a few dozen renderings."""


def policy_from(settings: NotificationSettings) -> NotificationPolicy:
    return NotificationPolicy(
        language=Language(settings.language),
        by_channel={c: Language(v) for c, v in settings.language_by_channel.items()},
        topics_off=frozenset(settings.topics_off),
        channels_off=frozenset(settings.channels_off),
        shop=settings.shop_name,
        tracking_url=settings.tracking_url,
        media=tuple(settings.media),
    )


def sender_from(settings: NotificationSettings) -> Sender:
    """SMTP when a host is set, else the log (or the log file)."""
    if not settings.smtp_host:
        return LogSender(path=settings.log_file)
    return SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.sender,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout_s=settings.smtp_timeout_s,
    )


def short_sender_from(
    settings: NotificationSettings, client: httpx.Client | None = None
) -> Sender | None:
    """The HTTP provider when its address is set; the log file when only that is; else
    none (no SMS)."""
    if settings.sms_url:
        auth = settings.sms_auth_value
        return HttpSender(
            settings.sms_url,
            body_template=settings.sms_body,
            sender=settings.sms_sender,
            auth_header=settings.sms_auth_header,
            auth_value=auth.get_secret_value() if auth else None,
            timeout_s=settings.sms_timeout_s,
            client=client,
        )
    if settings.log_file:
        return LogSender(path=settings.log_file, medium=Medium.SMS.value)
    return None


@dataclass(frozen=True, slots=True)
class Tried:
    """One message of one event: the draft and how sending went."""

    draft: Draft
    outcome: Outcome | None  # None: nothing to record (sent before, in an earlier round)
    error: str | None = None


@dataclass
class Notifier:
    """Composes and sends the messages of one event at a time."""

    sender: Sender
    policy: NotificationPolicy
    max_attempts: int
    backoff_s: float
    backoff_max_s: float
    more: tuple[Sender, ...] = ()  # senders of other media (SMS)
    senders: dict[str, Sender] = field(init=False)

    def __post_init__(self) -> None:
        self.senders = {s.medium: s for s in (self.sender, *self.more)}
        self.policy = replace(self.policy, available=frozenset(self.senders))

    @classmethod
    def from_settings(
        cls, settings: NotificationSettings, client: httpx.Client | None = None
    ) -> Notifier:
        short = short_sender_from(settings, client)
        return cls(
            sender_from(settings),
            policy_from(settings),
            settings.max_attempts,
            settings.backoff_s,
            settings.backoff_max_s,
            more=(short,) if short is not None else (),
        )

    def handle(self, uow: UnitOfWork, event: StoredEvent) -> list[Tried]:
        """Each message of ``event`` tried (none: not for customers)."""
        drafts = compose(uow, event, self.policy)

        def sent_before(uow: UnitOfWork) -> frozenset[Medium]:
            return frozenset(
                d.medium
                for d in drafts
                if d.message is not None
                and uow.notifications.was_sent(event.event_id, d.medium.value)
            )

        return self._send(Composed(drafts, reading(uow, sent_before)))

    def handle_window(
        self, uow: UnitOfWork, events: Sequence[StoredEvent]
    ) -> Iterator[list[Tried]]:
        """:meth:`handle` for each event in turn (the caller may stop after any), their
        messages composed a few dozen events at a time in one transaction; should that
        fail, each of those events is composed alone, so that the ones before the event
        that fails still go."""
        for start in range(0, len(events), COMPOSED_AT_ONCE):
            chunk = events[start : start + COMPOSED_AT_ONCE]
            try:
                composed = compose_window(uow, chunk, self.policy)
            except Exception:  # raised again below, by the event it comes from
                for event in chunk:
                    yield self.handle(uow, event)
                continue
            for each in composed:
                yield self._send(each)

    def _send(self, composed: Composed) -> list[Tried]:
        """Each composed message sent, outside any transaction, unless it went out before."""
        results = []
        for draft in composed.drafts:
            message = draft.message
            if message is None:
                results.append(Tried(draft, Outcome.SKIPPED))
                continue
            if draft.medium in composed.sent_before:
                results.append(Tried(draft, None))  # a repeated round: it went out before
                continue
            try:
                self.senders[draft.medium.value].send(message)
            except SendFailed as error:
                results.append(Tried(draft, Outcome.FAILED, str(error)))
                continue
            results.append(Tried(draft, Outcome.SENT))
        return results
