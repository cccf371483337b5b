"""Personal data opened with the wrong key is a clear configuration error, not a crash."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from potok.security.data import (
    DataProtector,
    SealedUnderMissingKey,
    key_id_for,
    new_key_text,
    protector_from,
)
from potok.settings import DatabaseSettings, SecuritySettings, Settings, key_file_for


def protector(key: bytes) -> DataProtector:
    return DataProtector([("k1", key)], index_key=os.urandom(32))


def test_data_sealed_under_one_key_opens_with_it_and_not_with_another_of_the_same_id() -> None:
    sealed = protector(first := os.urandom(32)).encrypt("+79161234567")
    assert protector(first).decrypt(sealed) == "+79161234567"
    other = protector(os.urandom(32))
    with pytest.raises(SealedUnderMissingKey, match="'k1', but the key configured under") as e:
        other.decrypt(sealed)
    assert e.value.key_id == "k1"
    assert e.value.code == "personal-data-key-missing"
    assert other.unreadable == {"k1"}


def test_data_sealed_under_a_key_no_longer_configured_names_the_key() -> None:
    sealed = DataProtector([("old", os.urandom(32))], index_key=os.urandom(32)).encrypt("x")
    with pytest.raises(SealedUnderMissingKey, match="key 'old', which is not configured"):
        protector(os.urandom(32)).decrypt(sealed)


def test_generated_key_files_name_each_key_by_itself(tmp_path: Path) -> None:
    """Two processes that each generated a key file never write under the same key id, so
    data sealed by one is reported as sealed under a key the other lacks."""
    first, _ = protector_from(None, None, tmp_path / "a.json")
    second, _ = protector_from(None, None, tmp_path / "b.json")

    assert first.current_id != second.current_id
    assert first.current_id.isalnum()
    assert len(first.current_id) <= 16
    sealed = first.encrypt("+79161234567")
    with pytest.raises(SealedUnderMissingKey, match=f"key '{first.current_id}', which is not"):
        second.decrypt(sealed)


def test_a_key_id_is_the_fingerprint_of_its_key() -> None:
    key = os.urandom(32)
    assert key_id_for(key) == key_id_for(bytes(key))
    assert key_id_for(key) != key_id_for(os.urandom(32))
    key_id, _, encoded = new_key_text().partition(":")
    assert key_id == key_id_for(base64.b64decode(encoded))
    assert new_key_text("k2").startswith("k2:")


# ---------------------------------------------------------------------- where the key file is


def settings_for(url: str, key_file: str | None = None) -> Settings:
    return Settings(db=DatabaseSettings(url=url), security=SecuritySettings(key_file=key_file))


def test_the_default_key_file_lies_beside_the_sqlite_file_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert key_file_for(settings_for("sqlite:////srv/potok/shop.db")) == Path(
        "/srv/potok/potok-keys.json"
    )
    # a relative database path is the working directory's, and so is its key file
    assert key_file_for(settings_for("sqlite:///data/shop.db")) == (
        tmp_path / "data" / "potok-keys.json"
    )


def test_the_default_key_file_of_postgresql_is_in_the_users_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    found = key_file_for(settings_for("postgresql://potok@db.local:6543/shop"))
    assert found == tmp_path / "data" / "potok" / "db.local-6543-shop-keys.json"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert key_file_for(settings_for("postgresql://potok@db.local/shop")) == (
        tmp_path / "home" / ".local" / "share" / "potok" / "db.local-5432-shop-keys.json"
    )


def test_a_configured_key_file_wins_and_an_in_memory_database_keeps_no_file(
    tmp_path: Path,
) -> None:
    chosen = tmp_path / "secrets" / "keys.json"
    assert key_file_for(settings_for("sqlite:////srv/shop.db", str(chosen))) == chosen
    assert key_file_for(settings_for("sqlite://")) is None
    assert key_file_for(settings_for("sqlite:///:memory:")) is None
    made, created = protector_from(None, None, None)
    assert created
    assert made.decrypt(made.encrypt("x")) == "x"


def test_a_key_file_is_made_in_a_missing_directory_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "new" / "dir" / "potok-keys.json"
    first, created = protector_from(None, None, key_file)
    assert created
    assert key_file.stat().st_mode & 0o777 == 0o600
    again, created = protector_from(None, None, key_file)
    assert not created
    assert again.current_id == first.current_id
