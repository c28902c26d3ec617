"""Password hashing with argon2id. Hashing costs tens of milliseconds of CPU by design, so the
async helpers run it in a worker thread rather than on the event loop."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _decoy_hash() -> str:
    return _hasher.hash("decoy password, never matches a real one")


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """Checks the password; with no hash (unknown user) it still spends the same time on a
    decoy, so that timing does not reveal which usernames exist."""
    if password_hash is None:
        await asyncio.to_thread(verify_password, _decoy_hash(), password)
        return False
    return await asyncio.to_thread(verify_password, password_hash, password)
