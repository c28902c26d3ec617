"""Workshops (工作坊): 3–6 hosts, registered teachers of the subject join, cases climb county →
city → province under a floor(5%) cap per level, the province selects exemplary cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL
from services.enrollment.tests.test_cascade import event_types, register
from services.enrollment.tests.test_registration import add_teacher, auth, open_project

PROVINCE = LIXIA_SCHOOL[:1]
LIXIA_CITY = LIXIA_SCHOOL[:2]
LIXIA_COUNTY = LIXIA_SCHOOL[:3]
HOSTS = [{"user_id": f"host-{i}", "name": f"主持人{i}"} for i in range(1, 7)]


async def create_workshop(
    client: httpx.AsyncClient,
    token_for: Callable[..., str],
    project: dict[str, Any],
    *,
    admin: tuple[str, list[str]] = ("county_admin", LIXIA_COUNTY),
    subject: str = "语文",
    hosts: int = 3,
    activate: bool = True,
) -> dict[str, Any]:
    headers = auth(token_for(*admin))
    r = await client.post(
        "/workshops",
        json={"project_id": project["id"], "subject": subject, "name": f"{subject}工作坊"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    ws = dict(r.json())
    if hosts:
        h = await client.put(
            f"/workshops/{ws['id']}/hosts", json={"hosts": HOSTS[:hosts]}, headers=headers
        )
        assert h.status_code == 200, h.text
    if activate:
        a = await client.post(f"/workshops/{ws['id']}/activation", headers=headers)
        assert a.status_code == 200, a.text
    return ws


async def registered_member(
    client: httpx.AsyncClient,
    token_for: Callable[..., str],
    project: dict[str, Any],
    ws: dict[str, Any],
) -> tuple[dict[str, Any], str]:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    assert (await register(client, token_for, project, teacher)).status_code == 201
    token = token_for("teacher", LIXIA_SCHOOL, teacher_id=teacher["id"])
    r = await client.post(f"/workshops/{ws['id']}/members", json={}, headers=auth(token))
    assert r.status_code == 201, r.text
    return teacher, token


async def test_workshop_needs_three_to_six_hosts(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    ws = await create_workshop(client, token_for, project, hosts=0, activate=False)
    headers = auth(token_for("county_admin", LIXIA_COUNTY))
    bare = await client.post(f"/workshops/{ws['id']}/activation", headers=headers)
    assert bare.status_code == 422 and bare.json()["code"] == "workshop_host_count"
    url = f"/workshops/{ws['id']}/hosts"
    for n in (2, 7):
        hosts = HOSTS[:n] if n <= 6 else [*HOSTS, {"user_id": "host-7", "name": "七"}]
        r = await client.put(url, json={"hosts": hosts}, headers=headers)
        assert r.status_code == 422 and r.json()["code"] == "workshop_host_count"
    assert (await client.put(url, json={"hosts": HOSTS}, headers=headers)).status_code == 200
    ok = await client.post(f"/workshops/{ws['id']}/activation", headers=headers)
    assert ok.status_code == 200 and ok.json()["status"] == "active"
    other = auth(token_for("county_admin", RONGCHENG_SCHOOL[:3]))
    assert (await client.put(url, json={"hosts": HOSTS}, headers=other)).status_code == 404


async def test_subject_workshops_by_city_and_county_topic_workshops_by_province(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    school = await client.post(
        "/workshops",
        json={"project_id": project["id"], "subject": "语文", "name": "x"},
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert school.status_code == 403 and school.json()["code"] == "workshop_kind_not_allowed"
    topic = await client.post(
        "/workshops",
        json={"project_id": project["id"], "kind": "topic", "name": "师德师风建设"},
        headers=auth(token_for("province_admin", PROVINCE)),
    )
    assert topic.status_code == 201 and topic.json()["level"] == "province"
    unknown = await client.post(
        "/workshops",
        json={"project_id": project["id"], "subject": "物理", "name": "物理坊"},
        headers=auth(token_for("city_admin", LIXIA_CITY)),
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_subject"


async def test_registered_teacher_joins_the_workshop_of_their_subject(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    chinese = await create_workshop(client, token_for, project)
    maths = await create_workshop(client, token_for, project, subject="数学")
    _teacher, token = await registered_member(client, token_for, project, chinese)
    assert "enrollment.workshop_joined" in await event_types(client)
    wrong = await client.post(f"/workshops/{maths['id']}/members", json={}, headers=auth(token))
    assert wrong.status_code == 409 and wrong.json()["code"] == "not_registered_for_workshop"
    again = await client.post(f"/workshops/{chinese['id']}/members", json={}, headers=auth(token))
    assert again.status_code == 409 and again.json()["code"] == "already_member"
    unregistered = await add_teacher(client, token_for, LIXIA_SCHOOL)
    t2 = auth(token_for("teacher", LIXIA_SCHOOL, teacher_id=unregistered["id"]))
    r = await client.post(f"/workshops/{chinese['id']}/members", json={}, headers=t2)
    assert r.status_code == 409 and r.json()["code"] == "not_registered_for_workshop"


async def test_teacher_cannot_join_an_inactive_workshop(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    ws = await create_workshop(client, token_for, project, activate=False)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    assert (await register(client, token_for, project, teacher)).status_code == 201
    token = auth(token_for("teacher", LIXIA_SCHOOL, teacher_id=teacher["id"]))
    r = await client.post(f"/workshops/{ws['id']}/members", json={}, headers=token)
    assert r.status_code == 409 and r.json()["code"] == "workshop_not_active"


async def test_each_level_recommends_at_most_five_percent_of_cases(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    ws = await create_workshop(client, token_for, project)
    teacher, token = await registered_member(client, token_for, project, ws)
    host = auth(token_for("workshop_host", LIXIA_SCHOOL[:3], user_id="host-1"))
    cases: list[str] = []
    for i in range(19):
        r = await client.post(
            f"/workshops/{ws['id']}/cases",
            json={"title": f"案例{i}", "author_teacher_id": teacher["id"]},
            headers=host,
        )
        assert r.status_code == 201, r.text
        cases.append(r.json()["id"])
    county = auth(token_for("county_admin", LIXIA_COUNTY))
    # 19 cases: floor(0.95) = 0 may go up.
    none = await client.post(f"/workshop-cases/{cases[0]}/recommendation", headers=county)
    assert none.status_code == 409 and none.json()["code"] == "recommendation_quota_reached"
    own = await client.post(
        f"/workshops/{ws['id']}/cases", json={"title": "我的案例"}, headers=auth(token)
    )
    assert own.status_code == 201
    cases.append(own.json()["id"])
    # 20 cases: floor(1.0) = 1.
    first = await client.post(f"/workshop-cases/{cases[0]}/recommendation", headers=county)
    assert first.status_code == 200 and first.json()["county_recommended_at"]
    second = await client.post(f"/workshop-cases/{cases[1]}/recommendation", headers=county)
    assert second.status_code == 409 and second.json()["code"] == "recommendation_quota_reached"
    # The city has 1 case (the recommended one): floor(0.05) = 0.
    city = auth(token_for("city_admin", LIXIA_CITY))
    capped = await client.post(f"/workshop-cases/{cases[0]}/recommendation", headers=city)
    assert capped.status_code == 409 and capped.json()["code"] == "recommendation_quota_reached"
    not_yet = await client.post(f"/workshop-cases/{cases[1]}/recommendation", headers=city)
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "case_not_at_your_level"
    elsewhere = auth(token_for("county_admin", RONGCHENG_SCHOOL[:3]))
    hidden = await client.post(f"/workshop-cases/{cases[2]}/recommendation", headers=elsewhere)
    assert hidden.status_code == 404
    page = await client.get(f"/workshops/{ws['id']}/cases", params={"limit": 15}, headers=host)
    assert len(page.json()["items"]) == 15 and page.json()["next_cursor"]


async def test_province_selects_exemplary_cases_recommended_by_cities(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    ws = await create_workshop(client, token_for, project, admin=("city_admin", LIXIA_CITY))
    teacher, _ = await registered_member(client, token_for, project, ws)
    host = auth(token_for("workshop_host", LIXIA_CITY, user_id="host-2"))
    ids = []
    for i in range(20):
        r = await client.post(
            f"/workshops/{ws['id']}/cases",
            json={"title": f"案例{i}", "author_teacher_id": teacher["id"]},
            headers=host,
        )
        ids.append(r.json()["id"])
    province = auth(token_for("province_admin", PROVINCE))
    early = await client.post(f"/workshop-cases/{ids[0]}/recommendation", headers=province)
    assert early.status_code == 409 and early.json()["code"] == "case_not_at_your_level"
    city = auth(token_for("city_admin", LIXIA_CITY))
    assert (
        await client.post(f"/workshop-cases/{ids[0]}/recommendation", headers=city)
    ).status_code == 200
    chosen = await client.post(f"/workshop-cases/{ids[0]}/recommendation", headers=province)
    assert chosen.status_code == 200 and chosen.json()["exemplary_at"]
