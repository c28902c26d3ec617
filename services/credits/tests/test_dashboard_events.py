"""Events for the dashboards (#18): what credits writes to its outbox, in the transaction of the
change — a teacher-year's tally once per batch, each step of an offline record, certificates
issued and revoked — and the resync that re-sends it all."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from credits.events import CREDITS_OUTBOX
from credits.ledger import service as ledger
from credits.ledger.consumers import on_course_completed, on_teacher_transferred
from credits.ledger.models import Teacher
from credits.models import machinery
from credits.records.models import OfflineRecord
from credits.resync.service import Resent, resync
from yanxiu.contracts.credits import CREDITS_TOPIC
from yanxiu.contracts.enrollment import TeacherTransferred
from yanxiu.contracts.envelope import OrgPath
from yanxiu.contracts.learning import CourseCompleted, RequirementsMet
from yanxiu.kit.app import Runtime
from yanxiu.testing import eventually

ZQ = OrgPath(province_id="440000", city_id="441200", county_id="441202", school_id="441202-S001")
ZQ_OTHER = OrgPath(
    province_id="440000", city_id="441200", county_id="441203", school_id="441203-S9"
)
SD = OrgPath(province_id="370000", city_id="370100", county_id="370102", school_id="370102-S1")
NOW = datetime.now(UTC)
YEAR = ledger.shanghai_day(NOW).year


def runtime(client: httpx.AsyncClient) -> Runtime:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt


async def told(client: httpx.AsyncClient, event_type: str) -> list[dict[str, Any]]:
    """The `data` of each event of a type in credits' outbox, in the order written."""
    table = CREDITS_OUTBOX.table
    async with runtime(client).session_factory() as session:
        rows = await session.execute(
            select(table.c.topic, table.c.payload)
            .where(table.c.event_type == event_type)
            .order_by(table.c.id)
        )
    found = []
    for topic, payload in rows.all():
        assert topic == CREDITS_TOPIC
        found.append(json.loads(payload)["data"])
    return found


async def know(client: httpx.AsyncClient, org: OrgPath = ZQ) -> uuid.UUID:
    teacher = uuid.uuid4()
    async with runtime(client).session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=teacher, name="王芳", **org.model_dump()))
    return teacher


def completed(teacher: uuid.UUID, category: str, hours: int) -> CourseCompleted:
    return CourseCompleted(
        completion_id=uuid.uuid4(),
        teacher_id=teacher,
        project_id=uuid.uuid4(),
        project_year=YEAR,
        course_id=None,
        course_title="班级管理中的沟通艺术",
        category=category,
        hours=Decimal(hours),
        source="video",
        org=ZQ,
        completed_at=NOW,
    )


async def handle(client: httpx.AsyncClient, handler: Callable[..., Any], events: Any) -> None:
    """A handler called as the consumer wrapper calls it: in a transaction it commits."""
    async with runtime(client).session_factory() as session, session.begin():
        await handler(session, events)


