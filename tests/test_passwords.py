"""The two stored forms of an SMTP AUTH password, and the hashes that must never match."""

from __future__ import annotations

import pytest

from gateway.passwords import PREFIX, hash_password, verify_password


def test_hash_verifies_the_same_password_only() -> None:
    stored = hash_password("s3cret-パス")
    assert stored.startswith(PREFIX)
    assert verify_password(stored, "s3cret-パス")
    assert not verify_password(stored, "s3cret-パ")
    assert not verify_password(stored, "")


def test_salt_makes_two_hashes_of_one_password_differ() -> None:
    assert hash_password("same") != hash_password("same")


def test_hash_carries_its_parameters() -> None:
    params = hash_password("x")[len(PREFIX) :].split("$")[0]
    assert params == "n=16384,r=8,p=1"


def test_plain_stored_password_compares_exactly() -> None:
    assert verify_password("hunter2", "hunter2")
    assert not verify_password("hunter2", "hunter2 ")
    assert not verify_password("hunter2", "HUNTER2")


@pytest.mark.parametrize(
    "stored",
    [
        "$scrypt$",
        "$scrypt$n=16384,r=8,p=1$notbase64!$AAAA",
        "$scrypt$n=16384,r=8$AAAA$AAAA",
        "$scrypt$n=3,r=8,p=1$AAAA$AAAA",  # n must be a power of two: scrypt refuses
        "$scrypt$n=16384,r=8,p=1$AAAA",
    ],
)
def test_malformed_hash_never_matches(stored: str) -> None:
    assert not verify_password(stored, "")
    assert not verify_password(stored, "AAAA")


def test_hash_as_plain_password_does_not_authenticate() -> None:
    """Someone who read the config must not log in by sending the hash itself."""
    stored = hash_password("pw")
    assert not verify_password(stored, stored)
