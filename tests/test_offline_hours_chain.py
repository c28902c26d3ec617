"""线下学时 end to end (issue #14, point 3), through the gateway only, as the people of Zhaoqing
(广东省 440000 → 肇庆市 441200 → 端州区 441202) use it: the province opens the city's admin, the
city the counties', the county adds a school and its teachers and opens a training institution
(培训机构); the institution enters offline hours, the county reviews them (初审), the city approves
them (审批), and the ledger counts them within Zhaoqing's caps (公需 30 / 专业 42 / 个人选修 18,
90 h a year, 450 h in five years; a half day is 4 h, a day 8 h). Hours above a cap are kept but
not counted (the notice asks for 30 + 42 + 18, no more); the year's 90 h earn a certificate.

One platform (every service and the gateway, real PostgreSQL and broker) serves the module."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest_asyncio
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.service import create_account
from tests.province.platform import platform
from tests.province.world import new_id_number
from yanxiu.devstack.postgres import create_database, drop_database, with_database
from yanxiu.kit.auth import Role
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory
from yanxiu.kit.pii import generate_key
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually

PASSWORD = "肇庆-Offline-Passw0rd"
GUANGDONG, ZHAOQING, DUANZHOU, DINGHU = "440000", "441200", "441202", "441203"
CITY = [GUANGDONG, ZHAOQING]
COUNTY = [*CITY, DUANZHOU]
OTHER_COUNTY = [*CITY, DINGHU]
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
YEAR = TODAY.year
_names = itertools.count(1)


@dataclass
class Zhaoqing:
    """The people of the chain, signed in, and the schools their counties added."""

    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)  # county code → school id
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def auth(self, actor: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[actor]}"} if actor else {}

    async def call(
        self,
        actor: str | None,
        method: str,
        path: str,
        *,
        ok: int | tuple[int, ...] = (200, 201),
        **kw: Any,
    ) -> Any:
        """A request as `actor` answered with `ok`; returns the decoded JSON body."""
        r = await self.client.request(method, path, headers=self.auth(actor), **kw)
        expected = (ok,) if isinstance(ok, int) else ok
        assert r.status_code in expected, f"{actor} {method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    async def sign_in(self, username: str) -> None:
        body = await self.call(
            None, "POST", "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        self.tokens[username] = body["access_token"]

    async def open_account(
        self, opener: str, username: str, role: Role, org_path: list[str], **extra: Any
    ) -> None:
        """开通账号 through the accounts API, then the new holder signs in."""
        self.accounts[username] = await self.call(
            opener,
            "POST",
            "/api/v1/auth/accounts",
            ok=201,
            json={
                "username": username,
                "password": PASSWORD,
                "role": role.value,
                "org_path": org_path,
                "name": extra.pop("name", username),
                **extra,
            },
        )
        await self.sign_in(username)

    async def new_teacher(self, county_admin: str, county: str, name: str) -> str:
        """信息采集: the county admin adds a teacher of its school; credits hears of the teacher
        from enrollment's events, which is what the institution's entries wait for."""
        made = await self.call(
            county_admin,
            "POST",
            "/api/v1/enrollment/teachers",
            ok=201,
            json={
                "name": name,
                "id_number": new_id_number(county),
                "school_id": self.schools[county],
                "stage": "primary",
                "subject": "语文",
                "is_rural": False,
            },
        )
        return str(made["id"])

    async def teacher_account(self, county_admin: str, county: str, teacher_id: str) -> str:
        username = f"zq.teacher{next(_names)}"
        await self.open_account(
            county_admin,
            username,
            Role.teacher,
            [*CITY, county, self.schools[county]],
            teacher_id=teacher_id,
        )
        return username


def record(
    teacher_id: str, training: str, category: str, *, days: int = 0, half_days: int = 0
) -> dict[str, Any]:
    """An institution's entry: a training that ended today and lasted as long as it credits."""
    span = max(days + (half_days + 1) // 2, 1)
    return {
        "teacher_id": teacher_id,
        "training_name": training,
        "category": category,
        "start_date": str(TODAY - timedelta(days=span - 1)),
        "end_date": str(TODAY),
        "days": days,
        "half_days": half_days,
    }


async def enter(zq: Zhaoqing, institution: str, body: dict[str, Any]) -> dict[str, Any]:
    """The institution posts a record, once credits knows the teacher (an event away)."""
    answer: dict[str, Any] = {}

    async def posted() -> bool:
        r = await zq.client.post("/api/v1/credits/records", headers=zq.auth(institution), json=body)
        if r.status_code == 404 and r.json().get("code") == "teacher_not_found":
            return False  # enrollment's event has not reached credits yet
        assert r.status_code == 201, r.text
        answer.update(r.json())
        return True

    await eventually(posted, timeout=30)
    return answer


async def decide(zq: Zhaoqing, actor: str, record_id: str, step: str, **body: Any) -> Any:
    return await zq.call(
        actor,
        "POST",
        f"/api/v1/credits/records/{record_id}/{step}",
        ok=200,
        json={"decision": "pass", **body},
    )


async def balance(zq: Zhaoqing, actor: str, teacher_id: str) -> dict[str, Any]:
    return await zq.call(
        actor, "GET", f"/api/v1/credits/ledger/{teacher_id}/balance", params={"year": YEAR}
    )


def by_category(categories: list[dict[str, Any]]) -> dict[str, tuple[Decimal, Decimal]]:
    """category → (recorded, counted)."""
    return {
        c["category"]: (Decimal(c["recorded_hours"]), Decimal(c["counted_hours"]))
        for c in categories
    }


@pytest_asyncio.fixture(scope="module")
async def served(
    pg_server: str, template_db: str, broker: str, keypair: tuple[str, str]
) -> AsyncIterator[tuple[str, str]]:
    """The whole platform on a database of this module's own: (gateway URL, database URL)."""
    name = f"yanxiu_test_offline_{uuid.uuid4().hex[:10]}"
    await create_database(pg_server, name, template=template_db)
    database_url = asyncpg_url(with_database(pg_server, name))
    pii_key, prefix = generate_key(), f"t{uuid.uuid4().hex[:8]}."

    def settings_for(cls: type[KitSettings], **overrides: Any) -> KitSettings:
        return cls.model_validate(
            {
                "database_url": database_url,
                "kafka_bootstrap_servers": broker,
                "kafka_topic_prefix": prefix,
                "jwt_public_key": keypair[1],
                "log_json": False,
                "db_pool_size": 5,
                "pii_key": pii_key,
                "kafka_session_timeout_ms": 2000,
                "kafka_fetch_max_wait_ms": 10,
                "kafka_heartbeat_interval_ms": 300,
                **overrides,
            }
        )

    try:
        async with platform(settings_for, keypair[0]) as urls:
            yield urls["gateway"], database_url
    finally:
        await drop_database(pg_server, name)


async def _first_connection(engine: AsyncEngine, attempts: int = 3) -> None:
    """The machine's shared server can stall a new connection for a few seconds while other
    tests create databases from templates (seen once: the SSL request timed out at the kit's
    3 s). Nothing is written before a connection exists, so trying again is safe; the pool of
    one keeps the connection for what follows."""
    for attempt in range(attempts):
        try:
            async with engine.connect():
                return
        except (OSError, TimeoutError, DBAPIError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1)


@pytest_asyncio.fixture(scope="module")
async def zq(served: tuple[str, str]) -> AsyncIterator[Zhaoqing]:
    """Zhaoqing's people, each account opened by the level above through the accounts API;
    only the province's own admin is opened on the platform's internal path (nobody stands
    above a province)."""
    gateway, database_url = served
    engine = make_engine(database_url, pool_size=1)
    try:
        await _first_connection(engine)
        async with make_session_factory(engine)() as session, session.begin():
            await create_account(
                session,
                username="zq.province",
                password=PASSWORD,
                role=Role.province_admin,
                org_path=[GUANGDONG],
                name="广东省项目办",
            )
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        zq = Zhaoqing(client=client)
        await zq.sign_in("zq.province")
        await zq.open_account("zq.province", "zq.city", Role.city_admin, CITY, name="肇庆市教育局")
        await zq.open_account("zq.city", "zq.duanzhou", Role.county_admin, COUNTY, name="端州区")
        await zq.open_account(
            "zq.city", "zq.dinghu", Role.county_admin, OTHER_COUNTY, name="鼎湖区"
        )
        for admin, county, school in [
            ("zq.duanzhou", DUANZHOU, "端州区线下学时实验小学"),
            ("zq.dinghu", DINGHU, "鼎湖区线下学时实验小学"),
        ]:
            made = await zq.call(
                admin, "POST", "/api/v1/enrollment/orgs", json={"parent_id": county, "name": school}
            )
            zq.schools[county] = made["id"]
        # 培训机构: the county's teacher development centre, opened by the county; the city's
        # own centre serves every county of the city.
        await zq.open_account(
            "zq.duanzhou",
            "zq.duanzhou.tdc",
            Role.training_institution,
            COUNTY,
            name="端州区教师发展中心",
        )
        await zq.open_account(
            "zq.city", "zq.city.tdc", Role.training_institution, CITY, name="肇庆市教师发展中心"
        )
        yield zq


async def test_county_and_city_admins_open_training_institution_accounts_that_sign_in(
    zq: Zhaoqing,
) -> None:
    me = await zq.call("zq.duanzhou.tdc", "GET", "/api/v1/auth/me")
    assert (me["role"], me["org_path"]) == ("training_institution", COUNTY)
    me = await zq.call("zq.city.tdc", "GET", "/api/v1/auth/me")
    assert (me["role"], me["org_path"]) == ("training_institution", CITY)
    listed = await zq.call(
        "zq.city", "GET", "/api/v1/auth/accounts", params={"role": "training_institution"}
    )
    assert {a["username"] for a in listed["items"]} == {"zq.duanzhou.tdc", "zq.city.tdc"}
    # A county opens institutions of its own county only, never of its neighbour's.
    r = await zq.client.post(
        "/api/v1/auth/accounts",
        headers=zq.auth("zq.duanzhou"),
        json={
            "username": "zq.dinghu.tdc",
            "password": PASSWORD,
            "role": "training_institution",
            "org_path": OTHER_COUNTY,
            "name": "鼎湖区教师发展中心",
        },
    )
    assert r.status_code == 403, r.text


async def test_approved_hours_count_within_zhaoqing_caps_and_the_teacher_reads_them(
    zq: Zhaoqing,
) -> None:
    teacher = await zq.new_teacher("zq.duanzhou", DUANZHOU, "陈学时")
    inst = "zq.duanzhou.tdc"
    entries = [
        record(teacher, "新课程方案培训", "professional", days=5),  # 40 h
        record(teacher, "信息技术应用能力提升2.0", "professional", days=1),  # 8 h: 48 > 42
        record(teacher, "师德师风专题培训", "public", days=4, half_days=1),  # 36 h > 30
        record(teacher, "校本研修", "elective", days=2, half_days=1),  # 20 h > 18
    ]
    made = [await enter(zq, inst, body) for body in entries]
    assert [Decimal(m["hours"]) for m in made] == [40, 8, 36, 20]
    assert {m["status"] for m in made} == {"submitted"}
    assert made[0]["teacher_name"] == "陈学时" and made[0]["county_id"] == DUANZHOU

    # 初审 by the county, then nothing is in the ledger until the city's 审批.
    for m in made:
        reviewed = await decide(zq, "zq.duanzhou", m["id"], "review")
        assert (reviewed["status"], reviewed["status_zh"]) == ("county_passed", "待审批")
    ledger = await zq.call("zq.city", "GET", f"/api/v1/credits/ledger/{teacher}")
    assert ledger["items"] == []
    # The county may not approve, nor the institution review: each step has its level.
    r = await zq.client.post(
        f"/api/v1/credits/records/{made[0]['id']}/approval",
        headers=zq.auth("zq.duanzhou"),
        json={"decision": "pass"},
    )
    assert r.status_code == 403, r.text

    for m in made[:3]:
        approved = await decide(zq, "zq.city", m["id"], "approval")
        assert (approved["status"], approved["credited_year"]) == ("approved", YEAR)
    # One ledger entry per approved record, the hours as entered.
    ledger = await zq.call("zq.duanzhou", "GET", f"/api/v1/credits/ledger/{teacher}")
    assert sorted(
        (e["source_kind"], e["category"], Decimal(e["hours"])) for e in ledger["items"]
    ) == [
        ("offline", "professional", 8),
        ("offline", "professional", 40),
        ("offline", "public", 36),
    ]
    assert {e["source_id"] for e in ledger["items"]} == {m["id"] for m in made[:3]}

    # The teacher reads their own balance: the caps applied, the surplus kept and shown.
    me = await zq.teacher_account("zq.duanzhou", DUANZHOU, teacher)
    mine = await balance(zq, me, teacher)
    assert mine["region"] == "zhaoqing"
    assert by_category(mine["categories"]) == {
        "professional": (Decimal(48), Decimal(42)),
        "public": (Decimal(36), Decimal(30)),
    }
    above = {c["category"]: Decimal(c["above_cap_hours"]) for c in mine["categories"]}
    assert above == {"professional": 6, "public": 6}
    assert Decimal(mine["counted_total"]) == 72 and Decimal(mine["required_total"]) == 90
    assert mine["complete"] is False

    # 72 of 90 hours: no certificate yet.
    r = await zq.client.post(
        "/api/v1/credits/certificates", headers=zq.auth(me), json={"year": YEAR}
    )
    assert (r.status_code, r.json()["code"]) == (409, "certificate_year_incomplete"), r.text

    await decide(zq, "zq.city", made[3]["id"], "approval")
    mine = await balance(zq, me, teacher)
    assert by_category(mine["categories"])["elective"] == (Decimal(20), Decimal(18))
    assert Decimal(mine["counted_total"]) == 90 and mine["complete"] is True
    assert (mine["cycle"], Decimal(mine["cycle_required"])) == (
        f"{2021 + (YEAR - 2021) // 5 * 5}-{2021 + (YEAR - 2021) // 5 * 5 + 4}",
        450,
    )
    assert Decimal(mine["cycle_counted_total"]) == 90
    # The city reads the same figures the teacher does.
    assert await balance(zq, "zq.city", teacher) == mine

    transcript = await zq.call(me, "GET", f"/api/v1/credits/ledger/{teacher}/transcript")
    [this_year] = [y for y in transcript["years"] if y["year"] == YEAR]
    assert transcript["name"] == "陈学时"
    assert (Decimal(this_year["recorded_hours"]), Decimal(this_year["counted_hours"])) == (104, 90)
    assert this_year["complete"] is True

    # 继续教育证书: the teacher prints it once the year's 90 h are met; anyone can verify it.
    cert = await zq.call(me, "POST", "/api/v1/credits/certificates", ok=201, json={"year": YEAR})
    assert Decimal(cert["total_hours"]) == 90 and cert["region"] == "zhaoqing"
    assert {k: Decimal(v) for k, v in cert["hours_by_category"].items()} == {
        "public": 30,
        "professional": 42,
        "elective": 18,
    }
    check = await zq.call(None, "GET", f"/api/v1/credits/certificates/verify/{cert['code']}")
    assert check["valid"] is True and Decimal(check["total_hours"]) == 90
    pdf = await zq.client.get(
        f"/api/v1/credits/certificates/{cert['code']}.pdf", headers=zq.auth(me)
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # Another teacher of the same school reads none of it.
    colleague = await zq.new_teacher("zq.duanzhou", DUANZHOU, "林同校")
    other = await zq.teacher_account("zq.duanzhou", DUANZHOU, colleague)
    r = await zq.client.get(
        f"/api/v1/credits/ledger/{teacher}/balance", params={"year": YEAR}, headers=zq.auth(other)
    )
    assert r.status_code == 404, r.text


async def test_rejections_carry_their_reason_and_credit_nothing(zq: Zhaoqing) -> None:
    teacher = await zq.new_teacher("zq.duanzhou", DUANZHOU, "黄退回")
    inst = "zq.duanzhou.tdc"
    rec = await enter(zq, inst, record(teacher, "班主任能力提升培训", "professional", days=2))
    url = f"/api/v1/credits/records/{rec['id']}"

    # A rejection without a reason is refused.
    r = await zq.client.post(
        f"{url}/review", headers=zq.auth("zq.duanzhou"), json={"decision": "reject"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "record_reason_required"), r.text
    await decide(zq, "zq.duanzhou", rec["id"], "review", decision="reject", reason="签到表缺第二天")
    seen = await zq.call(inst, "GET", url)
    assert (seen["status"], seen["status_zh"], seen["reject_reason"]) == (
        "county_rejected",
        "初审退回",
        "签到表缺第二天",
    )
    assert [h["reason"] for h in seen["history"] if h["action"] == "review_reject"] == [
        "签到表缺第二天"
    ]

    # The institution corrects it to what the sign-in sheets show and sends it again.
    corrected = await zq.call(inst, "PATCH", url, json={"days": 1})
    assert Decimal(corrected["hours"]) == 8
    await zq.call(inst, "POST", f"{url}/resubmit")
    await decide(zq, "zq.duanzhou", rec["id"], "review")
    await decide(
        zq, "zq.city", rec["id"], "approval", decision="reject", reason="培训项目未经市级备案"
    )
    seen = await zq.call(inst, "GET", url)
    assert (seen["status"], seen["reject_reason"]) == ("city_rejected", "培训项目未经市级备案")

    # The teacher sees the record sent back, with the city's reason, and no hours.
    me = await zq.teacher_account("zq.duanzhou", DUANZHOU, teacher)
    mine = await zq.call(me, "GET", "/api/v1/credits/records")
    assert [(x["status"], x["reject_reason"]) for x in mine["items"]] == [
        ("city_rejected", "培训项目未经市级备案")
    ]
    ledger = await zq.call(me, "GET", f"/api/v1/credits/ledger/{teacher}")
    assert ledger["items"] == []
    assert Decimal((await balance(zq, me, teacher))["counted_total"]) == 0


async def test_an_institution_enters_hours_only_for_teachers_in_its_area(zq: Zhaoqing) -> None:
    here = await zq.new_teacher("zq.duanzhou", DUANZHOU, "周本区")
    there = await zq.new_teacher("zq.dinghu", DINGHU, "吴邻区")
    # Once credits knows both (the city's centre may enter for either), …
    await enter(zq, "zq.city.tdc", record(there, "市级骨干教师培训", "professional", days=1))
    await enter(zq, "zq.city.tdc", record(here, "市级骨干教师培训", "professional", days=1))
    # … the county's centre is refused the neighbouring county's teacher, as if unknown, …
    r = await zq.client.post(
        "/api/v1/credits/records",
        headers=zq.auth("zq.duanzhou.tdc"),
        json=record(there, "区级培训", "professional", days=1),
    )
    assert (r.status_code, r.json()["code"]) == (404, "teacher_not_found"), r.text
    assert "吴邻区" not in r.text
    # … and a batch naming that teacher keeps nothing, not even its in-area rows.
    r = await zq.client.post(
        "/api/v1/credits/records/batch",
        headers=zq.auth("zq.duanzhou.tdc"),
        json={
            "records": [
                record(here, "区级培训", "professional", days=1),
                record(there, "区级培训", "professional", days=1),
            ]
        },
    )
    assert (r.status_code, r.json()["code"]) == (404, "teacher_not_found"), r.text
    listed = await zq.call("zq.duanzhou.tdc", "GET", "/api/v1/credits/records")
    assert here not in {x["teacher_id"] for x in listed["items"]}
    # The neighbouring county reviews its own teachers' records, not Duanzhou's.
    [theirs] = (
        await zq.call("zq.dinghu", "GET", "/api/v1/credits/records", params={"teacher_id": there})
    )["items"]
    [ours] = (
        await zq.call("zq.city", "GET", "/api/v1/credits/records", params={"teacher_id": here})
    )["items"]
    r = await zq.client.post(
        f"/api/v1/credits/records/{ours['id']}/review",
        headers=zq.auth("zq.dinghu"),
        json={"decision": "pass"},
    )
    assert r.status_code == 404, r.text
    assert (await decide(zq, "zq.dinghu", theirs["id"], "review"))["status"] == "county_passed"


async def test_a_category_zhaoqing_does_not_have_is_refused(zq: Zhaoqing) -> None:
    teacher = await zq.new_teacher("zq.duanzhou", DUANZHOU, "郑类别")
    await enter(zq, "zq.duanzhou.tdc", record(teacher, "新教师培训", "professional", days=1))
    r = await zq.client.post(
        "/api/v1/credits/records",
        headers=zq.auth("zq.duanzhou.tdc"),
        json=record(teacher, "新教师培训", "offline", days=1),
    )
    assert (r.status_code, r.json()["code"]) == (422, "record_unknown_category"), r.text
    assert set(r.json()["allowed"]) == {"public", "professional", "elective"}


async def test_more_days_than_the_training_lasted_are_refused(zq: Zhaoqing) -> None:
    teacher = await zq.new_teacher("zq.duanzhou", DUANZHOU, "钱天数")
    body = record(teacher, "一天的讲座", "professional", days=1)
    await enter(zq, "zq.duanzhou.tdc", body)
    r = await zq.client.post(
        "/api/v1/credits/records",
        headers=zq.auth("zq.duanzhou.tdc"),
        json={**body, "days": 3},
    )
    assert (r.status_code, r.json()["code"]) == (422, "record_days_exceed_dates"), r.text


async def test_a_retried_submission_with_its_idempotency_key_is_entered_once(
    zq: Zhaoqing,
) -> None:
    teacher = await zq.new_teacher("zq.duanzhou", DUANZHOU, "孙重试")
    body = record(teacher, "送教下乡", "professional", half_days=1)
    await enter(zq, "zq.duanzhou.tdc", {**body, "training_name": "首次录入"})  # credits knows
    headers = {**zq.auth("zq.duanzhou.tdc"), "Idempotency-Key": f"tdc-{teacher}-1"}
    first = await zq.client.post("/api/v1/credits/records", headers=headers, json=body)
    again = await zq.client.post("/api/v1/credits/records", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    listed = await zq.call(
        "zq.duanzhou.tdc", "GET", "/api/v1/credits/records", params={"teacher_id": teacher}
    )
    assert sorted(x["training_name"] for x in listed["items"]) == ["送教下乡", "首次录入"]
