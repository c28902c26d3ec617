"""Who sees and changes a teacher record (issue #12, point 1): the teacher themself reads their
own record and its history; the admins whose subtree holds the record's school read and change
it; colleagues, staff roles and admins of other orgs get 404 for the record (nothing says it
exists) and 403 for operations their role never performs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL
from services.enrollment.tests.test_cascade import register
from services.enrollment.tests.test_registration import add_teacher as add_verified_teacher
from services.enrollment.tests.test_registration import open_project
from services.enrollment.tests.test_teachers import add_teacher, auth
from services.enrollment.tests.test_workshops import create_workshop

LIXIA = LIXIA_SCHOOL[:3]
STAFF_ROLES = ("workshop_host", "expert", "training_institution", "provider")


def teacher_token(token_for: Callable[..., str], teacher: dict[str, Any]) -> str:
    school = [teacher[k] for k in ("city_id", "county_id", "school_id")]
    return token_for("teacher", [LIXIA_SCHOOL[0], *school], teacher_id=teacher["id"])


async def reads(client: httpx.AsyncClient, token: str, teacher_id: str) -> tuple[int, int]:
    record = await client.get(f"/teachers/{teacher_id}", headers=auth(token))
    changes = await client.get(f"/teachers/{teacher_id}/history", headers=auth(token))
    for r in (record, changes):
        if r.status_code == 404:
            assert r.json()["code"] == "teacher_not_found"
    return record.status_code, changes.status_code


async def test_teacher_reads_own_record_and_history_with_id_number_masked(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    me = await add_teacher(client, token_for, LIXIA_SCHOOL)
    token = teacher_token(token_for, me)
    assert await reads(client, token, me["id"]) == (200, 200)
    own = (await client.get(f"/teachers/{me['id']}", headers=auth(token))).json()
    assert own["id_number"] != me["full_id_number"] and "*" in own["id_number"]
    reveal = await client.get(
        f"/teachers/{me['id']}", params={"reveal": "id_number"}, headers=auth(token)
    )
    assert reveal.status_code == 403 and reveal.json()["code"] == "reveal_not_allowed"


async def test_teacher_cannot_read_a_colleague_of_the_same_school(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    me = await add_teacher(client, token_for, LIXIA_SCHOOL)
    colleague = await add_teacher(client, token_for, LIXIA_SCHOOL, name="王老师")
    token = teacher_token(token_for, me)
    assert await reads(client, token, colleague["id"]) == (404, 404)
    # A token of the school without a teacher id reads nothing either.
    bare = token_for("teacher", LIXIA_SCHOOL)
    assert await reads(client, bare, colleague["id"]) == (404, 404)
    assert colleague["name"] not in (await client.get("/teachers", headers=auth(token))).text


async def test_teacher_id_on_a_non_teacher_token_grants_nothing(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    t = await add_teacher(client, token_for, LIXIA_SCHOOL)
    for role in STAFF_ROLES:
        token = token_for(role, LIXIA_SCHOOL, teacher_id=t["id"])
        assert await reads(client, token, t["id"]) == (404, 404), role


async def test_staff_roles_read_no_teacher_records(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    t = await add_teacher(client, token_for, LIXIA_SCHOOL)
    for role in STAFF_ROLES:
        for path in (LIXIA_SCHOOL[:1], LIXIA, LIXIA_SCHOOL):
            token = token_for(role, path)
            assert await reads(client, token, t["id"]) == (404, 404), (role, path)
            listed = await client.get("/teachers", headers=auth(token))
            assert listed.status_code == 403, (role, path)
            lookup = await client.post(
                "/teachers/lookup", json={"ids": [t["id"]]}, headers=auth(token)
            )
            assert lookup.status_code == 403, (role, path)


async def test_teacher_and_staff_change_no_records(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    me = await add_teacher(client, token_for, LIXIA_SCHOOL)
    tokens = [teacher_token(token_for, me), *(token_for(r, LIXIA_SCHOOL) for r in STAFF_ROLES)]
    for token in tokens:
        url = f"/teachers/{me['id']}"
        changes = [
            await client.patch(url, json={"name": "改名"}, headers=auth(token)),
            await client.post(f"{url}/verify", headers=auth(token)),
            await client.post(f"{url}/depart", headers=auth(token)),
            await client.post(
                f"{url}/transfer",
                json={"to_school_id": LIXIA_SCHOOL[-1]},
                headers=auth(token),
            ),
        ]
        assert [r.status_code for r in changes] == [403] * 4, [r.text for r in changes]
    after = await client.get(
        f"/teachers/{me['id']}", headers=auth(token_for("school_admin", LIXIA_SCHOOL))
    )
    assert after.json()["name"] == me["name"] and after.json()["status"] == "active"


async def test_admins_of_another_org_neither_read_nor_change_a_teacher(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    t = await add_teacher(client, token_for, LIXIA_SCHOOL)
    others = [
        token_for("school_admin", RONGCHENG_SCHOOL),
        token_for("county_admin", RONGCHENG_SCHOOL[:3]),
        token_for("city_admin", RONGCHENG_SCHOOL[:2]),
        token_for("county_admin", [*LIXIA_SCHOOL[:2], "370103"]),  # same city, other county
    ]
    for token in others:
        assert await reads(client, token, t["id"]) == (404, 404)
        url = f"/teachers/{t['id']}"
        for r in (
            await client.patch(url, json={"name": "改名"}, headers=auth(token)),
            await client.post(f"{url}/verify", headers=auth(token)),
            await client.post(f"{url}/depart", headers=auth(token)),
            await client.post(
                f"{url}/transfer",
                json={"to_school_id": RONGCHENG_SCHOOL[-1]},
                headers=auth(token),
            ),
        ):
            assert r.status_code == 404 and r.json()["code"] == "teacher_not_found", r.text
            assert t["name"] not in r.text
        cards = await client.post("/teachers/lookup", json={"ids": [t["id"]]}, headers=auth(token))
        assert cards.status_code == 200 and cards.json()["items"] == []


async def test_admins_covering_the_school_read_the_record_and_history(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    t = await add_teacher(client, token_for, LIXIA_SCHOOL)
    for role, path in [
        ("school_admin", LIXIA_SCHOOL),
        ("county_admin", LIXIA),
        ("city_admin", LIXIA_SCHOOL[:2]),
        ("province_admin", LIXIA_SCHOOL[:1]),
    ]:
        assert await reads(client, token_for(role, path), t["id"]) == (200, 200), role


async def test_unknown_teacher_is_404_for_everyone(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("province_admin", LIXIA_SCHOOL[:1])
    assert await reads(client, token, str(uuid.uuid4())) == (404, 404)


async def test_registration_lists_are_for_admins_only(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    me = await add_teacher(client, token_for, LIXIA_SCHOOL)
    project = (await open_project(client, token_for))["id"]
    admin = auth(token_for("county_admin", LIXIA))
    assert (await client.get(f"/projects/{project}/schools", headers=admin)).status_code == 200
    for token in [teacher_token(token_for, me), *(token_for(r, LIXIA) for r in STAFF_ROLES)]:
        for path in ("registrations", "counties", "schools", "submissions"):
            r = await client.get(f"/projects/{project}/{path}", headers=auth(token))
            assert r.status_code == 403, (path, r.text)
            assert me["name"] not in r.text


async def test_a_teacher_joins_a_workshop_only_as_themself_and_staff_join_no_one(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    ws = await create_workshop(client, token_for, project)
    me = await add_verified_teacher(client, token_for, LIXIA_SCHOOL)
    colleague = await add_verified_teacher(client, token_for, LIXIA_SCHOOL, name="王老师")
    for t in (me, colleague):
        assert (await register(client, token_for, project, t)).status_code == 201
    url = f"/workshops/{ws['id']}/members"
    for role in ("workshop_host", "expert", "training_institution", "provider"):
        r = await client.post(
            url,
            json={"teacher_id": me["id"]},
            headers=auth(token_for(role, LIXIA_SCHOOL, teacher_id=me["id"])),
        )
        assert r.status_code == 403, role
    other_admin = auth(token_for("school_admin", RONGCHENG_SCHOOL))
    r = await client.post(url, json={"teacher_id": me["id"]}, headers=other_admin)
    assert (r.status_code, r.json()["code"]) == (404, "teacher_not_found")
    # A teacher naming a colleague joins themself, never the colleague.
    r = await client.post(
        url, json={"teacher_id": colleague["id"]}, headers=auth(teacher_token(token_for, me))
    )
    assert r.status_code == 201 and r.json()["teacher_id"] == me["id"], r.text
    own_admin = auth(token_for("school_admin", LIXIA_SCHOOL))
    r = await client.post(url, json={"teacher_id": colleague["id"]}, headers=own_admin)
    assert r.status_code == 201 and r.json()["teacher_id"] == colleague["id"], r.text
