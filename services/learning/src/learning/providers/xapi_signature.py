"""Signed statements (xAPI 1.0.3 Data §2.6): a statement is signed by an attachment whose
usageType is `.../attachments/signature`, of content type application/octet-stream, holding a
JWS (compact serialization, RS256 / RS384 / RS512) whose payload is the statement as it was
before the signature was attached. The LRS refuses (400) a malformed signature: a JWS that does
not decode, another algorithm, a payload that is not the statement (differences the LRS may make
in id, authority, stored, timestamp and version aside), or, when the header carries an X.509
certificate (`x5c`), a signature that does not verify with that certificate's key. Pure."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from learning.providers import xapi_statements as xs
from learning.providers.errors import XapiSignatureInvalid
from learning.providers.xapi_attachments import Attachment

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"
ALGORITHMS: dict[str, hashes.HashAlgorithm] = {
    "RS256": hashes.SHA256(),
    "RS384": hashes.SHA384(),
    "RS512": hashes.SHA512(),
}


def _bad(zh: str, en: str) -> XapiSignatureInvalid:
    return XapiSignatureInvalid(zh, en)


def _segment(raw: bytes) -> bytes:
    try:
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _bad("JWS 不是 base64url 编码", "The JWS is not base64url-encoded") from exc


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        found = orjson.loads(_segment(raw))
    except orjson.JSONDecodeError as exc:
        raise _bad(f"JWS 的 {what} 不是合法 JSON", f"The JWS {what} is not valid JSON") from exc
    if not isinstance(found, dict):
        raise _bad(f"JWS 的 {what} 须为 JSON 对象", f"The JWS {what} must be a JSON object")
    return found


def check_signed(statement: dict[str, Any], attachments: dict[str, Attachment]) -> None:
    """Verify the statement's signature attachment, if it has one (400 when it is malformed)."""
    metas = statement.get("attachments") or []
    signatures = [m for m in metas if m.get("usageType") == SIGNATURE_USAGE]
    if not signatures:
        return
    if len(signatures) > 1:
        raise _bad("一条语句只能有一个签名附件", "A statement has at most one signature attachment")
    meta = signatures[0]
    if str(meta.get("contentType", "")).split(";")[0].strip().lower() != SIGNATURE_CONTENT_TYPE:
        raise _bad(
            "签名附件的 contentType 须为 application/octet-stream",
            "A signature attachment's contentType must be application/octet-stream",
        )
    found = attachments.get(str(meta["sha2"]).lower())
    if found is None:
        raise _bad(
            "签名须作为附件内容随语句发送", "The signature must be sent as an attachment part"
        )
    payload = verified_payload(found.content)
    unsigned = [m for m in metas if m is not meta]
    before = {k: v for k, v in statement.items() if k != "attachments"}
    if unsigned:
        before["attachments"] = unsigned
    # The LRS may give a statement its id, not change the one it was sent with.
    same_id = "id" not in payload or payload["id"] == statement.get("id")
    if not same_id or not xs.same_statement(xs.normalized(payload), xs.normalized(before)):
        raise _bad("签名内容与语句不一致", "The JWS payload is not the statement that was signed")


def verified_payload(jws: bytes) -> dict[str, Any]:
    """The JWS's payload, after checking its form, its algorithm and, when the header carries
    an X.509 certificate chain, the signature with the first certificate's key."""
    segments = jws.strip().split(b".")
    if len(segments) != 3 or not all(segments):
        raise _bad("签名不是 JWS 紧凑序列化", "The signature is not a compact-serialized JWS")
    header = _json_object(segments[0], "header")
    algorithm = ALGORITHMS.get(str(header.get("alg")))
    if algorithm is None:
        raise _bad(
            "JWS 算法须为 RS256、RS384 或 RS512", "The JWS algorithm must be RS256, RS384 or RS512"
        )
    payload = _json_object(segments[1], "payload")
    chain = header.get("x5c")
    if chain is not None:
        _verify(chain, segments, algorithm)
    return payload


def _verify(chain: Any, segments: list[bytes], algorithm: hashes.HashAlgorithm) -> None:
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise _bad(
            "JWS 头的 x5c 须为证书数组", "The JWS header's x5c must be an array of certificates"
        )
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
    except (binascii.Error, ValueError) as exc:
        raise _bad("x5c 证书无法解析", "The x5c certificate does not parse") from exc
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _bad("x5c 证书须为 RSA 公钥", "The x5c certificate must hold an RSA key")
    try:
        key.verify(
            _segment(segments[2]), segments[0] + b"." + segments[1], padding.PKCS1v15(), algorithm
        )
    except InvalidSignature as exc:
        raise _bad(
            "签名与 x5c 证书不符", "The signature does not verify with the x5c certificate"
        ) from exc
