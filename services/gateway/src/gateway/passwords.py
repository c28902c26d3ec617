"""Password hashing with argon2id. Hashing costs tens of milliseconds of CPU by design, so it
runs in worker threads, never on the event loop: sign-in through gateway.hashing (bounded),
account writes through `hash_password_async`."""

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
def decoy_hash() -> str:
    return _hasher.hash("decoy password, never matches a real one")


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)
