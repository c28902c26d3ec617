"""Body limits per route at the gateway: 413 problem+json past the route's limit, whether the
client declares the length or streams a chunked body (then the gateway stops reading)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gateway.limits import BodyLimits

MIB = 1 << 20


def test_the_longest_matching_prefix_sets_the_limit() -> None:
    limits = BodyLimits(MIB, {"/api/v1/enrollment/teachers/import": 20 * MIB, "/api/v1/x/": 5})
    assert limits.for_path("/api/v1/enrollment/teachers/import") == 20 * MIB
    assert limits.for_path("/api/v1/enrollment/teachers/import/") == 20 * MIB
    assert limits.for_path("/api/v1/enrollment/teachers/imports") == MIB
    assert limits.for_path("/api/v1/enrollment/teachers") == MIB
    assert limits.for_path("/api/v1/x/y") == 5


async def test_a_declared_length_past_the_default_limit_is_413_and_never_forwarded(
    gateway: Any, upstream_url: str
) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        answer = await client.post(
            "/api/v1/enrollment/digest",
            content=b"x" * (MIB + 1),
            headers={"content-type": "application/octet-stream"},
        )
        at_limit = await client.post("/api/v1/enrollment/digest", content=b"x" * MIB)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "payload_too_large"
    assert answer.json()["limit_bytes"] == MIB
    assert answer.headers["x-request-id"]
    assert at_limit.status_code == 200 and at_limit.json()["size"] == MIB


async def test_a_chunked_body_is_cut_off_with_413_once_it_passes_the_limit(
    gateway: Any, upstream_url: str
) -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(1000):  # 64 MiB if it were all read
            pulled += 1
            yield b"y" * 65536

    async with gateway(enrollment_url=upstream_url) as client:
        answer = await client.post("/api/v1/enrollment/digest", content=endless())
        small = await client.post("/api/v1/enrollment/digest", content=_chunks(3, 1000))
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"
    assert pulled <= 20  # stopped soon after 1 MiB (16 chunks), not read to the end
    assert small.status_code == 200 and small.json()["size"] == 3000


async def test_routes_with_larger_limits_and_a_setting_that_changes_the_table(
    gateway: Any, upstream_url: str
) -> None:
    five_mib = b"z" * (5 * MIB)
    async with gateway(enrollment_url=upstream_url, learning_url=upstream_url) as client:
        # The import and xAPI routes take more than the default (the echo service has no such
        # routes: its own 404 or 405 shows the request got through).
        imported = await client.post("/api/v1/enrollment/teachers/import", content=five_mib)
        statements = await client.post("/api/v1/learning/xapi/statements", content=five_mib)
        too_big = await client.post(
            "/api/v1/learning/xapi/statements", content=b"z" * (10 * MIB + 1)
        )
    assert imported.status_code in (404, 405) and statements.status_code in (404, 405)
    assert too_big.status_code == 413
    table = {"/api/v1/enrollment/digest": 64}
    async with gateway(enrollment_url=upstream_url, body_limits=table) as client:
        over = await client.post("/api/v1/enrollment/digest", content=b"a" * 65)
        chunked_over = await client.post("/api/v1/enrollment/digest", content=_chunks(2, 40))
        # The table replaces the default one: the import route is back to the default.
        import_now = await client.post("/api/v1/enrollment/teachers/import", content=five_mib)
    assert over.status_code == 413 and chunked_over.status_code == 413
    assert import_now.status_code == 413


async def test_the_gateways_own_routes_are_limited_too(gateway: Any) -> None:
    async with gateway(body_limit_bytes=1024) as client:
        answer = await client.post(
            "/api/v1/auth/accounts",
            content=b"{" + b" " * 4096 + b"}",
            headers={"content-type": "application/json"},
        )
        chunked = await client.post("/api/v1/auth/token", content=_chunks(8, 512))
    assert answer.status_code == 413 and chunked.status_code == 413


async def _chunks(n: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(n):
        yield b"c" * size
