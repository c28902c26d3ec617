"""The least a platform route must do, written beside the floor (bench.floor_bound, issue #15).

The same two requests as the platform's `GET /teachers/{id}` and `POST /teachers`, doing only
what the rules demand of every request and nothing of the platform's own code:

- read: verify the bearer token (EdDSA, remembered per token), SELECT the record by primary key,
  check the caller's org scope against the org path stored with the record, decrypt and mask the
  ID number (AES-GCM), render JSON;
- write: verify the token, parse and validate the body (pydantic, ID number with its check
  digit), encrypt the ID number and compute its blind index, then one statement: the school's
  org path (the scope check, in SQL) and the record, its history row, its audit row and its
  outbox event, inserted in one CTE (atomic without BEGIN/COMMIT, one round trip); 201 JSON.

Two ways in, the same handlers: `fastapi_app` (FastAPI, the floor's own framework: `Request` in,
`Response` out, as the floor does) and `asgi_app` (a plain ASGI callable, no framework). The
tables are made by bench.floor_bound before the apps start.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field, ValidationError, field_validator

SCHEMA = "floor_bound"
ISSUER = "floor-bound"
ID_CONTEXT = b"teacher.id_number"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
JSON, PROBLEM = "application/json", "application/problem+json"
Answer = tuple[int, bytes]


def signing_key(seed_hex: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))


def mint_token(seed_hex: str, org: list[str]) -> str:
    claims: dict[str, Any] = {"iss": ISSUER, "sub": "bench-admin", "role": "province_admin"}
    claims |= {"org": org, "exp": int(time.time()) + 86_400}
    return jwt.encode(claims, signing_key(seed_hex), algorithm="EdDSA")


class NewTeacher(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    id_number: str = Field(pattern=r"^\d{17}[\dX]$")
    school_id: str = Field(min_length=1, max_length=40)
    stage: str = Field(min_length=1, max_length=20)
    subject: str = Field(min_length=1, max_length=20)
    is_rural: bool = False

    @field_validator("id_number")
    @classmethod
    def check_digit(cls, value: str) -> str:
        total = sum(int(c) * w for c, w in zip(value[:17], WEIGHTS, strict=True))
        if "10X98765432"[total % 11] != value[17]:
            raise ValueError("check digit")
        return value


READ = (
    f"select id, name, id_number_cipher, gender, birth_date, stage, subject, is_rural, status,"
    f" verified, school_id, org_path from {SCHEMA}.teachers where id = $1"
)
WRITE = f"""
with school as (select path from {SCHEMA}.orgs where id = $7 and $8 = any(path)),
t as (insert into {SCHEMA}.teachers select $1, $2, $3, $4, $5, $6, $9, $10, $11, 'active', false,
      $7, school.path from school returning id),
h as (insert into {SCHEMA}.history (teacher_id, action, after) select id, 'created', $12 from t),
a as (insert into {SCHEMA}.audit (actor, action, target)
      select $13, 'teacher.create', id::text from t),
o as (insert into {SCHEMA}.outbox (topic, key, payload)
      select 'enrollment.teachers', id::text, $12 from t)
