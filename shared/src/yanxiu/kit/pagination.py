"""Opaque cursors for keyset pagination: `{"items": [...], "next_cursor": "..."|null}`.

A cursor is the url-safe base64 of the last row's sort key; callers must not build them."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Generic, TypeVar

from pydantic import BaseModel

from yanxiu.kit.errors import DomainError


class InvalidCursor(DomainError):
    status = 422
    code = "invalid_cursor"
    title_zh = "分页游标无效"
    title_en = "Invalid page cursor"


T = TypeVar("T")
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(after: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": after}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["a"]
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(after, str | int) or isinstance(after, bool):
        raise InvalidCursor()
    if isinstance(after, str) and "\x00" in after:  # PostgreSQL text cannot hold NUL
        raise InvalidCursor()
    return after


def next_cursor(keys: list[str] | list[int], limit: int) -> str | None:
    """The cursor after a page fetched with `limit + 1` rows, or None on the last page."""
    return encode_cursor(keys[limit - 1]) if len(keys) > limit else None


def decode_uuid_cursor(cursor: str | None) -> uuid.UUID | None:
    after = decode_cursor(cursor)
    if after is None:
        return None
    try:
        return uuid.UUID(str(after))
    except ValueError as exc:
        raise InvalidCursor() from exc


def decode_int_cursor(cursor: str | None) -> int | None:
    after = decode_cursor(cursor)
    # Int keys are bigint sequences: anything else would only fail in PostgreSQL.
    if after is not None and (not isinstance(after, int) or not 0 <= after < 2**63):
        raise InvalidCursor()
    return after
