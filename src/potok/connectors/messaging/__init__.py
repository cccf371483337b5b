"""Ways a message reaches a customer: e-mail over SMTP, SMS and messengers through an HTTP
provider, or the log (trials, the demo)."""

from potok.connectors.messaging.email import LogSender, Sender, SendFailed, SmtpSender
from potok.connectors.messaging.http_provider import HttpSender

__all__ = ["HttpSender", "LogSender", "SendFailed", "Sender", "SmtpSender"]
