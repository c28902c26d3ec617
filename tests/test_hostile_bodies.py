"""Bodies a parser cannot follow are the caller's mistake at every service: JSON nested past
Python's recursion limit (100,000 × "[") and bytes that are not UTF-8 JSON are a 422
problem+json, never a 500 or a bare 400 (issue #12, point 6; yanxiu.kit.errors)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest

from yanxiu.kit.auth import Role
from yanxiu.testing import app_client

# A JSON route of each service that reads a body; the body is parsed before anything else.
ROUTES = {
    "enrollment": ("POST", "/orgs"),
    "learning": ("POST", "/courses"),
    "credits": ("POST", "/records"),
    "lessons": ("POST", "/lessons"),
}
PROVINCE = ["370000"]


async def _post(
    service: str, settings_for: Callable[..., Any], token_for: Callable[..., str], body: bytes
) -> Any:
    main = importlib.import_module(f"{service}.main")
    config = importlib.import_module(f"{service}.config")
    method, path = ROUTES[service]
    headers = {
        "authorization": f"Bearer {token_for(Role.province_admin, PROVINCE)}",
        "content-type": "application/json",
    }
    async with app_client(main.create_app(settings_for(config.Settings))) as client:
        return await client.request(method, path, content=body, headers=headers)


@pytest.mark.parametrize("service", sorted(ROUTES))
async def test_deeply_nested_json_is_a_422_problem(
    service: str, settings_for: Callable[..., Any], token_for: Callable[..., str]
) -> None:
    answer = await _post(service, settings_for, token_for, b"[" * 100_000)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "json_too_deep"
    assert problem["message_zh"] and problem["message_en"]


@pytest.mark.parametrize("service", sorted(ROUTES))
async def test_a_body_that_is_not_utf8_json_is_a_422_problem(
    service: str, settings_for: Callable[..., Any], token_for: Callable[..., str]
) -> None:
    # Latin-1 where UTF-8 belongs: json.loads fails with UnicodeDecodeError, which FastAPI
    # would answer with a bare 400.
    answer = await _post(service, settings_for, token_for, '{"name": "Zoë"}'.encode("latin-1"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "json_invalid"
