"""Hostile numbers, dates and cursors on learning's routes are a 422 problem, never a 500
(issue #12, point 6). A window of "02-29" in a year without one used to be stored and then
fail every read of the project's rules and every window check (500s for all its teachers)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from services.learning.tests.conftest import LearningWorld
from services.learning.tests.test_providers_support import XAPI, World, world

__all__ = ["world"]


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": value}).encode()).decode().rstrip("=")


@pytest.mark.parametrize("where", ["windows", "document"])
async def test_a_rules_window_on_a_day_the_year_lacks_is_a_422_not_a_stored_time_bomb(
    lx: LearningWorld, where: str
) -> None:
    window = {"selection": {"opens": "02-29", "closes": "03-31"}}
    body: dict[str, object] = {"year": 2023}
    if where == "windows":
        body |= {"rule_set": "shandong-2023", "windows": window}
    else:
        from learning.rules.catalogue import shipped

        document = shipped()["shandong-2023"].model_dump(mode="json")
        body["document"] = {**document, "windows": window}
    answer = await lx.client.put(
        f"/projects/{lx.project_id}/rules", json=body, headers=lx.auth(lx.province_token())
    )
    assert answer.status_code == 422, answer.text
    assert "2023" in answer.text
    read = await lx.client.get(
        f"/projects/{lx.project_id}/rules", headers=lx.auth(lx.province_token())
    )
    assert read.status_code == 404  # nothing was stored
    body["year"] = 2024  # a leap year has the day
    answer = await lx.client.put(
        f"/projects/{lx.project_id}/rules", json=body, headers=lx.auth(lx.province_token())
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "client_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2101-01-01T00:00:00Z"]
)
async def test_a_heartbeat_from_a_clock_no_database_can_hold_is_a_422(
    lx: LearningWorld, client_at: str
) -> None:
    teacher = await lx.seed_plan()
    beat = {
        "course_id": str(uuid.uuid4()),
        "project_id": str(teacher.project_id),
        "device_session_id": "device-session-1",
        "position": 0,
        "client_at": client_at,
    }
    for path, body in (("/progress", beat), ("/progress/batch", {"heartbeats": [beat]})):
        answer = await lx.client.post(path, json=body, headers=lx.auth(teacher.token))
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"].endswith("client_at")


async def test_a_heartbeat_from_a_phone_reset_to_1970_is_still_judged(lx: LearningWorld) -> None:
    teacher = await lx.seed_plan()
    beat = {
        "course_id": str(uuid.uuid4()),
        "project_id": str(teacher.project_id),
        "device_session_id": "device-session-1",
        "position": 0,
        "client_at": "1970-01-01T00:00:05Z",
    }
    answer = await lx.client.post("/progress", json=beat, headers=lx.auth(teacher.token))
    assert answer.status_code != 422, answer.text


async def test_school_based_hours_completed_outside_2000_to_2100_are_a_422(
    lx: LearningWorld,
) -> None:
    teacher = await lx.seed_plan()
    body = {
        "project_id": str(teacher.project_id),
        "record_id": "r-1",
        "title": "校本研修",
        "hours": "2",
        "completed_at": "0001-01-01T00:00:00+14:00",
    }
    answer = await lx.client.post(
        f"/plans/{teacher.teacher_id}/school-based-hours",
        json=body,
        headers=lx.auth(lx.school_admin_token()),
    )
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize(
    "query",
    [
        "since=0001-01-01T00:00:00%2B14:00",  # before the year 1 once in UTC
        "until=9999-12-31",  # a day, not a timestamp
        "since=10000-01-01T00:00:00Z",
    ],
)
async def test_xapi_times_off_the_calendar_or_without_a_time_are_a_400(
    world: World, query: str
) -> None:
    # xAPI answers a malformed parameter with 400 (Communication 3.2), never a 500.
    answer = await world.signed("GET", f"/xapi/statements?{query}", headers=XAPI)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "xapi_bad_query"


@pytest.mark.parametrize("after", [2**63, 2**70, -1, "1"])
async def test_an_xapi_cursor_past_bigint_is_an_invalid_cursor(world: World, after: object) -> None:
    answer = await world.signed("GET", f"/xapi/statements?cursor={cursor_of(after)}", headers=XAPI)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_cursor"