select id from t"""


def mask(value: str) -> str:
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


class Bound:
    """The handlers and what they share (pool, keys, remembered tokens)."""

    def __init__(self) -> None:
        self.public = signing_key(os.environ["BOUND_KEY_SEED"]).public_key()
        master = bytes.fromhex(os.environ["BOUND_PII_KEY"])
        self.aead = AESGCM(master)
        self.index_key = hashlib.sha256(master + b"index").digest()
        self.tokens: dict[str, tuple[dict[str, Any], float]] = {}
        self.pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        dsn = os.environ["FLOOR_DSN"]
        self.pool = await asyncpg.create_pool(dsn, min_size=8, max_size=8)

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    def caller(self, authorization: str | None) -> dict[str, Any] | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization[7:]
        known = self.tokens.get(token)
        if known is not None and known[1] > time.time():
            return known[0]
        try:
            claims = jwt.decode(token, self.public, algorithms=["EdDSA"], issuer=ISSUER)
        except jwt.InvalidTokenError:
            return None
        self.tokens[token] = (claims, float(claims["exp"]))
        return claims

    def encrypt(self, value: str) -> bytes:
        nonce = os.urandom(12)
        return b"\x01" + nonce + self.aead.encrypt(nonce, value.encode(), ID_CONTEXT)

    async def read(self, authorization: str | None, raw_id: str) -> Answer:
        who = self.caller(authorization)
        if who is None:
            return 401, b'{"status":401,"code":"unauthenticated"}'
        try:
            teacher_id = uuid.UUID(raw_id)
        except ValueError:
            return 422, b'{"status":422,"code":"validation_failed"}'
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(READ, teacher_id)
        if row is None or who["org"][-1] not in row["org_path"]:
            return 404, b'{"status":404,"code":"teacher_not_found"}'
        body = dict(row)
        blob = body.pop("id_number_cipher")
        body["id_number"] = mask(self.aead.decrypt(blob[1:13], blob[13:], ID_CONTEXT).decode())
        body["id"] = str(body["id"])
        del body["org_path"]
        return 200, orjson.dumps(body)

    async def write(self, authorization: str | None, raw: bytes) -> Answer:
        who = self.caller(authorization)
        if who is None:
            return 401, b'{"status":401,"code":"unauthenticated"}'
        try:
            data = NewTeacher.model_validate_json(raw)
        except ValidationError:
            return 422, b'{"status":422,"code":"validation_failed"}'
        idn = data.id_number
        index = hmac.new(self.index_key, ID_CONTEXT + b"\0" + idn.encode(), hashlib.sha256)
        born = date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
        gender = "male" if int(idn[16]) % 2 else "female"
        new_id = uuid.uuid4()
        shown = {
            "id": str(new_id),
            "name": data.name,
            "id_number": mask(idn),
            "gender": gender,
            "birth_date": born.isoformat(),
            "stage": data.stage,
            "subject": data.subject,
            "is_rural": data.is_rural,
            "school_id": data.school_id,
        }
        payload = orjson.dumps(shown)
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            try:
                added = await conn.fetchval(
                    WRITE,
                    new_id,
                    data.name,
                    self.encrypt(idn),
                    index.hexdigest(),
                    gender,
                    born,
                    data.school_id,
                    who["org"][-1],
                    data.stage,
                    data.subject,
                    data.is_rural,
                    payload.decode(),
                    who["sub"],
                )
            except asyncpg.UniqueViolationError:
                return 409, b'{"status":409,"code":"teacher_exists"}'
        if added is None:
            return 404, b'{"status":404,"code":"school_not_found"}'
        return 201, payload


class Running:
    """The process's handlers, made at start-up (the keys come from the environment)."""

    bound: Bound


running = Running()


@asynccontextmanager
async def lifespan(_: FastAPI | None) -> AsyncIterator[None]:
    running.bound = Bound()
    await running.bound.start()
    yield
    await running.bound.stop()


def _response(answer: Answer) -> Response:
    status, body = answer
    return Response(body, status_code=status, media_type=JSON if status < 400 else PROBLEM)


fastapi_app = FastAPI(lifespan=lifespan)


@fastapi_app.get("/teachers/{teacher_id}")
async def read_teacher(teacher_id: str, request: Request) -> Response:
    return _response(await running.bound.read(request.headers.get("authorization"), teacher_id))


@fastapi_app.post("/teachers")
async def register_teacher(request: Request) -> Response:
    authorization = request.headers.get("authorization")
    return _response(await running.bound.write(authorization, await request.body()))


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        async with lifespan(None):
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    authorization = next(
        (v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None
    )
    path, method = scope["path"], scope["method"]
    if method == "GET" and path.startswith("/teachers/"):
        answer = await running.bound.read(authorization, path[len("/teachers/") :])
    elif method == "POST" and path == "/teachers":
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        answer = await running.bound.write(authorization, raw)
    else:
        answer = 404, b'{"status":404}'
    status, body = answer
    kind = (JSON if status < 400 else PROBLEM).encode()
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
