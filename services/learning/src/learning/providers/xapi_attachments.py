"""Attachments of xAPI 1.0.3 statements (Data §2.4.11, Communication §1.5): what a statements
request carries (JSON, or multipart/mixed with the statements first and one part per
attachment) and whether its parts and the statements' attachment metadata agree. Pure.

- A JSON request's attachments each give a `fileUrl` (the content is elsewhere).
- A multipart/mixed request's first part is application/json (every statement); each further
  part has `Content-Transfer-Encoding: binary` and `X-Experience-API-Hash`, the SHA-2 of its
  content, equal to the `sha2` of an attachment of a statement. Every attachment without a
  `fileUrl` has its part; a part no attachment names is refused. The hash is checked against
  the content (SHA-224, -256, -384 or -512 by its length).
- Signed statements are checked by `xapi_signature`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from learning.providers import xapi_multipart as mp
from learning.providers.errors import XapiAttachmentInvalid, XapiContentTypeUnsupported

JSON = "application/json"
SHA2_BY_LENGTH = {56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}


@dataclass(frozen=True)
class Attachment:
    """An attachment's content as received, keyed by its SHA-2 (lower-case hex)."""

    sha2: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Received:
    """A statements request's body: the statement(s) as JSON bytes and the attachments."""

    statements: bytes
    attachments: dict[str, Attachment]


def _bad(zh: str, en: str) -> XapiAttachmentInvalid:
    return XapiAttachmentInvalid(zh, en)


def received(content_type: str | None, body: bytes) -> Received:
    """Split a POST/PUT body by its Content-Type: JSON as is, multipart/mixed into the
    statements part and the attachments; any other type is a 400 (Communication §1.5)."""
    media = mp.media_type(content_type or "")
    if media in ("", JSON):
        return Received(body, {})
    if media != mp.MULTIPART_MIXED:
        raise XapiContentTypeUnsupported(content_type=content_type)
    parts = mp.split(body, mp.boundary_of(content_type or ""))
    if not parts or parts[0].media_type != JSON:
        raise _bad(
            "multipart 的第一段须为 application/json 的语句",
            "The first part must be the statements as application/json",
        )
    attachments: dict[str, Attachment] = {}
    for number, part in enumerate(parts[1:], start=2):
        found = attachment_of(part, number)
        attachments.setdefault(found.sha2, found)
    return Received(parts[0].content, attachments)


def attachment_of(part: mp.Part, number: int) -> Attachment:
    declared = part.headers.get("x-experience-api-hash", "").strip().lower()
    if not declared:
        raise _bad(
            f"第 {number} 段缺少 X-Experience-API-Hash", f"Part {number}: no X-Experience-API-Hash"
        )
    if part.headers.get("content-transfer-encoding", "").strip().lower() != "binary":
        raise _bad(
            f"第 {number} 段的 Content-Transfer-Encoding 须为 binary",
            f"Part {number}: Content-Transfer-Encoding must be binary",
        )
    algorithm = SHA2_BY_LENGTH.get(len(declared))
    if algorithm is None or hashlib.new(algorithm, part.content).hexdigest() != declared:
        raise _bad(
            f"第 {number} 段内容与其 SHA-2 哈希不符",
            f"Part {number}: content does not match its hash",
        )
    return Attachment(
        declared, part.headers.get("content-type", "application/octet-stream"), part.content
    )


def declared(statements: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Every attachment's metadata in the statements (their own, not a SubStatement's)."""
    for statement in statements:
        yield from statement.get("attachments") or ()


def check(statements: list[dict[str, Any]], attachments: dict[str, Attachment]) -> None:
    """Each attachment without a fileUrl has its part; each part is an attachment's."""
    named: set[str] = set()
    for number, meta in enumerate(declared(statements)):
        sha2 = str(meta["sha2"]).lower()
        named.add(sha2)
        if "fileUrl" not in meta and sha2 not in attachments:
            raise _bad(
                "附件无 fileUrl 时须以 multipart/mixed 随语句发送其内容",
                f"Attachment {number} has no fileUrl and no part carries its content "
                "(send it as multipart/mixed)",
            )
    extra = sorted(set(attachments) - named)
    if extra:
        raise _bad("请求中有不属于任何附件的分段", f"Parts that are no attachment's: {extra[:3]}")
