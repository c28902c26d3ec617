"""审计日志 of enrollment: admin writes and ID-number reveals are recorded in the same
transaction, personal data masked; the trail is listed by the province, and by a city or a
county for its own subtree only; the table refuses UPDATE and DELETE."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL
from services.enrollment.tests.test_teachers import add_teacher, auth, new_id_number

PROVINCE = ["370000"]
JINAN = LIXIA_SCHOOL[:2]
LIXIA = LIXIA_SCHOOL[:3]
RONGCHENG = RONGCHENG_SCHOOL[:3]


async def audit(client: httpx.AsyncClient, token: str, **params: Any) -> tuple[int, dict[str, Any]]:
    r = await client.get("/audit", params=params, headers=auth(token))
    return r.status_code, r.json()


async def test_teacher_correction_is_audited_with_id_number_and_phone_masked(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    county = token_for("county_admin", LIXIA, user_id="county-lixia")
    new_id, new_phone = new_id_number(born="19900315"), "13987654321"
    r = await client.patch(
        f"/teachers/{teacher['id']}",
        json={"id_number": new_id, "phone": new_phone, "subject": "数学"},
        headers={**auth(county), "X-Request-ID": "req-audit-1"},
    )
    assert r.status_code == 200, r.text
    status, page = await audit(client, county, target_id=teacher["id"], action="teacher.update")
    assert status == 200
    [entry] = page["items"]
    assert (entry["actor_id"], entry["actor_role"], entry["actor_org"]) == (
        "county-lixia",
        "county_admin",
        LIXIA,
    )
    assert (entry["target_type"], entry["target_org"]) == ("teacher", LIXIA_SCHOOL)
    assert entry["request_id"] == "req-audit-1"
    assert entry["before"]["subject"] == "语文" and entry["after"]["subject"] == "数学"
    assert entry["after"]["id_number"] == new_id[:6] + "********" + new_id[-4:]
    assert entry["after"]["phone"] == "139****4321"
    raw = json.dumps(page)
    for secret in (new_id, new_phone, teacher["full_id_number"], "13812345678"):
        assert secret not in raw
    # The creation is in the trail too, under the school admin who collected the record.
    created = (await audit(client, county, target_id=teacher["id"], action="teacher.create"))[1]
    assert [e["actor_role"] for e in created["items"]] == ["school_admin"]


async def test_id_number_reveals_are_audited_single_and_by_lookup(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    school = token_for("school_admin", LIXIA_SCHOOL, user_id="school-lixia")
    county = token_for("county_admin", LIXIA, user_id="county-lixia")
    r = await client.get(
        f"/teachers/{teacher['id']}", params={"reveal": "id_number"}, headers=auth(school)
    )
    assert r.status_code == 200 and r.json()["id_number"] == teacher["full_id_number"]
    r = await client.post(
        "/teachers/lookup",
        json={"ids": [teacher["id"]], "reveal": "id_number"},
        headers=auth(county),
    )
    assert r.json()["items"][0]["id_number_revealed"] is True
    # A read without reveal is not an entry.
    await client.get(f"/teachers/{teacher['id']}", headers=auth(school))
    page = (await audit(client, county, action="teacher.reveal_id_number"))[1]
    assert [(e["actor_id"], e["target_id"]) for e in page["items"]] == [
        ("county-lixia", teacher["id"]),
        ("school-lixia", teacher["id"]),
    ]
    assert page["items"][0]["after"] == {"field": "id_number", "via": "lookup"}
    assert teacher["full_id_number"] not in json.dumps(page)


async def test_county_admin_lists_only_its_subtree(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    lixia = await add_teacher(client, token_for, LIXIA_SCHOOL)
    rongcheng = await add_teacher(client, token_for, RONGCHENG_SCHOOL)
    school = await client.post(
        "/orgs",
        json={"parent_id": RONGCHENG[-1], "name": "荣成市第二实验小学"},
        headers=auth(token_for("city_admin", RONGCHENG_SCHOOL[:2])),
    )
    assert school.status_code == 201, school.text

    def targets(page: dict[str, Any]) -> set[str]:
        return {e["target_id"] for e in page["items"]}

    _, mine = await audit(client, token_for("county_admin", LIXIA))
    assert targets(mine) == {lixia["id"]}
    _, city = await audit(client, token_for("city_admin", JINAN))
    assert targets(city) == {lixia["id"]}
    _, other = await audit(client, token_for("county_admin", RONGCHENG))
    assert targets(other) == {rongcheng["id"], school.json()["id"]}
    _, everything = await audit(client, token_for("province_admin", PROVINCE))
    assert targets(everything) == {lixia["id"], rongcheng["id"], school.json()["id"]}
    # Asking for another county's record by id finds nothing, rather than an error.
    _, probe = await audit(client, token_for("county_admin", LIXIA), target_id=rongcheng["id"])
    assert probe["items"] == []


async def test_listing_filters_and_pages_newest_first(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    first = await add_teacher(client, token_for, LIXIA_SCHOOL)
    second = await add_teacher(client, token_for, LIXIA_SCHOOL)
    county = token_for("county_admin", LIXIA)
    _, page1 = await audit(client, county, target_type="teacher", limit=1)
    assert [e["target_id"] for e in page1["items"]] == [second["id"]]
    _, page2 = await audit(
        client, county, target_type="teacher", limit=1, cursor=page1["next_cursor"]
    )
    assert [e["target_id"] for e in page2["items"]] == [first["id"]]
    assert page2["next_cursor"] is None
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert (await audit(client, county, since=later))[1]["items"] == []
    assert len((await audit(client, county, until=later))[1]["items"]) == 2
    # Without a zone, a time is Beijing time: eight hours ahead of UTC.
    beijing_now = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=8)
    assert len((await audit(client, county, until=beijing_now.isoformat()))[1]["items"]) == 2
    status, bad = await audit(client, county, cursor="not-a-cursor")
    assert status == 422 and bad["code"] == "invalid_cursor"
    status, _ = await audit(client, county, since="yesterday")
    assert status == 422


@pytest.mark.parametrize(
    ("role", "path"),
    [("teacher", LIXIA_SCHOOL), ("school_admin", LIXIA_SCHOOL), ("workshop_host", LIXIA)],
)
async def test_teachers_and_school_admins_may_not_read_the_trail(
    client: httpx.AsyncClient, token_for: Callable[..., str], role: str, path: list[str]
) -> None:
    status, body = await audit(client, token_for(role, path))
    assert status == 403 and body["code"] == "audit_not_allowed"
    assert (await client.get("/audit")).status_code == 401


async def test_refused_write_leaves_no_entry(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, RONGCHENG_SCHOOL)
    r = await client.patch(
        f"/teachers/{teacher['id']}",
        json={"subject": "物理"},
        headers=auth(token_for("county_admin", RONGCHENG)),
    )
    assert r.status_code == 422
    _, page = await audit(client, token_for("province_admin", PROVINCE), action="teacher.update")
    assert page["items"] == []


async def test_audit_log_refuses_update_and_delete(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    await add_teacher(client, token_for, LIXIA_SCHOOL)
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    for statement in (
        "UPDATE enrollment.audit_log SET actor_id = 'someone else'",
        "DELETE FROM enrollment.audit_log",
    ):
        async with rt.session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
    async with rt.session_factory() as session:
        assert await session.scalar(text("SELECT count(*) FROM enrollment.audit_log")) == 1
