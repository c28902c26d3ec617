"""Hostile cursors and scores on lessons' routes are a 422 problem, never a 500 (issue #12,
point 6): a ranking cursor's total is a number PostgreSQL must compare."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from services.lessons.tests.conftest import PROVINCE, YEAR, Tokens


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": value}).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "total", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999999", "9" * 100]
)
async def test_a_ranking_cursor_with_a_total_no_score_can_have_is_an_invalid_cursor(
    client: httpx.AsyncClient, tokens: Tokens, total: str
) -> None:
    cursor = cursor_of(f"{total}|{uuid.uuid4()}")
    answer = await client.get(
        f"/scores?year={YEAR}&stage=primary&subject=语文&cursor={cursor}",
        headers=tokens.admin(PROVINCE),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("points", [-1, 101, 2**40])
async def test_review_points_outside_0_to_100_are_a_422(
    client: httpx.AsyncClient, tokens: Tokens, points: int
) -> None:
    body: dict[str, Any] = {
        "assignment_id": str(uuid.uuid4()),
        "scores": {"objectives": points},
        "comment": "教学目标清晰。",
    }
    answer = await client.post("/reviews", json=body, headers=tokens.admin(PROVINCE))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "scores.objectives"
