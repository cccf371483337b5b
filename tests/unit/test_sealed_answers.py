"""Answers kept under an Idempotency-Key are sealed compressed, so that an order's answer
stays in its row (PostgreSQL moves values over about 2 KB out to TOAST); answers sealed
before, uncompressed, still open."""

from __future__ import annotations

import os

import orjson

from potok.db.personal import open_json, seal_json
from potok.security.data import PREFIX, DataProtector

ANSWER = {
    "id": 17,
    "status": "reserved",
    "customer": {"name": "Анна Смирнова", "phone": "+79161234567"},
    "lines": [
        {"line_no": n, "sku": f"SKU-{n:05d}", "quantity": 2, "price": "1990.00", "name": "Чайник"}
        for n in range(1, 4)
    ],
    "history": [
        {"action": "reserved", "reason": f"3 units at MSK for line {n}", "at": "2026-12-06T10:00Z"}
        for n in range(1, 20)
    ],
}


def protector() -> DataProtector:
    return DataProtector([("k1", os.urandom(32))], index_key=os.urandom(32))


def test_an_answer_is_sealed_compressed_and_opens_as_it_was() -> None:
    keys = protector()
    encoded = orjson.dumps(ANSWER)

    sealed = seal_json(keys, ANSWER)

    assert sealed.startswith(f"{PREFIX}:k1:")
    assert "Смирнова" not in sealed
    assert "79161234567" not in sealed
    assert len(sealed) < len(encoded) / 2  # the uncompressed sealing was 4/3 longer than this
    assert open_json(keys, sealed) == ANSWER
    assert open_json(keys, seal_json(keys, encoded)) == ANSWER  # bytes: encoded once before


def test_an_answer_sealed_before_answers_were_compressed_still_opens() -> None:
    keys = protector()
    before = keys.encrypt(orjson.dumps(ANSWER).decode())  # how answers were sealed until now

    assert open_json(keys, before) == ANSWER
    assert open_json(keys, {"plain": True}) == {"plain": True}  # kept before encryption was on
