"""学时认定: completions count exactly once; RequirementsMet / RequirementsUnmet on each change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment import service as attainment_service
from learning.attainment.models import Attainment, Completion
from learning.attainment.service import record_completion, revoke_completion
from learning.errors import CompletionIncomplete, NotRegistered
from services.learning.tests.conftest import (
    ALWAYS_OPEN as ALWAYS,
)
from services.learning.tests.conftest import (
    OTHER_SCHOOL,
    LearningWorld,
    SeededTeacher,
)

NOW = datetime.now(UTC)


async def complete(lx: LearningWorld, t: SeededTeacher, ref: str, **kw: Any) -> Any:
    source = kw.pop("source", "provider")

    async def go(session: AsyncSession) -> Any:
        return await record_completion(
            session,
            teacher_id=t.teacher_id,
            project_id=t.project_id,
            source=source,
            source_ref=ref,
            completed_at=NOW,
            **kw,
        )

    return await lx.run(go)


async def revoke(lx: LearningWorld, ref: str, source: str = "provider") -> Any:
    async def go(session: AsyncSession) -> Any:
        return await revoke_completion(
            session,
            source=source,  # type: ignore[arg-type]
            source_ref=ref,
            reason="作废 voided",
        )

    return await lx.run(go)


async def outbox_types(lx: LearningWorld) -> list[str]:
    async with lx.rt.engine.connect() as conn:
        rows = await conn.execute(text("SELECT event_type FROM learning.outbox ORDER BY id"))
        return [r[0] for r in rows]


async def meet_2023(lx: LearningWorld, t: SeededTeacher, tag: str = "") -> None:
    """3 reviews + 2 h ethics + 19 h electives = 24 h: the 2023 rules are met. `tag` keeps
    the completions' refs apart when several teachers meet them."""
    for i in range(3):
        await complete(
            lx,
            t,
            f"{tag}rev-{i}",
            source="review",
            course_title="观评课",
            category="review",
            hours=Decimal(1),
        )
    ethics = await lx.seed_course(kind="required", scope="general", topic_id="ethics", hours=2)
    await complete(lx, t, f"{tag}ethics", course_id=ethics.id)
    await complete(
        lx,
        t,
        f"{tag}elective",
        course_title="选修合集",
        category="general_elective",
        hours=Decimal(19),
    )


async def test_completion_counts_once_per_source_ref(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    course = await lx.seed_course(hours=2)
    first = await complete(lx, t, "evt-1", course_id=course.id)
    again = await complete(lx, t, "evt-1", course_id=course.id)
    assert isinstance(first, uuid.UUID)
    assert again is None

    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(Completion)) or 0)

    assert await lx.run(count) == 1
    assert await outbox_types(lx) == ["learning.study_started", "learning.course_completed"]


