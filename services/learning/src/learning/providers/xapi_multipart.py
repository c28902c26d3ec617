"""multipart/mixed bodies as xAPI 1.0.3 uses them (Communication §1.5.2, RFC 2046 §5.1): a
request's statements and their attachments, and a read's answer with the attachments served
back. Pure functions: bytes in, parts out, and the reverse."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from learning.providers.errors import XapiAttachmentInvalid

MULTIPART_MIXED = "multipart/mixed"
CRLF = b"\r\n"
MAX_PARTS = 1001  # a batch of statements and one attachment for each of its 500 ids, twice over
MAX_HEADER_BYTES = 8192


@dataclass(frozen=True)
class Part:
    """One body part: its headers (names in lower case) and its content, as sent (binary)."""

    headers: dict[str, str]
    content: bytes

    @property
    def media_type(self) -> str:
        return media_type(self.headers.get("content-type", ""))


def media_type(content_type: str) -> str:
    """`multipart/mixed; boundary=x` → `multipart/mixed` (lower case, no parameters)."""
    return content_type.split(";", 1)[0].strip().lower()


def _bad(zh: str, en: str) -> XapiAttachmentInvalid:
    return XapiAttachmentInvalid(zh, en)


def boundary_of(content_type: str) -> str:
    """The `boundary` parameter of a multipart Content-Type (400 when there is none)."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if 0 < len(value) <= 70:
                return value
    raise _bad(
        "multipart/mixed 请求须在 Content-Type 中给出 boundary", "multipart/mixed needs a boundary"
    )


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    if not block:
        return headers
    for line in block.split(CRLF):
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise _bad("分段头格式错误", f"Malformed part header {line[:80]!r}")
        try:
            headers[name.strip().decode("ascii").lower()] = value.strip().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _bad("分段头须为 ASCII", "Part headers must be ASCII") from exc
    return headers


def split(body: bytes, boundary: str) -> list[Part]:
    """The parts of a multipart body: every part opened by the delimiter line, the body closed
    by the close delimiter; the preamble before the first delimiter and the epilogue after the
    last are ignored. A part without its blank line after the headers, or a body that is not
    closed, is a 400."""
    delimiter = CRLF + b"--" + boundary.encode("ascii")
    chunks = (CRLF + body).split(delimiter)
    if len(chunks) < 3:
        raise _bad("multipart 请求体缺少分段边界", "The multipart body lacks its boundaries")
    if len(chunks) > MAX_PARTS + 2:
        raise _bad("multipart 分段过多", "Too many multipart parts")
    parts: list[Part] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return parts  # the close delimiter: what follows is the epilogue
        _, newline, rest = chunk.partition(CRLF)  # transport padding up to the line's end
        if not newline:
            raise _bad("分段边界行格式错误", "Malformed boundary line")
        if rest.startswith(CRLF):
            head, content = b"", rest[2:]
        else:
            head, blank, content = rest.partition(CRLF + CRLF)
            if not blank or len(head) > MAX_HEADER_BYTES:
                raise _bad("分段头后须有空行", "A part's headers must end with a blank line")
        parts.append(Part(_headers(head), content))
    raise _bad("multipart 请求体未以结束边界收尾", "The multipart body is not closed")


def compose(parts: Iterable[tuple[dict[str, str], bytes]]) -> tuple[str, bytes]:
    """A multipart/mixed body of the given parts: (its Content-Type with the boundary, bytes)."""
    boundary = "yanxiu-" + secrets.token_hex(16)
    marker = b"--" + boundary.encode("ascii")
    out = bytearray()
    for headers, content in parts:
        out += marker + CRLF
        for name, value in headers.items():
            out += f"{name}: {value}".encode() + CRLF
        out += CRLF + content + CRLF
    out += marker + b"--" + CRLF
    return f'{MULTIPART_MIXED}; boundary="{boundary}"', bytes(out)
