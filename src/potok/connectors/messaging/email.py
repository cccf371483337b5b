"""E-mail to customers: over SMTP (plain, STARTTLS or TLS, with a login when given), each
message with a plain-text and an HTML part; or written to the log instead."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from potok.domain.notifications import Message
from potok.security.masking import mask_email

log = logging.getLogger("potok.notifications")


class SendFailed(Exception):
    """The provider did not take the message; it may take it later."""


class Sender(Protocol):
    """Something that delivers a message, or raises :class:`SendFailed`."""

    medium: str

    def send(self, message: Message) -> None: ...


class LogSender:
    """Writes each message to the log (the recipient masked) instead of sending it."""

    medium = "email"

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)
        log.info("message to %s: %s", mask_email(message.to), message.subject)


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
