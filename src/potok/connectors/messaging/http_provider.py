"""SMS and messenger messages through a generic HTTP provider: one JSON POST per message,
its body built from a template the operator writes in the provider's own shape.

The body template is a JSON document whose strings may hold placeholders - ``{to}`` (the
number, ``+79161234567``), ``{text}``, ``{sender}``, ``{message_id}`` (the outbox event id,
for the provider to deduplicate), ``{topic}``, ``{language}`` - filled in each string
after parsing, so that a quote or a line break in the text never breaks the JSON. Any 2xx
answer is taken as accepted; anything else, or no answer, is a failure tried again later.
Phone numbers never reach the log unmasked.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx

from potok.connectors.messaging.email import SendFailed
from potok.domain.notifications import Message
from potok.security.masking import mask_phone

log = logging.getLogger("potok.notifications")

PLACEHOLDERS = ("to", "text", "sender", "message_id", "topic", "language")
DEFAULT_BODY = '{"to": "{to}", "text": "{text}", "sender": "{sender}", "id": "{message_id}"}'
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
ANSWER_KEPT = 200


def check_body_template(template: str) -> None:
    """Raise ValueError unless ``template`` is a JSON object using known placeholders."""
    try:
        parsed = json.loads(template)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise ValueError("the body must be a JSON object")
    unknown = set(_PLACEHOLDER.findall(template)) - set(PLACEHOLDERS)
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{sorted(unknown)[0]}}}; known: "
            + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        )


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


class HttpSender:
    """Posts each message to the provider; the client is shared with the dispatcher's
    other outside calls and is never used inside a transaction."""

    medium = "sms"

    def __init__(
        self,
        url: str,
        *,
        body_template: str = DEFAULT_BODY,
        sender: str = "",
        auth_header: str = "Authorization",
        auth_value: str | None = None,
        timeout_s: float = 10,
        client: httpx.Client | None = None,
    ) -> None:
        check_body_template(body_template)
        self.url = url
        self.template = json.loads(body_template)
        self.sender = sender
        self.headers = {"content-type": "application/json", "user-agent": "Potok-Messages/1"}
        if auth_value:
            self.headers[auth_header] = auth_value
        self.timeout_s = timeout_s
        self.client = client or httpx.Client(follow_redirects=False, trust_env=False)

    def body(self, message: Message) -> dict[str, Any]:
        """The JSON the provider receives for ``message``."""
        values = {
            "to": message.to,
            "text": message.text.strip(),
            "sender": self.sender,
            "message_id": message.key,
            "topic": message.topic.value,
            "language": message.language.value,
        }
        filled: dict[str, Any] = _fill(self.template, values)
        return filled

    def send(self, message: Message) -> None:
        masked = mask_phone(message.to) or ""
        try:
            answer = self.client.post(
                self.url,
                json=self.body(message),
                headers=self.headers,
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as error:
            raise SendFailed(f"{type(error).__name__}: {error}"[:500]) from error
        if not 200 <= answer.status_code < 300:
            said = " ".join(answer.text[:ANSWER_KEPT].split()).replace(message.to, masked)
            raise SendFailed(f"the provider answered {answer.status_code}: {said}"[:500])
        log.info("message to %s: %s", masked, message.topic.value)
