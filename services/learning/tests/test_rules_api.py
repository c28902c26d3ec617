"""PUT/GET /projects/{id}/rules and the windows (选课 / 课程学习 / 学科必修) they set."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from learning.errors import LearningWindowClosed, SubjectRequiredWindowClosed
from learning.rules.service import require_window
from services.learning.tests.conftest import SCHOOL, LearningWorld


async def test_province_admin_assigns_a_shipped_rule_set_with_window_overrides(
    lx: LearningWorld,
) -> None:
    pid = uuid.uuid4()
    r = await lx.client.put(
        f"/projects/{pid}/rules",
        json={
            "year": 2023,
            "rule_set": "shandong-2023",
            "windows": {"selection": {"opens": "08-20", "closes": "09-30"}},
        },
        headers=lx.auth(lx.province_token()),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rule_set"]["code"] == "shandong-2023"
    windows = {w["name"]: w for w in body["windows"]}
    assert windows["selection"]["opens_on"] == "2023-08-20"
    assert windows["subject_required"]["opens_on"] == "2023-10-18"
    teacher = lx.token("teacher", SCHOOL, teacher_id=str(uuid.uuid4()))
    got = await lx.client.get(f"/projects/{pid}/rules", headers=lx.auth(teacher))
    assert got.status_code == 200 and got.json()["year"] == 2023


async def test_only_the_province_assigns_rules(lx: LearningWorld) -> None:
    r = await lx.client.put(
        f"/projects/{uuid.uuid4()}/rules",
        json={"year": 2023, "rule_set": "shandong-2023"},
        headers=lx.auth(lx.token("city_admin", SCHOOL[:2])),
    )
    assert r.status_code == 403


async def test_unknown_rule_set_is_a_422_naming_the_known_ones(lx: LearningWorld) -> None:
    r = await lx.client.put(
        f"/projects/{uuid.uuid4()}/rules",
        json={"year": 2023, "rule_set": "nowhere-1999"},
        headers=lx.auth(lx.province_token()),
    )
    assert r.status_code == 422
    assert r.json()["code"] == "rule_set_unknown"
    assert "shandong-2023" in r.text


async def test_new_years_rules_are_posted_as_a_document(lx: LearningWorld) -> None:
    doc = {
        "code": "shandong-2024",
        "name": "2024年山东省工程",
        "buckets": [
            {"code": "all", "name": "全部", "categories": ["general_elective"], "min_hours": "24"}
        ],
        "total_min_hours": "24",
    }
    pid = uuid.uuid4()
    r = await lx.client.put(
        f"/projects/{pid}/rules",
        json={"year": 2024, "document": doc},
        headers=lx.auth(lx.province_token()),
    )
    assert r.status_code == 200, r.text
    bad = await lx.client.put(
        f"/projects/{pid}/rules",
        json={"year": 2024, "document": {**doc, "buckets": []}},
        headers=lx.auth(lx.province_token()),
    )
    assert bad.status_code == 422


async def test_project_without_rules_is_404(lx: LearningWorld) -> None:
    r = await lx.client.get(f"/projects/{uuid.uuid4()}/rules", headers=lx.auth(lx.province_token()))
    assert r.status_code == 404 and r.json()["code"] == "project_rules_missing"


async def test_learning_window_refuses_outside_its_dates_with_both_languages(
    lx: LearningWorld,
) -> None:
    pid = uuid.uuid4()
    await lx.seed_rules(pid, "shandong-2023", year=2023, windows=None)

    async def check(day: date, window: str) -> None:
        async def go(session: AsyncSession) -> None:
            await require_window(session, project_id=pid, window=window, today=day)  # type: ignore[arg-type]

        await lx.run(go)

    await check(date(2023, 8, 15), "learning")
    await check(date(2023, 12, 31), "learning")
    with pytest.raises(LearningWindowClosed) as err:
        await check(date(2023, 8, 14), "learning")
    assert "2023-08-15" in err.value.detail_zh and "2023-12-31" in err.value.detail_en
    assert err.value.status == 409
    with pytest.raises(SubjectRequiredWindowClosed):
        await check(date(2023, 10, 17), "subject_required")
    await check(date(2023, 10, 18), "subject_required")


async def test_project_without_rules_has_no_window_limit(lx: LearningWorld) -> None:
    async def go(session: AsyncSession) -> None:
        await require_window(session, project_id=uuid.uuid4(), window="learning")

    await lx.run(go)


async def test_shipped_rule_sets_are_listed_and_readable(lx: LearningWorld) -> None:
    h = lx.auth(lx.token("teacher", SCHOOL))
    codes = {s["code"] for s in (await lx.client.get("/rule-sets", headers=h)).json()}
    assert {"shandong-2020", "shandong-2023", "hefei-it2-2021"} <= codes
    one = await lx.client.get("/rule-sets/shandong-2020", headers=h)
    assert one.status_code == 200 and one.json()["review_hours"] == "3"
    assert (await lx.client.get("/rule-sets/none", headers=h)).status_code == 422
