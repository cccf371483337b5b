"""Ways a message reaches a customer: e-mail over SMTP, or the log (trials, the demo)."""

from potok.connectors.messaging.email import LogSender, Sender, SendFailed, SmtpSender

__all__ = ["LogSender", "SendFailed", "Sender", "SmtpSender"]