async def test_completion_takes_title_category_and_hours_from_catalogue(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    course = await lx.seed_course(kind="elective", scope="subject", hours="1.5")
    cid = await complete(lx, t, "x", course_id=course.id, category="bogus", hours=Decimal(9))

    async def get(session: AsyncSession) -> Completion | None:
        return await session.get(Completion, cid)

    row = await lx.run(get)
    assert row.category == "subject_elective" and row.hours == Decimal("1.5")


async def test_completion_without_course_needs_category_and_hours(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    with pytest.raises(CompletionIncomplete):
        await complete(lx, t, "x", course_title="无类别")


async def test_completion_of_unregistered_teacher_is_refused(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    stranger = SeededTeacher(uuid.uuid4(), t.project_id, "primary", "数学", t.org_path, "", 2023)
    with pytest.raises(NotRegistered):
        await complete(lx, stranger, "x", course_title="a", category="review", hours=Decimal(1))


async def test_requirements_met_once_then_unmet_after_revoke_then_met_again(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023")
    await meet_2023(lx, t)
    types = await outbox_types(lx)
    assert types.count("learning.requirements_met") == 1
    # A replayed completion and an extra one change nothing about the state: no second event.
    await complete(lx, t, "ethics", course_title="x", category="general_required", hours=Decimal(2))
    await complete(lx, t, "more", course_title="y", category="subject_elective", hours=Decimal(2))
    assert (await outbox_types(lx)).count("learning.requirements_met") == 1

    assert await revoke(lx, "rev-0", source="review") is True
    assert await revoke(lx, "rev-0", source="review") is False  # already revoked
    types = await outbox_types(lx)
    assert types.count("learning.requirements_unmet") == 1
    assert types.count("learning.course_completion_revoked") == 1

    await complete(
        lx, t, "rev-3", source="review", course_title="r", category="review", hours=Decimal(1)
    )
    assert (await outbox_types(lx)).count("learning.requirements_met") == 2

    async def state(session: AsyncSession) -> Attainment | None:
        return await session.get(Attainment, (t.teacher_id, t.project_id))

    st = await lx.run(state)
    assert st.met is True
    assert st.hours_by_category == {
        "subject_required": "3.0",
        "general_required": "2.0",
        "elective": "21.0",
    }


async def test_requirements_met_event_carries_capped_hours_by_category(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023")
    await meet_2023(lx, t)
    async with lx.rt.engine.connect() as conn:
        payload = (
            await conn.execute(
                text(
                    "SELECT payload FROM learning.outbox "
                    "WHERE event_type = 'learning.requirements_met'"
                )
            )
        ).scalar_one()
    import json

    data = json.loads(payload)["data"]
    assert data["rule_set"] == "shandong-2023"
    assert data["hours_by_category"] == {
        "subject_required": "3.0",
        "general_required": "2.0",
        "elective": "19.0",
    }
    assert Decimal(data["total_hours"]) == 24
    assert data["org"]["school_id"] == t.school_id


async def test_progress_shows_hours_by_category_to_the_teacher_and_admins_in_scope(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023")
    await meet_2023(lx, t)
    url = f"/plans/{t.teacher_id}/progress"
    mine = await lx.client.get(url, headers=lx.auth(t.token))
    assert mine.status_code == 200, mine.text
    item = mine.json()["items"][0]
    assert item["met"] is True and item["rule_set"] == "shandong-2023"
    assert {b["code"]: b["counted_hours"] for b in item["buckets"]} == {
        "subject_required": "3.0",
        "general_required": "2.0",
        "elective": "19.0",
    }
    county = lx.token("county_admin", t.org_path[:3])
    assert (await lx.client.get(url, headers=lx.auth(county))).status_code == 200
    other_city = lx.token("city_admin", OTHER_SCHOOL[:2])
    assert (await lx.client.get(url, headers=lx.auth(other_city))).status_code == 404
    other_teacher = lx.teacher_token(uuid.uuid4())
    assert (await lx.client.get(url, headers=lx.auth(other_teacher))).status_code == 404
    plans = await lx.client.get(f"/plans/{t.teacher_id}", headers=lx.auth(t.token))
    assert plans.status_code == 200 and plans.json()[0]["project_id"] == str(t.project_id)


async def test_progress_without_rules_says_so(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    r = await lx.client.get(f"/plans/{t.teacher_id}/progress", headers=lx.auth(t.token))
    item = r.json()["items"][0]
    assert item["rule_set"] is None and item["met"] is False


async def switch_to_shandong_2023(lx: LearningWorld, t: SeededTeacher) -> None:
    r = await lx.client.put(
        f"/projects/{t.project_id}/rules",
        json={"year": t.year, "rule_set": "shandong-2023", "windows": ALWAYS},
        headers=lx.auth(lx.province_token()),
    )
    assert r.status_code == 200, r.text


async def test_reassigning_rules_reevaluates_teachers_in_the_project(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "hefei-it2-2021")
    await meet_2023(lx, t)  # meets nothing under Hefei's 30 + 30 h
    assert "learning.requirements_met" not in await outbox_types(lx)
    await switch_to_shandong_2023(lx, t)
    assert (await outbox_types(lx)).count("learning.requirements_met") == 1


async def test_hefei_teacher_meets_60_hours_with_school_recorded_school_based_hours(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    # Hours only: the roles' tasks and the ability points are test_it2_ability_points.py's.
    await lx.seed_rules(t.project_id, "hefei-it2-2021", roles=[], abilities=None)
    await complete(
        lx, t, "online", course_title="网络研修", category="subject_elective", hours=Decimal(30)
    )
    url = f"/plans/{t.teacher_id}/school-based-hours"
    body = {
        "project_id": str(t.project_id),
        "record_id": "HF-001",
        "title": "校本研修",
        "hours": "30",
    }
    other = lx.school_admin_token(OTHER_SCHOOL)
    assert (await lx.client.post(url, json=body, headers=lx.auth(other))).status_code == 404
    assert (await lx.client.post(url, json=body, headers=lx.auth(t.token))).status_code == 403
    r = await lx.client.post(url, json=body, headers=lx.auth(lx.school_admin_token()))
    assert r.status_code == 200 and r.json()["status"] == "recorded", r.text
    again = await lx.client.post(url, json=body, headers=lx.auth(lx.school_admin_token()))
    assert again.json()["status"] == "already_recorded"
    assert (await outbox_types(lx)).count("learning.requirements_met") == 1


async def test_concurrent_replays_of_one_completion_record_it_once(lx: LearningWorld) -> None:
    import asyncio

    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023")
    results = await asyncio.gather(
        *(
            complete(lx, t, "same", course_title="c", category="general_elective", hours=Decimal(1))
            for _ in range(5)
        )
    )
    assert sum(r is not None for r in results) == 1
    assert (await outbox_types(lx)).count("learning.course_completed") == 1


async def test_reassigning_rules_reevaluates_every_teacher_across_chunks(
    lx: LearningWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attainment_service, "REEVALUATE_CHUNK", 1)  # one teacher a round
    first = await lx.seed_plan()
    others = [await lx.seed_plan(project_id=first.project_id) for _ in range(2)]
    await lx.seed_rules(first.project_id, "hefei-it2-2021")
    for t in (first, others[1]):
        await meet_2023(lx, t, tag=str(t.teacher_id))
    await complete(
        lx, others[0], "a-little", course_title="x", category="subject_elective", hours=Decimal(1)
    )
    assert "learning.requirements_met" not in await outbox_types(lx)
    await switch_to_shandong_2023(lx, first)
    assert (await outbox_types(lx)).count("learning.requirements_met") == 2
