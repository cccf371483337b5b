"""Personal data opened with the wrong key is a clear configuration error, not a crash."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from potok.security.data import (
    DataKeyError,
    DataProtector,
    key_id_for,
    new_key_text,
    protector_from,
)


def protector(key: bytes) -> DataProtector:
    return DataProtector([("k1", key)], index_key=os.urandom(32))


def test_data_sealed_under_one_key_opens_with_it_and_not_with_another_of_the_same_id() -> None:
    sealed = protector(first := os.urandom(32)).encrypt("+79161234567")
    assert protector(first).decrypt(sealed) == "+79161234567"
    with pytest.raises(DataKeyError, match="another key than the one configured as 'k1'"):
        protector(os.urandom(32)).decrypt(sealed)


def test_data_sealed_under_a_key_no_longer_configured_names_the_key() -> None:
    sealed = DataProtector([("old", os.urandom(32))], index_key=os.urandom(32)).encrypt("x")
    with pytest.raises(DataKeyError, match="key 'old', not configured"):
        protector(os.urandom(32)).decrypt(sealed)


def test_generated_key_files_name_each_key_by_itself(tmp_path: Path) -> None:
    """Two processes that each generated a key file never write under the same key id, so
    data sealed by one is reported as sealed under a key the other lacks."""
    first, _ = protector_from(None, None, str(tmp_path / "a.json"))
    second, _ = protector_from(None, None, str(tmp_path / "b.json"))

    assert first.current_id != second.current_id
    assert first.current_id.isalnum()
    assert len(first.current_id) <= 16
    sealed = first.encrypt("+79161234567")
    with pytest.raises(DataKeyError, match=f"key '{first.current_id}', not configured"):
        second.decrypt(sealed)


def test_a_key_id_is_the_fingerprint_of_its_key() -> None:
    key = os.urandom(32)
    assert key_id_for(key) == key_id_for(bytes(key))
    assert key_id_for(key) != key_id_for(os.urandom(32))
    key_id, _, encoded = new_key_text().partition(":")
    assert key_id == key_id_for(base64.b64decode(encoded))
    assert new_key_text("k2").startswith("k2:")
