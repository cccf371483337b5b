"""The customer-notification consumer of the outbox: one cursor (``notifications``) over
the events customers hear about; each message is sent outside any transaction, then its
attempt is recorded and the cursor moved in one. A failing provider is tried again with
backoff, in order, until the last attempt (then the message is given up, ``dead``, and
the next one goes); an order's own change never waits for any of it."""

from __future__ import annotations

from dataclasses import dataclass

from potok.connectors.messaging import LogSender, Sender, SendFailed, SmtpSender
from potok.domain.notifications import Language, Outcome
from potok.domain.webhooks import StoredEvent
from potok.services.notifications import Draft, NotificationPolicy, compose
from potok.services.reactions import NOTIFY_CUSTOMERS
from potok.services.unit_of_work import UnitOfWork, reading
from potok.settings import NotificationSettings

CONSUMER = NOTIFY_CUSTOMERS.consumer
TYPES = NOTIFY_CUSTOMERS.types


def policy_from(settings: NotificationSettings) -> NotificationPolicy:
    return NotificationPolicy(
        language=Language(settings.language),
        by_channel={c: Language(v) for c, v in settings.language_by_channel.items()},
        topics_off=frozenset(settings.topics_off),
        channels_off=frozenset(settings.channels_off),
        shop=settings.shop_name,
        tracking_url=settings.tracking_url,
    )


def sender_from(settings: NotificationSettings) -> Sender:
    """SMTP when a host is set, else the log."""
    if not settings.smtp_host:
        return LogSender()
    return SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.sender,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout_s=settings.smtp_timeout_s,
    )


@dataclass(frozen=True, slots=True)
class Tried:
    """One event handled: the draft (None: not for customers) and how sending went."""

    draft: Draft | None
    outcome: Outcome | None  # None: nothing to record (not for customers, sent before)
    error: str | None = None


@dataclass
class Notifier:
    """Composes and sends the message of one event at a time."""

    sender: Sender
    policy: NotificationPolicy
    max_attempts: int
    backoff_s: float
    backoff_max_s: float

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> Notifier:
        return cls(
            sender_from(settings),
            policy_from(settings),
            settings.max_attempts,
            settings.backoff_s,
            settings.backoff_max_s,
        )

    def handle(self, uow: UnitOfWork, event: StoredEvent) -> Tried:
        draft = compose(uow, event, self.policy)
        if draft is None:
            return Tried(None, None)
        if draft.message is None:
            return Tried(draft, Outcome.SKIPPED)
        if reading(uow, lambda uow: uow.notifications.was_sent(event.event_id, self.sender.medium)):
            return Tried(draft, None)  # a repeated round: it went out before
        try:
            self.sender.send(draft.message)  # outside any transaction
        except SendFailed as error:
            return Tried(draft, Outcome.FAILED, str(error))
        return Tried(draft, Outcome.SENT)
