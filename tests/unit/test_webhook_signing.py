"""Signatures as Standard Webhooks defines them, checked by that specification's library;
retry delays that double, stay under the cap and spread out."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from potok.domain.webhooks import new_secret, retry_delay, sign, signature_headers


def test_the_published_library_accepts_our_signature_and_refuses_a_changed_body() -> None:
    secret = new_secret()
    body = b'{"specversion":"1.0","id":"e-1","data":{"total":"1990.00"}}'
    headers = signature_headers([secret], "e-1", int(time.time()), body)

    assert Webhook(secret).verify(body, headers) == {
        "specversion": "1.0",
        "id": "e-1",
        "data": {"total": "1990.00"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"1990", b"1", 1), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    body = b"{}"
    headers = signature_headers([old, new], "e-2", int(time.time()), body)

    assert len(headers["webhook-signature"].split()) == 2
    assert Webhook(old).verify(body, headers) == {}
    assert Webhook(new).verify(body, headers) == {}


def test_a_known_vector() -> None:
    """Worked by hand from the specification: key = base64-decoded secret."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert (
        sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_retry_delays_double_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    lowest = [retry_delay(n, 2, 600, lambda: 0.0) for n in range(1, 12)]
    highest = [retry_delay(n, 2, 600, lambda: 1.0) for n in range(1, 12)]
    assert lowest[:4] == [1.0, 2.0, 4.0, 8.0]
    assert highest[:4] == [2.0, 4.0, 8.0, 16.0]
    assert highest[-1] == 600.0
    assert lowest[-1] == 300.0
