"""审计日志 of lessons: each level's selection (逐级遴选), the city's award, an admin's edit of
a lesson are recorded with before and after under the lesson's school; a county lists its own
subtree only; teachers may not read the trail; the table refuses UPDATE and DELETE."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.lessons.tests.conftest import (
    JINAN,
    LIXIA,
    LIXIA_SCHOOL,
    PROVINCE,
    RONGCHENG_SCHOOL,
    Tokens,
    create_lesson,
    promote_to,
)


async def audit(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    r = await client.get("/audit", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_selections_award_and_admin_edits_are_audited_under_the_lessons_school(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    lesson = await create_lesson(client, tokens)
    await promote_to(client, tokens, lesson, "city")
    r = await client.post(
        f"/lessons/{lesson['id']}/award", json={"award": "first"}, headers=tokens.admin(JINAN)
    )
    assert r.status_code == 201, r.text
    r = await client.patch(
        f"/lessons/{lesson['id']}",
        json={"national_platform_no": "GJ-2024-0009"},
        headers=tokens.admin(LIXIA),
    )
    assert r.status_code == 200, r.text
    page = await audit(client, tokens.admin(LIXIA), target_id=lesson["id"])
    assert [(e["action"], e["actor_role"]) for e in page["items"]] == [
        ("lesson.update", "county_admin"),
        ("lesson.award", "city_admin"),
        ("lesson.promote", "city_admin"),
        ("lesson.promote", "county_admin"),
        ("lesson.promote", "school_admin"),
    ]
    update, awarded, to_city, *_ = page["items"]
    assert update["before"] == {"national_platform_no": "2024-37-000001"}
    assert update["after"] == {"national_platform_no": "GJ-2024-0009"}
    assert awarded["after"]["award"] == "first"
    assert (to_city["before"], to_city["after"]) == ({"level": "county"}, {"level": "city"})
    assert all(e["target_org"] == LIXIA_SCHOOL for e in page["items"])
    # Creating the lesson was the teacher's own work: not an entry.
    assert (await audit(client, tokens.admin(PROVINCE), action="lesson.create"))["items"] == []


async def test_a_county_lists_only_its_own_schools_lessons(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    lixia = await create_lesson(client, tokens)
    rongcheng = await create_lesson(client, tokens, RONGCHENG_SCHOOL)
    await promote_to(client, tokens, lixia, "school")
    await promote_to(client, tokens, rongcheng, "school")
    mine = await audit(client, tokens.admin(LIXIA))
    assert {e["target_id"] for e in mine["items"]} == {lixia["id"]}
    weihai = await audit(client, tokens.admin(RONGCHENG_SCHOOL[:2]))
    assert {e["target_id"] for e in weihai["items"]} == {rongcheng["id"]}
    province = await audit(client, tokens.admin(PROVINCE))
    assert {e["target_id"] for e in province["items"]} == {lixia["id"], rongcheng["id"]}


async def test_teachers_and_school_admins_may_not_read_the_trail(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    for headers in (tokens.teacher(LIXIA_SCHOOL), tokens.admin(LIXIA_SCHOOL)):
        r = await client.get("/audit", headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "audit_not_allowed"


async def test_audit_log_refuses_update_and_delete(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await promote_to(client, tokens, await create_lesson(client, tokens), "school")
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    for statement in ("UPDATE lessons.audit_log SET after = NULL", "DELETE FROM lessons.audit_log"):
        async with rt.session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
