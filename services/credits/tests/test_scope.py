"""Who sees and changes what in credits (issue #12 point 1): decided from the teacher's place
as credits stores it (its teacher read model, fed by enrollment's events), never from names or
orgs in a request body. The teacher sees their own ledger, records and certificates; the
admins covering the stored place see and act on them; anyone else gets 404 with nothing told
(hours included); certificate links use the configured public base URL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from credits.config import Settings
from credits.ledger import service as ledger
from credits.ledger.models import Teacher
from credits.main import create_app
from services.credits.tests.test_ledger import publish
from yanxiu.contracts.enrollment import TeacherCreated, TeacherUpdated
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.app import Runtime
from yanxiu.testing import app_client, eventually

pytestmark = pytest.mark.asyncio

ZQ = OrgPath(province_id="440000", city_id="441200", county_id="441202", school_id="441202-S1")
ZQ_PATH = ZQ.as_list()
OTHER_COUNTY = ["440000", "441200", "441203"]
OTHER_CITY = ["440000", "440100"]
THIS_YEAR = ledger.shanghai_day(datetime.now(UTC)).year
STAFF_ROLES = ("workshop_host", "expert", "training_institution", "provider")


def rt(client: httpx.AsyncClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


async def known(client: httpx.AsyncClient, name: str = "欧阳娜娜", org: OrgPath = ZQ) -> uuid.UUID:
    teacher = uuid.uuid4()
    async with rt(client).session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=teacher, name=name, **org.model_dump()))
    return teacher


async def credit(client: httpx.AsyncClient, teacher: uuid.UUID, **hours: int) -> None:
    async with rt(client).session_factory() as session, session.begin():
        await ledger.post_entries(
            session,
            [
                ledger.EntryIn(
                    teacher_id=teacher,
                    source_kind="bonus",
                    source_id=f"scope-{category}",
                    category=category,
                    hours=Decimal(h),
                    occurred_at=datetime(THIS_YEAR, 1, 2, tzinfo=UTC),
                    org=ZQ,
                    year=THIS_YEAR,
                )
                for category, h in hours.items()
            ],
        )


COMPLETE = {"public": 30, "professional": 42, "elective": 18}


# --- certificates ---------------------------------------------------------------------------


async def test_a_certificate_carries_the_name_and_org_credits_stores_not_the_callers(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client, name="欧阳娜娜")
    await credit(client, teacher, **COMPLETE)
    # A teacher token names a school and a display name; neither is printed.
    me = auth("teacher", [*ZQ_PATH[:3], "441202-S9"], teacher_id=str(teacher))
    r = await client.post("/certificates", json={"year": THIS_YEAR}, headers=me)
    assert r.status_code == 201, r.text
    assert r.json()["teacher_name"] == "欧阳娜娜"
    county = auth("county_admin", ZQ_PATH[:3])
    listed = (await client.get("/certificates", headers=county)).json()["items"]
    assert [c["code"] for c in listed] == [r.json()["code"]]


async def test_a_certificate_request_takes_only_teacher_and_year_from_the_body(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client)
    await credit(client, teacher, **COMPLETE)
    county = auth("county_admin", ZQ_PATH[:3])
    for extra in ({"teacher_name": "张三"}, {"org": ZQ.model_dump()}):
        r = await client.post(
            "/certificates",
            json={"year": THIS_YEAR, "teacher_id": str(teacher), **extra},
            headers=county,
        )
        assert r.status_code == 422, r.text
    r = await client.post(
        "/certificates", json={"year": THIS_YEAR, "teacher_id": str(teacher)}, headers=county
    )
    assert r.status_code == 201 and r.json()["teacher_name"] == "欧阳娜娜", r.text


async def test_unknown_or_out_of_scope_teacher_gets_404_and_no_hours_are_told(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client)
    await credit(client, teacher, public=30)  # an incomplete year: 30 of 90 hours
    body = {"year": THIS_YEAR, "teacher_id": str(teacher)}
    for headers in (
        auth("county_admin", OTHER_COUNTY),
        auth("city_admin", OTHER_CITY),
        auth("school_admin", [*ZQ_PATH[:3], "441202-S2"]),
    ):
        r = await client.post("/certificates", json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "teacher_not_found")
        assert "30" not in r.json()["detail"] and "欧阳" not in r.text
    unknown = {"year": THIS_YEAR, "teacher_id": str(uuid.uuid4())}
    r = await client.post("/certificates", json=unknown, headers=auth("province_admin", ["440000"]))
    assert (r.status_code, r.json()["code"]) == (404, "teacher_not_found")
    # In scope, the incomplete year is told.
    r = await client.post("/certificates", json=body, headers=auth("county_admin", ZQ_PATH[:3]))
    assert (r.status_code, r.json()["code"]) == (409, "certificate_year_incomplete")
    assert "30" in r.json()["detail"]


async def test_teachers_and_staff_cannot_ask_for_someone_elses_certificate(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client)
    await credit(client, teacher, **COMPLETE)
    body = {"year": THIS_YEAR, "teacher_id": str(teacher)}
    colleague = auth("teacher", ZQ_PATH, teacher_id=str(uuid.uuid4()))
    assert (await client.post("/certificates", json=body, headers=colleague)).status_code == 403
    for role in STAFF_ROLES:
        headers = auth(role, ZQ_PATH[:3], teacher_id=str(teacher))
        r = await client.post("/certificates", json=body, headers=headers)
        assert r.status_code == 403, role
        assert (await client.get("/certificates", headers=headers)).status_code == 403


async def test_certificate_links_use_the_public_base_url(
    settings_for: Callable[..., Any], auth: Any
) -> None:
    base = "https://yanxiu.example.cn/api/v1/credits"
    app = create_app(settings_for(Settings, public_base_url=base + "/"))
    async with app_client(app) as c:
        c.app = app  # type: ignore[attr-defined]
        teacher = await known(c)
        await credit(c, teacher, **COMPLETE)
        me = auth("teacher", ZQ_PATH, teacher_id=str(teacher))
        cert = (await c.post("/certificates", json={"year": THIS_YEAR}, headers=me)).json()
        assert cert["pdf_url"] == f"{base}/certificates/{cert['code']}.pdf"
        assert cert["verify_url"] == f"{base}/certificates/verify/{cert['code']}"
        listed = (await c.get("/certificates", headers=me)).json()["items"]
        assert listed[0]["verify_url"] == cert["verify_url"]


async def test_certificate_links_default_to_the_gateways_public_address(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client)
    await credit(client, teacher, **COMPLETE)
    me = auth("teacher", ZQ_PATH, teacher_id=str(teacher))
    cert = (await client.post("/certificates", json={"year": THIS_YEAR}, headers=me)).json()
    assert cert["verify_url"].startswith("http://127.0.0.1:8000/api/v1/credits/certificates/")
    assert str(client.base_url).rstrip("/") not in cert["pdf_url"]


# --- ledger ---------------------------------------------------------------------------------


async def ledger_reads(
    client: httpx.AsyncClient, headers: dict[str, str], teacher: uuid.UUID
) -> list[int]:
    base = f"/ledger/{teacher}"
    return [
        (await client.get(url, params=params, headers=headers)).status_code
        for url, params in (
            (base, {}),
            (f"{base}/balance", {"year": THIS_YEAR}),
            (f"{base}/transcript", {}),
        )
    ]


async def test_ledger_is_read_by_the_teacher_and_admins_covering_the_stored_place_only(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client)
    await credit(client, teacher, public=8)
    assert (
        await ledger_reads(client, auth("teacher", ZQ_PATH, teacher_id=str(teacher)), teacher)
        == [200] * 3
    )
    for role, path in (("school_admin", ZQ_PATH), ("county_admin", ZQ_PATH[:3])):
        assert await ledger_reads(client, auth(role, path), teacher) == [200] * 3
    for headers in (
        auth("teacher", ZQ_PATH, teacher_id=str(uuid.uuid4())),
        auth("county_admin", OTHER_COUNTY),
        auth("city_admin", OTHER_CITY),
        *(auth(role, ZQ_PATH, teacher_id=str(teacher)) for role in STAFF_ROLES),
    ):
        assert await ledger_reads(client, headers, teacher) == [404] * 3


async def test_a_reversal_outside_the_stored_place_is_404(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client)
    await credit(client, teacher, public=8)
    me = auth("teacher", ZQ_PATH, teacher_id=str(teacher))
    [entry] = (await client.get(f"/ledger/{teacher}", headers=me)).json()["items"]
    body = {"entry_id": entry["id"], "reason": "重复登记的培训"}
    url = f"/ledger/{teacher}/reversals"
    for headers in (auth("county_admin", OTHER_COUNTY), auth("city_admin", OTHER_CITY)):
        r = await client.post(url, json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "ledger_entry_not_found")
    for headers in (me, auth("school_admin", ZQ_PATH), auth("expert", ZQ_PATH[:1])):
        assert (await client.post(url, json=body, headers=headers)).status_code == 403
    r = await client.post(url, json=body, headers=auth("city_admin", ZQ_PATH[:2]))
    assert r.status_code == 201, r.text


# --- offline records ------------------------------------------------------------------------


def record(teacher: uuid.UUID) -> dict[str, Any]:
    return {
        "teacher_id": str(teacher),
        "training_name": "新课程方案培训",
        "category": "professional",
        "start_date": f"{THIS_YEAR}-01-02",
        "end_date": f"{THIS_YEAR}-01-02",
        "days": 1,
    }


async def test_an_institution_books_hours_only_for_known_teachers_inside_its_area(
    client: httpx.AsyncClient, auth: Any
) -> None:
    inside = await known(client, name="李四")
    elsewhere = await known(
        client,
        name="王五",
        org=OrgPath(province_id="440000", city_id="440100", county_id="440103", school_id="S"),
    )
    institution = auth("training_institution", ZQ_PATH[:2], user_id="inst-zq")
    # The body's name and place are ignored: the record says what enrollment says.
    claimed = {
        **record(inside),
        "teacher_name": "冒名",
        "org": {**ZQ.model_dump(), "school_id": "X"},
    }
    r = await client.post("/records", json=claimed, headers=institution)
    assert r.status_code == 201, r.text
    assert (r.json()["teacher_name"], r.json()["school_id"]) == ("李四", ZQ.school_id)
    # Claiming a place inside the area for a teacher enrollment places elsewhere does not help.
    inside_claim = {**record(elsewhere), "org": ZQ.model_dump()}
    for body in (inside_claim, record(uuid.uuid4())):
        r = await client.post("/records", json=body, headers=institution)
        assert (r.status_code, r.json()["code"]) == (404, "teacher_not_found")
        assert "王五" not in r.text
    batch = {"records": [{**record(inside), "training_name": "第二次培训"}, record(elsewhere)]}
    r = await client.post("/records/batch", json=batch, headers=institution)
    assert r.status_code == 404 and r.json()["index"] == 1
    listed = (await client.get("/records", headers=institution)).json()["items"]
    assert len(listed) == 1  # nothing of the refused batch was kept


async def test_staff_roles_neither_list_nor_read_offline_records(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client)
    institution = auth("training_institution", ZQ_PATH[:2], user_id="inst-zq")
    rec = (await client.post("/records", json=record(teacher), headers=institution)).json()
    for role in ("workshop_host", "expert", "provider"):
        headers = auth(role, ZQ_PATH[:1], teacher_id=str(teacher))
        assert (await client.get("/records", headers=headers)).status_code == 403, role
        assert (await client.get(f"/records/{rec['id']}", headers=headers)).status_code == 404
    colleague = auth("teacher", ZQ_PATH, teacher_id=str(uuid.uuid4()))
    assert (await client.get(f"/records/{rec['id']}", headers=colleague)).status_code == 404
    me = auth("teacher", ZQ_PATH, teacher_id=str(teacher))
    assert (await client.get(f"/records/{rec['id']}", headers=me)).status_code == 200


async def test_county_review_and_city_approval_act_only_on_records_they_cover(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known(client)
    institution = auth("training_institution", ZQ_PATH[:2], user_id="inst-zq")
    rec = (await client.post("/records", json=record(teacher), headers=institution)).json()
    url = f"/records/{rec['id']}"
    r = await client.post(
        f"{url}/review", json={"decision": "pass"}, headers=auth("county_admin", OTHER_COUNTY)
    )
    assert r.status_code == 404
    r = await client.post(
        f"{url}/review", json={"decision": "pass"}, headers=auth("county_admin", ZQ_PATH[:3])
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{url}/approval", json={"decision": "pass"}, headers=auth("city_admin", OTHER_CITY)
    )
    assert r.status_code == 404
    r = await client.post(
        f"{url}/approval", json={"decision": "pass"}, headers=auth("city_admin", ZQ_PATH[:2])
    )
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text


# --- the read model -------------------------------------------------------------------------


async def test_the_teacher_read_model_learns_every_teacher_and_their_corrected_name(
    client: httpx.AsyncClient,
) -> None:
    teacher = uuid.uuid4()
    now = datetime.now(UTC)
    common = {
        "teacher_id": teacher,
        "stage": "primary",
        "subject": "数学",
        "is_rural": False,
        "status": "active",
        "org": ZQ,
    }
    created = TeacherCreated(
        **common, teacher_name="赵六", gender="male", verified=False, created_at=now
    )
    updated = TeacherUpdated(
        **common, teacher_name="赵陆", changed_fields=["name"], verified=False, updated_at=now
    )
    await publish(client, created, updated)

    async def renamed() -> bool:
        async with rt(client).session_factory() as session:
            found = await session.get(Teacher, teacher)
            return found is not None and found.name == "赵陆"

    await eventually(renamed, timeout=30)