async def test_requirements_met_consumed_tells_the_year_once_with_its_total(
    client: httpx.AsyncClient,
) -> None:
    teacher = uuid.uuid4()  # not known to credits: the year is at the event's place
    met = RequirementsMet(
        evaluation_id=uuid.uuid4(),
        teacher_id=teacher,
        project_id=uuid.uuid4(),
        project_year=YEAR,
        rule_set="shandong-2023",
        hours_by_category={"subject_required": Decimal(3), "elective": Decimal(30)},
        total_hours=Decimal(35),
        org=SD,
        met_at=NOW,
    )
    rt = runtime(client)
    await rt.producer_ready.wait()
    # The fact sent twice under two envelope ids: the second credits nothing, so tells nothing.
    for _ in range(2):
        env = met.envelope(producer="learning", trace_id="test")
        await rt.producer.send_and_wait(
            rt.settings.topic(met.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
        )
    await eventually(lambda: _handled(client, 2), timeout=30)
    tallies = await told(client, "credits.year_tallied")
    assert tallies == [
        {
            "teacher_id": str(teacher),
            "year": YEAR,
            "total_hours": "28.0",  # Shandong: 35 project hours are 28 credits, 24 required
            "complete": True,
            "org": SD.model_dump(),
            "tallied_at": tallies[0]["tallied_at"],
        }
    ]


async def _handled(client: httpx.AsyncClient, n: int) -> bool:
    inbox = machinery["inbox"]
    async with runtime(client).session_factory() as session:
        return await session.scalar(select(func.count()).select_from(inbox)) == n


async def test_a_batch_tells_each_teacher_year_once_and_nothing_for_hours_above_caps(
    client: httpx.AsyncClient,
) -> None:
    one, two = await know(client), await know(client, ZQ_OTHER)
    await handle(
        client,
        on_course_completed,
        [
            completed(one, "general_required", 20),  # 公需, capped at 30
            completed(one, "general_elective", 6),
            completed(two, "general_elective", 6),
            completed(one, "general_required", 6),
        ],
    )
    tallies = await told(client, "credits.year_tallied")
    assert {(t["teacher_id"], t["total_hours"], t["org"]["school_id"]) for t in tallies} == {
        (str(one), "32.0", ZQ.school_id),
        (str(two), "6.0", ZQ_OTHER.school_id),
    }
    assert len(tallies) == 2
    # 公需 at 26 of 30: 10 more are recorded, 4 counted; then only above the cap, nothing moves.
    await handle(client, on_course_completed, [completed(one, "general_required", 10)])
    await handle(client, on_course_completed, [completed(one, "general_required", 10)])
    tallies = await told(client, "credits.year_tallied")
    assert [t["total_hours"] for t in tallies if t["teacher_id"] == str(one)] == ["32.0", "36.0"]


async def test_each_step_of_an_offline_record_tells_its_status_and_approval_tallies(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    teacher = await know(client)
    body = {
        "teacher_id": str(teacher),
        "training_name": "新课程方案培训",
        "category": "professional",
        "start_date": f"{YEAR}-01-08",
        "end_date": f"{YEAR}-01-10",
        "days": 2,
        "half_days": 1,
    }
    r = await client.post(
        "/records", json=body, headers=auth("training_institution", ZQ.as_list()[:2])
    )
    assert r.status_code == 201, r.text
    url = f"/records/{r.json()['id']}"
    r = await client.post(
        f"{url}/review", json={"decision": "pass"}, headers=auth("county_admin", ZQ.as_list()[:3])
    )
    assert r.status_code == 200, r.text
    assert await told(client, "credits.year_tallied") == []
    r = await client.post(
        f"{url}/approval", json={"decision": "pass"}, headers=auth("city_admin", ZQ.as_list()[:2])
    )
    assert r.status_code == 200, r.text

    changes = await told(client, "credits.offline_record_changed")
    assert [c["status"] for c in changes] == ["submitted", "county_passed", "approved"]
    assert {(c["record_id"], c["teacher_id"], c["year"]) for c in changes} == {
        (r.json()["id"], str(teacher), YEAR)
    }
    assert changes[-1]["hours"] in ("20", "20.00") and changes[-1]["category"] == "professional"
    assert changes[-1]["org"] == ZQ.model_dump()
    tallies = await told(client, "credits.year_tallied")
    assert [(t["year"], t["total_hours"], t["complete"]) for t in tallies] == [
        (YEAR, "20.0", False)
    ]


async def test_a_returned_record_tells_the_rejection_and_the_resubmission(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    teacher = await know(client)
    body = {
        "teacher_id": str(teacher),
        "training_name": "班主任培训",
        "category": "public",
        "start_date": f"{YEAR}-01-08",
        "end_date": f"{YEAR}-01-08",
        "days": 1,
        "half_days": 0,
    }
    inst = auth("training_institution", ZQ.as_list()[:2])
    url = f"/records/{(await client.post('/records', json=body, headers=inst)).json()['id']}"
    county = auth("county_admin", ZQ.as_list()[:3])
    await client.post(
        f"{url}/review", json={"decision": "reject", "reason": "无签到"}, headers=county
    )
    await client.post(f"{url}/resubmit", headers=inst)
    await client.post(f"{url}/review", json={"decision": "pass"}, headers=county)
    city = auth("city_admin", ZQ.as_list()[:2])
    await client.post(
        f"{url}/approval", json={"decision": "reject", "reason": "重复"}, headers=city
    )
    changes = await told(client, "credits.offline_record_changed")
    assert [c["status"] for c in changes] == [
        "submitted",
        "county_rejected",
        "submitted",
        "county_passed",
        "city_rejected",
    ]
    assert await told(client, "credits.year_tallied") == []


async def credit(client: httpx.AsyncClient, teacher: uuid.UUID, **hours: int) -> None:
    async with runtime(client).session_factory() as session, session.begin():
        await ledger.post_entries(
            session,
            [
                ledger.EntryIn(
                    teacher_id=teacher,
                    source_kind="bonus",
                    source_id=f"test-{category}",
                    category=category,
                    hours=Decimal(h),
                    occurred_at=NOW,
                    org=ZQ,
                    year=YEAR,
                )
                for category, h in hours.items()
            ],
        )


async def test_a_certificate_tells_its_issue_and_its_revocation_by_a_reversal(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    teacher = await know(client)
    await credit(client, teacher, public=30, professional=42, elective=18)
    me = auth("teacher", ZQ.as_list(), teacher_id=str(teacher))
    issued = await client.post("/certificates", json={"year": YEAR}, headers=me)
    assert issued.status_code == 201, issued.text
    again = await client.post("/certificates", json={"year": YEAR}, headers=me)
    assert again.status_code == 200
    [told_issued] = await told(client, "credits.certificate_issued")
    assert told_issued["teacher_id"] == str(teacher) and told_issued["year"] == YEAR
    assert told_issued["org"] == ZQ.model_dump()
    async with runtime(client).session_factory() as session, session.begin():
        assert await ledger.reverse_source(
            session,
            teacher_id=teacher,
            source_kind="bonus",
            source_id="test-elective",
            reason="重复",
        )
    [revoked] = await told(client, "credits.certificate_revoked")
    assert revoked["certificate_id"] == told_issued["certificate_id"]
    assert "冲销" in revoked["reason"] and revoked["revoked_at"]
    tallies = await told(client, "credits.year_tallied")
    assert [(t["total_hours"], t["complete"]) for t in tallies] == [
        ("90.0", True),
        ("72.0", False),
    ]


async def test_a_transfer_retells_this_years_tally_and_certificate_at_the_new_school(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    teacher = await know(client)
    await credit(client, teacher, public=30, professional=42, elective=18)
    me = auth("teacher", ZQ.as_list(), teacher_id=str(teacher))
    assert (await client.post("/certificates", json={"year": YEAR}, headers=me)).status_code == 201
    moved = TeacherTransferred(
        teacher_id=teacher,
        from_org=ZQ,
        to_org=ZQ_OTHER,
        org=ZQ_OTHER,
        from_departed_pool=False,
        stage="primary",
        subject="语文",
        transferred_at=NOW,
    )
    async with runtime(client).session_factory() as session, session.begin():
        await on_teacher_transferred(session, moved)
    tallies = await told(client, "credits.year_tallied")
    assert [(t["org"]["school_id"], t["total_hours"]) for t in tallies] == [
        (ZQ.school_id, "90.0"),
        (ZQ_OTHER.school_id, "90.0"),
    ]
    issued = await told(client, "credits.certificate_issued")
    assert [c["org"]["school_id"] for c in issued] == [ZQ.school_id, ZQ_OTHER.school_id]


async def test_resync_resends_every_year_certificate_and_record_as_it_stands(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    teachers = [await know(client) for _ in range(3)]
    for t in teachers:
        await credit(client, t, public=30, professional=42, elective=18)
    me = auth("teacher", ZQ.as_list(), teacher_id=str(teachers[0]))
    assert (await client.post("/certificates", json={"year": YEAR}, headers=me)).status_code == 201
    record = {
        "teacher_id": str(teachers[1]),
        "training_name": "新课程方案培训",
        "category": "professional",
        "start_date": f"{YEAR}-01-08",
        "end_date": f"{YEAR}-01-08",
        "days": 1,
        "half_days": 0,
    }
    inst = auth("training_institution", ZQ.as_list()[:2])
    url = f"/records/{(await client.post('/records', json=record, headers=inst)).json()['id']}"
    county = auth("county_admin", ZQ.as_list()[:3])
    assert (
        await client.post(f"{url}/review", json={"decision": "pass"}, headers=county)
    ).is_success
    before = {
        kind: await told(client, f"credits.{kind}")
        for kind in ("year_tallied", "certificate_issued", "offline_record_changed")
    }

    done = await resync(runtime(client).session_factory, since=None, page=2)

    assert done == Resent(
        year_tallied=3, certificate_issued=1, certificate_revoked=0, offline_record_changed=1
    )
    years = (await told(client, "credits.year_tallied"))[len(before["year_tallied"]) :]
    assert sorted(t["teacher_id"] for t in years) == sorted(map(str, teachers))
    assert {(t["total_hours"], t["complete"]) for t in years} == {("90.0", True)}
    certs = (await told(client, "credits.certificate_issued"))[len(before["certificate_issued"]) :]
    assert certs == before["certificate_issued"]  # the same snapshot, re-sent
    records = await told(client, "credits.offline_record_changed")
    assert records[-1]["status"] == "county_passed"
    async with runtime(client).session_factory() as session:
        stored = await session.scalar(select(OfflineRecord))
    assert stored is not None
    assert datetime.fromisoformat(records[-1]["changed_at"]) == stored.updated_at

    later = await resync(runtime(client).session_factory, since=NOW + timedelta(days=1))
    assert later == Resent()
