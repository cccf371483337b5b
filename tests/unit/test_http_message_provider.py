"""The generic HTTP provider's body: the operator's JSON template with placeholders filled
inside its strings (a quote or a line break in the text never breaks the JSON), and a
template that is not JSON or names an unknown placeholder refused at startup."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from potok.connectors.messaging import HttpSender
from potok.domain.notifications import Language, Medium, Message, Topic
from potok.settings import NotificationSettings


def test_the_body_follows_the_providers_shape_with_every_value_in_place() -> None:
    sender = HttpSender(
        "http://127.0.0.1:9/send",
        body_template='{"to": ["{to}"], "msg": {"body": "{text}", "lang": "{language}"}, "n": 1}',
    )
    message = Message(
        Topic.ORDER_SHIPPED,
        Language.EN,
        "+79161234567",
        "",
        'Order "42"\nis on its way ',
        "",
        Medium.SMS,
        "evt-1",
    )
    assert sender.body(message) == {
        "to": ["+79161234567"],
        "msg": {"body": 'Order "42"\nis on its way', "lang": "en"},
        "n": 1,
    }


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('{"to": "{to}", "text": "{txt}"}', "unknown placeholder {txt}"),
        ('{"to": "{to}",}', "not JSON"),
        ('["{to}"]', "must be a JSON object"),
    ],
)
def test_a_body_template_that_cannot_work_is_refused_at_startup(body: str, said: str) -> None:
    with pytest.raises(ValidationError, match=said.replace("{", r"\{").replace("}", r"\}")):
        NotificationSettings(sms_body=body)
    with pytest.raises(ValidationError, match="'telegram' is not email or sms"):
        NotificationSettings(media=["email", "telegram"])
