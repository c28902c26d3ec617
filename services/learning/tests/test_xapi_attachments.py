"""Attachments and signed statements (xAPI 1.0.3 Data §2.4.11 and §2.6, Communication §1.5) on a
real database: multipart/mixed statements with their attachments' content (SHA-2 checked,
stored, served back with `attachments=true`), the refusals the spec asks for, and JWS-signed
statements verified (algorithm, payload, and the x5c certificate's signature)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from learning.providers import xapi_multipart
from learning.providers.errors import XapiAttachmentInvalid
from services.learning.tests.test_providers_support import XAPI, World, world

__all__ = ["world"]

BOUNDARY = "-------314159265358979323846"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


def statement(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": "mailto:learner@zhixue.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
        "object": {"id": "https://yanxiu.example/xapi/activities/lecture-1"},
    }
    body.update(over)
    return body


def meta(content: bytes, content_type: str = "text/plain", **over: Any) -> dict[str, Any]:
    found = {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"zh-CN": "讲义", "en-US": "Handout"},
        "contentType": content_type,
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
    }
    found.update(over)
    return found


def multipart(statements: Any, parts: list[tuple[dict[str, str], bytes]]) -> bytes:
    out = f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode()
    out += orjson.dumps(statements) + b"\r\n"
    for headers, content in parts:
        out += f"--{BOUNDARY}\r\n".encode()
        out += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n"
        out += content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def part(
    content: bytes, content_type: str = "text/plain", **headers: str
) -> tuple[dict[str, str], bytes]:
    found = {
        "Content-Type": content_type,
        "Content-Transfer-Encoding": "binary",
        "X-Experience-API-Hash": hashlib.sha256(content).hexdigest(),
    }
    found.update({k.replace("_", "-"): v for k, v in headers.items()})
    return found, content


async def send(
    w: World, body: bytes, content_type: str = f"multipart/mixed; boundary={BOUNDARY}", **kw: Any
) -> httpx.Response:
    method = kw.pop("method", "POST")
    path = kw.pop("path", "/xapi/statements")
    headers = {**w.sign(body), **XAPI, "Content-Type": content_type}
    return await w.client.request(method, path, content=body, headers=headers)


async def read(w: World, query: str) -> httpx.Response:
    path = f"/xapi/statements?{query}"
    return await w.client.get(path, headers={**w.sign(path.encode()), **XAPI})


def parts_of(r: httpx.Response) -> list[xapi_multipart.Part]:
    media = r.headers["content-type"]
    assert media.startswith("multipart/mixed")
    return xapi_multipart.split(r.content, xapi_multipart.boundary_of(media))


async def test_a_statement_with_attachments_is_stored_and_served_back_with_attachments_true(
    world: World,
) -> None:
    handout, slides = "课堂讲义 handout".encode(), bytes(range(256)) * 4
    sent = statement(attachments=[meta(handout), meta(slides, "application/octet-stream")])
    body = multipart(sent, [part(handout), part(slides, "application/octet-stream")])
    r = await send(world, body)
    assert r.status_code == 200, r.text
    assert r.json() == [sent["id"]]

    plain = await read(world, f"statementId={sent['id']}")
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json()["attachments"][1]["sha2"] == hashlib.sha256(slides).hexdigest()

    got = parts_of(await read(world, f"statementId={sent['id']}&attachments=true"))
    assert orjson.loads(got[0].content)["id"] == sent["id"]
    served = {p.headers["x-experience-api-hash"]: p for p in got[1:]}
    assert served[hashlib.sha256(handout).hexdigest()].content == handout
    assert served[hashlib.sha256(slides).hexdigest()].content == slides
    assert served[hashlib.sha256(slides).hexdigest()].media_type == "application/octet-stream"
    assert all(p.headers["content-transfer-encoding"] == "binary" for p in got[1:])

    listed = parts_of(await read(world, "attachments=true&limit=5"))
    assert [s["id"] for s in orjson.loads(listed[0].content)["statements"]] == [sent["id"]]
    assert len(listed) == 3


async def test_an_attachment_shared_by_two_statements_is_kept_once(world: World) -> None:
    handout = b"one handout, two lessons"
    first, second = statement(attachments=[meta(handout)]), statement(attachments=[meta(handout)])
    r = await send(world, multipart([first, second], [part(handout)]))
    assert r.status_code == 200, r.text
    assert await world.scalar("SELECT count(*) FROM learning.xapi_attachments") == 1
    listed = parts_of(await read(world, "attachments=true"))
    assert len(listed) == 2  # the result, then the one attachment


async def test_an_attachment_with_a_file_url_needs_no_part(world: World) -> None:
    sent = statement(attachments=[meta(b"elsewhere", fileUrl="https://cdn.example/handout.txt")])
    r = await world.signed("POST", "/xapi/statements", sent, headers=XAPI)
    assert r.status_code == 200, r.text
    got = parts_of(await read(world, f"statementId={sent['id']}&attachments=true"))
    assert len(got) == 1


async def test_put_takes_a_multipart_statement_too(world: World) -> None:
    handout = b"put handout"
    sent = statement(attachments=[meta(handout)])
    sid = sent.pop("id")
    r = await send(
        world,
        multipart(sent, [part(handout)]),
        method="PUT",
        path=f"/xapi/statements?statementId={sid}",
    )
    assert r.status_code == 204, r.text
    got = parts_of(await read(world, f"statementId={sid}&attachments=true"))
    assert got[1].content == handout


def _refused(r: httpx.Response, code: str) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code


async def test_attachment_parts_that_do_not_match_their_statements_are_refused(
    world: World,
) -> None:
    handout, other = b"the handout", b"another file"
    sent = statement(attachments=[meta(handout)])
    cases = [
        multipart(sent, []),  # no part for an attachment without fileUrl
        multipart(sent, [part(handout), part(other)]),  # a part no attachment names
        multipart(sent, [part(other, X_Experience_API_Hash=meta(handout)["sha2"])]),  # hash lies
        multipart(sent, [part(handout, Content_Transfer_Encoding="base64")]),
        multipart(
            sent, [({"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary"}, handout)]
        ),
        multipart(sent, [part(handout)]).replace(f"--{BOUNDARY}--".encode(), b""),  # not closed
    ]
    for body in cases:
        _refused(await send(world, body), "xapi_attachment_invalid")
    first_not_json = multipart(sent, [part(handout)]).replace(
        b"Content-Type: application/json", b"Content-Type: text/plain", 1
    )
    _refused(await send(world, first_not_json), "xapi_attachment_invalid")
    _refused(
        await send(world, multipart(sent, [part(handout)]), content_type="multipart/mixed"),
        "xapi_attachment_invalid",
    )
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0
    assert await world.scalar("SELECT count(*) FROM learning.xapi_attachments") == 0


async def test_a_json_statement_whose_attachment_has_no_file_url_is_refused(world: World) -> None:
    r = await world.signed(
        "POST", "/xapi/statements", statement(attachments=[meta(b"x")]), headers=XAPI
    )
    _refused(r, "xapi_attachment_invalid")


async def test_statements_in_another_content_type_are_refused(world: World) -> None:
    body = orjson.dumps(statement())
    for media in (f"multipart/form-data; boundary={BOUNDARY}", "text/plain"):
        _refused(await send(world, body, content_type=media), "xapi_content_type_unsupported")


# --- signed statements -----------------------------------------------------------------------


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


@pytest.fixture(scope="module")
def signer() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Zhixue 培训 signer")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


HASHES = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}


def jws(
    payload: Any,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate | None = None,
    alg: str = "RS256",
) -> bytes:
    header: dict[str, Any] = {"alg": alg}
    if certificate is not None:
        der = certificate.public_bytes(serialization.Encoding.DER)
        header["x5c"] = [base64.b64encode(der).decode()]
    signing_input = _b64(orjson.dumps(header)) + b"." + _b64(orjson.dumps(payload))
    signature = key.sign(signing_input, padding.PKCS1v15(), HASHES.get(alg, hashes.SHA256()))
    return signing_input + b"." + _b64(signature)


def signed(
    unsigned: dict[str, Any], token: bytes, content_type: str = "application/octet-stream"
) -> bytes:
    sent = {**unsigned, "attachments": [meta(token, content_type, usageType=SIGNATURE)]}
    return multipart(sent, [part(token, content_type)])


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
async def test_a_signed_statement_is_verified_and_stored(
    world: World, signer: tuple[rsa.RSAPrivateKey, x509.Certificate], alg: str
) -> None:
    key, certificate = signer
    unsigned = statement()
    for chain in (None, certificate):  # without x5c the LRS checks all it can but the key
        unsigned["id"] = str(uuid.uuid4())
        token = jws(unsigned, key, chain, alg=alg)
        r = await send(world, signed(unsigned, token))
        assert r.status_code == 200, r.text
        got = parts_of(await read(world, f"statementId={unsigned['id']}&attachments=true"))
        assert got[1].content == token


async def test_malformed_signatures_are_refused(
    world: World, signer: tuple[rsa.RSAPrivateKey, x509.Certificate]
) -> None:
    key, certificate = signer
    unsigned = statement()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = jws(unsigned, key, certificate)
    header, payload, _ = good.split(b".")
    cases = [
        signed(unsigned, good, "text/plain; charset=ascii"),  # the wrong content type
        signed(unsigned, b"not a jws"),
        signed(unsigned, header + b"." + _b64(b"{'id': 1}") + b"." + _b64(b"sig")),  # bad JSON
        signed(unsigned, jws(unsigned, key, alg="HS256")),  # another algorithm
        signed(unsigned, jws(statement(), key, certificate)),  # another statement's id
        signed(unsigned, jws({**unsigned, "verb": {"id": "https://x.cn/v"}}, key, certificate)),
        signed(unsigned, jws(unsigned, other_key, certificate)),  # not the certificate's key
        signed(unsigned, header + b"." + payload + b"." + _b64(b"forged")),
    ]
    for number, body in enumerate(cases):
        r = await send(world, body)
        assert r.status_code == 400, (number, r.text)
        _refused(r, "xapi_signature_invalid")
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0


async def test_a_signature_ignores_what_the_lrs_may_set(
    world: World, signer: tuple[rsa.RSAPrivateKey, x509.Certificate]
) -> None:
    """The payload is compared with the statement as sent, id, authority, stored, timestamp and
    version aside; a context activity sent alone equals the list of one the LRS keeps."""
    key, certificate = signer
    sent = statement(
        context={"contextActivities": {"parent": {"id": "https://yanxiu.example/xapi/c/1"}}},
        timestamp="2026-12-01T08:00:00+08:00",
    )
    payload = {k: v for k, v in sent.items() if k not in ("id", "timestamp")}
    r = await send(world, signed(sent, jws(payload, key, certificate)))
    assert r.status_code == 200, r.text


# --- the multipart reader (pure) ---------------------------------------------------------------


def test_a_multipart_body_is_split_at_its_delimiters_only() -> None:
    content = b"line one\r\n--not-the-boundary\r\nline three"
    body = b"preamble\r\n" + multipart({"a": 1}, [part(content)]) + b"epilogue"
    parts = xapi_multipart.split(body, BOUNDARY)
    assert [p.media_type for p in parts] == ["application/json", "text/plain"]
    assert parts[1].content == content
    assert orjson.loads(parts[0].content) == {"a": 1}


def test_a_boundary_is_read_quoted_or_bare_and_required() -> None:
    assert xapi_multipart.boundary_of('multipart/mixed; boundary="a b"') == "a b"
    assert xapi_multipart.boundary_of("multipart/mixed;charset=x; BOUNDARY=abc") == "abc"
    with pytest.raises(XapiAttachmentInvalid):
        xapi_multipart.boundary_of("multipart/mixed")


def test_composed_bodies_split_back_into_their_parts() -> None:
    media, body = xapi_multipart.compose(
        [({"Content-Type": "application/json"}, b"{}"), ({"X-A": "1"}, b"\r\n")]
    )
    parts = xapi_multipart.split(body, xapi_multipart.boundary_of(media))
    assert [(p.headers, p.content) for p in parts] == [
        ({"content-type": "application/json"}, b"{}"),
        ({"x-a": "1"}, b"\r\n"),
    ]
