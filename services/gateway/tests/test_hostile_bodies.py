"""A sign-in body nested past Python's recursion limit is a 422 problem, not a 500 (issue #12,
point 6). The gateway parses credentials by hand (gateway.forms); any RecursionError left
elsewhere is answered by yanxiu.kit.errors."""

from __future__ import annotations

from typing import Any


async def test_deeply_nested_credentials_are_a_422_problem(gateway: Any) -> None:
    async with gateway() as client:
        answer = await client.post(
            "/api/v1/auth/token",
            content=b"[" * 10_000,  # under the credentials' size limit, past the parser's depth
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] in ("json_too_deep", "validation_failed")
