"""E-mail to customers: over SMTP (plain, STARTTLS or TLS, with a login when given), each
message with a plain-text and an HTML part; or written to the log instead."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from potok.domain.notifications import Message
from potok.security.masking import mask_email, mask_phone

log = logging.getLogger("potok.notifications")


class SendFailed(Exception):
    """The provider did not take the message; it may take it later."""


class Sender(Protocol):
    """Something that delivers a message, or raises :class:`SendFailed`."""

    medium: str

    def send(self, message: Message) -> None: ...


class LogSender:
    """Writes each message to the log (the recipient masked) instead of sending it; with a
    ``path``, the whole message is appended to that file too, as the customer would read
    it (the demo's outbox)."""

    def __init__(self, path: str | None = None, medium: str = "email") -> None:
        self.medium = medium
        self.path = path
        self.sent: list[Message] = []
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        self.sent.append(message)
        to = mask_phone(message.to) if message.medium.value == "sms" else mask_email(message.to)
        log.info("message to %s: %s", to, message.subject or message.topic.value)
        if self.path is None:
            return
        entry = (
            f"=== {formatdate(localtime=False)} · {message.medium.value} · to {to} · "
            f"{message.language.value}/{message.topic.value}\n"
            + (f"Subject: {message.subject}\n\n" if message.subject else "")
            + message.text.rstrip()
            + "\n\n"
        )
        try:
            with self._lock, open(self.path, "a", encoding="utf-8") as file:
                file.write(entry)
        except OSError as error:
            raise SendFailed(f"the message log {self.path} cannot be written: {error}") from error


class SmtpSender:
    """One SMTP connection per message: simple, and nothing half-open between rounds."""

    medium = "email"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        security: str = "none",
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 20,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.security = security
        self.username = username
        self.password = password
        self.timeout_s = timeout_s

    def _mail(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="potok")
        mail["Content-Language"] = message.language.value
        mail["Auto-Submitted"] = "auto-generated"  # transactional: no auto-replies
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, message: Message) -> None:
        mail = self._mail(message)
        try:
            context = ssl.create_default_context()
            if self.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout_s, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with client:
                if self.security == "starttls":
                    client.starttls(context=context)
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise SendFailed(f"{type(error).__name__}: {error}"[:500]) from error
