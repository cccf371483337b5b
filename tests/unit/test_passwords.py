"""The product's password hasher: Argon2id at argon2-cffi's default work factor (RFC 9106's
low-memory profile). The rest of the suite hashes at the lowest work factor (see
``tests/conftest.py``); this is where the product's own is held to."""

from __future__ import annotations

from argon2 import PasswordHasher

from potok.security import passwords
from tests.conftest import PRODUCT_PASSWORD_HASHER


def test_the_product_hashes_with_argon2id_at_the_rfc_9106_low_memory_work_factor() -> None:
    stored = PRODUCT_PASSWORD_HASHER.hash("correct horse battery staple")

    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert (PRODUCT_PASSWORD_HASHER.time_cost, PRODUCT_PASSWORD_HASHER.memory_cost) == (3, 65536)
    assert PRODUCT_PASSWORD_HASHER.parallelism == 4
    # what the product's hasher stored verifies, and only with its password
    assert passwords.verify_password(stored, "correct horse battery staple")
    assert not passwords.verify_password(stored, "correct horse battery stapler")
    assert not passwords.verify_password(None, "correct horse battery staple")
    assert not passwords.verify_password("not a hash", "correct horse battery staple")


def test_the_tests_hasher_is_argon2id_too_and_its_hashes_verify_with_the_products() -> None:
    made = passwords.hash_password("correct horse battery staple")

    assert made.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert PRODUCT_PASSWORD_HASHER.verify(made, "correct horse battery staple")
    assert isinstance(passwords._HASHER, PasswordHasher)
