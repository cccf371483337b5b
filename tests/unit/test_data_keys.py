"""Personal data opened with the wrong key is a clear configuration error, not a crash."""

from __future__ import annotations

import os

import pytest

from potok.security.data import DataKeyError, DataProtector


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
