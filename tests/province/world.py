"""A small province built through the public API, for the authorization matrix.

Every record the matrix asks about belongs to teacher T1 of school A1 (county A, city A). The
actors stand around it at every distance: T1 themself, a colleague of the same school, a
teacher of another school of the county; the admins of A1, of another school of the county,
of county A, of another county of city A, of city A, of another city, of the province; a
training institution serving county A and one serving the other city; providers P1 (whose
routes are asked about) and P2."""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.idcard import check_digit
from gateway.service import create_account
from learning.providers.signing import TARGET_SIGNED, sign_headers
from yanxiu.kit.auth import Role
from yanxiu.testing import eventually

PASSWORD = "研修-Matrix-Passw0rd"
PROVINCE = "370000"
CITY_A, COUNTY_A, COUNTY_A2 = "370100", "370102", "370103"
CITY_B, COUNTY_B = "371000", "371002"

ACTORS = (
    "anon",
    "teacher_self",
    "teacher_colleague",
    "teacher_other",
    "school_admin",
    "school_admin_other",
    "county_admin",
    "county_admin_other",
    "city_admin",
    "city_admin_other",
    "province",
    "institution_own",
    "institution_other",
    "provider_own",
    "provider_other",
)
"""The matrix's columns, nearest to the record first."""

PROVIDERS_ACTORS = ("provider_own", "provider_other")

ACTOR_ZH = {
    "anon": "未登录",
    "teacher_self": "教师本人",
    "teacher_colleague": "同校教师",
    "teacher_other": "他校教师",
    "school_admin": "本校管理员",
    "school_admin_other": "他校管理员",
    "county_admin": "本县管理员",
    "county_admin_other": "他县管理员",
    "city_admin": "本市管理员",
    "city_admin_other": "他市管理员",
    "province": "省管理员",
    "institution_own": "本区培训机构",
    "institution_other": "他区培训机构",
    "provider_own": "本机构密钥",
    "provider_other": "他机构密钥",
}

_ids = itertools.count(1)


def new_id_number(region: str = COUNTY_A) -> str:
    """A fresh, valid 身份证号 (GB 11643 check digit) in the region."""
    n = next(_ids) + int(time.time() * 1000) % 100_000 * 100
    birth = f"19{80 + n % 15:02d}{1 + n % 12:02d}{1 + n % 28:02d}"
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + check_digit(first17)


@dataclass
class Provider:
    id: str
    code: str
    key_id: str
    secret: str

    def headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        signed = target.encode() if method in TARGET_SIGNED else body
        stamp = int(time.time())
        return sign_headers(self.key_id, self.secret, signed, timestamp=stamp)


@dataclass
class World:
    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)  # A1, A2, A3, B1 → school id
    teachers: dict[str, str] = field(default_factory=dict)  # T1, T1b, T2, TB → teacher id
    ids: dict[str, str] = field(default_factory=dict)  # named records (project, lesson, …)
    rubric: dict[str, int] = field(default_factory=dict)
    # T1's name and 身份证号: what a caller outside T1's circle must never read.
    t1_name: str = "王本人"
    t1_id_number: str = ""

    def auth(self, actor: str) -> dict[str, str]:
        token = self.tokens.get(actor)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def path(self, actor: str) -> list[str]:
        return {
            "school_admin": [PROVINCE, CITY_A, COUNTY_A, self.schools["A1"]],
            "county_admin": [PROVINCE, CITY_A, COUNTY_A],
            "city_admin": [PROVINCE, CITY_A],
        }[actor]

    async def call(
        self, actor: str, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kw: Any
    ) -> Any:
        """A request as `actor` that must succeed; returns the decoded JSON body."""
        r = await self.client.request(method, path, headers=self.auth(actor), **kw)
        assert r.status_code in ok, f"{actor} {method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content and "json" in r.headers.get("content-type", "") else None

    async def signed(
        self, provider: str, method: str, path: str, payload: Any = None
    ) -> httpx.Response:
        import orjson

        body = b"" if payload is None else orjson.dumps(payload)
        headers = {
            "Content-Type": "application/json",
            **self.providers[provider].headers(method, path, body),
        }
        return await self.client.request(method, path, content=body, headers=headers)

    # --- fresh records, for operations that use their target up -------------------------------

    async def new_teacher(self, school: str = "A1", *, name: str = "新教师") -> str:
        school_admin = "school_admin" if school == "A1" else "school_admin_other"
        body = {
            "name": name,
            "id_number": new_id_number(),
            "school_id": self.schools[school],
            "stage": "primary",
            "subject": "语文",
            "is_rural": False,
        }
        made = await self.call(school_admin, "POST", "/api/v1/enrollment/teachers", json=body)
        return str(made["id"])

    async def new_registration(self) -> str:
        teacher = await self.new_teacher()
        await self.call("county_admin", "POST", f"/api/v1/enrollment/teachers/{teacher}/verify")
        reg = await self.call(
            "school_admin",
            "POST",
            f"/api/v1/enrollment/projects/{self.ids['project']}/registrations",
            json={"teacher_id": teacher, "subject": "语文"},
        )
        return str(reg["id"])


async def open_accounts(session: AsyncSession, schools: dict[str, str]) -> None:
    """The admins and institutions, opened on the internal path the demo loader uses."""
    a1, a2 = schools["A1"], schools["A2"]
    for username, role, path in [
        ("province", Role.province_admin, [PROVINCE]),
        ("city_admin", Role.city_admin, [PROVINCE, CITY_A]),
        ("city_admin_other", Role.city_admin, [PROVINCE, CITY_B]),
        ("county_admin", Role.county_admin, [PROVINCE, CITY_A, COUNTY_A]),
        ("county_admin_other", Role.county_admin, [PROVINCE, CITY_A, COUNTY_A2]),
        ("school_admin", Role.school_admin, [PROVINCE, CITY_A, COUNTY_A, a1]),
        ("school_admin_other", Role.school_admin, [PROVINCE, CITY_A, COUNTY_A, a2]),
        ("institution_own", Role.training_institution, [PROVINCE, CITY_A, COUNTY_A]),
        ("institution_other", Role.training_institution, [PROVINCE, CITY_B]),
    ]:
        await create_account(
            session, username=username, password=PASSWORD, role=role, org_path=path, name=username
        )


async def open_teacher_accounts(session: AsyncSession, w: World) -> None:
    for username, key, school in [
        ("teacher_self", "T1", "A1"),
        ("teacher_colleague", "T1b", "A1"),
        ("teacher_other", "T2", "A2"),
    ]:
        await create_account(
            session,
            username=username,
            password=PASSWORD,
            role=Role.teacher,
            org_path=[PROVINCE, CITY_A, COUNTY_A, w.schools[school]],
            name=username,
            teacher_id=uuid.UUID(w.teachers[key]),
        )


async def sign_in(w: World, actors: list[str]) -> None:
    for actor in actors:
        r = await w.client.post(
            "/api/v1/auth/token", json={"username": actor, "password": PASSWORD}
        )
        assert r.status_code == 200, f"{actor}: {r.status_code} {r.text}"
        w.tokens[actor] = r.json()["access_token"]


def around_today(days_before: int = 7, days_after: int = 60) -> dict[str, str]:
    today = date.today()
    return {
        "opens": (today - timedelta(days=days_before)).isoformat(),
        "closes": (today + timedelta(days=days_after)).isoformat(),
    }


async def build(client: httpx.AsyncClient, session_factory: Any) -> World:
    """Builds the province through the gateway, as its people would."""
    w = World(client=client)
    async with session_factory() as session, session.begin():
        for username, role, path in [
            ("province", Role.province_admin, [PROVINCE]),
            ("city_admin", Role.city_admin, [PROVINCE, CITY_A]),
            ("city_admin_other", Role.city_admin, [PROVINCE, CITY_B]),
            ("county_admin", Role.county_admin, [PROVINCE, CITY_A, COUNTY_A]),
            ("county_admin_other", Role.county_admin, [PROVINCE, CITY_A, COUNTY_A2]),
            ("county_admin_b", Role.county_admin, [PROVINCE, CITY_B, COUNTY_B]),
            ("institution_own", Role.training_institution, [PROVINCE, CITY_A, COUNTY_A]),
            ("institution_other", Role.training_institution, [PROVINCE, CITY_B]),
        ]:
            await create_account(
                session,
                username=username,
                password=PASSWORD,
                role=role,
                org_path=path,
                name=username,
            )
    await sign_in(
        w,
        [
            "province",
            "city_admin",
            "city_admin_other",
            "county_admin",
            "county_admin_other",
            "county_admin_b",
            "institution_own",
            "institution_other",
        ],
    )
    # Schools, added by their counties.
    for key, county_admin, county, name in [
        ("A1", "county_admin", COUNTY_A, "历下区矩阵实验小学"),
        ("A2", "county_admin", COUNTY_A, "历下区矩阵第二小学"),
        ("A3", "county_admin_other", COUNTY_A2, "市中区矩阵小学"),
        ("B1", "county_admin_b", COUNTY_B, "环翠区矩阵小学"),
    ]:
        made = await w.call(
            county_admin,
            "POST",
            "/api/v1/enrollment/orgs",
            json={"parent_id": county, "name": name},
        )
        w.schools[key] = made["id"]
    async with session_factory() as session, session.begin():
        for username, school, county in [
            ("school_admin", "A1", COUNTY_A),
            ("school_admin_other", "A2", COUNTY_A),
            ("school_admin_b", "B1", COUNTY_B),
        ]:
            city = CITY_B if school == "B1" else CITY_A
            await create_account(
                session,
                username=username,
                password=PASSWORD,
                role=Role.school_admin,
                org_path=[PROVINCE, city, county, w.schools[school]],
                name=username,
            )
    await sign_in(w, ["school_admin", "school_admin_other", "school_admin_b"])
    # Teachers, collected and verified.
    for key, admin, verifier, school, name in [
        ("T1", "school_admin", "county_admin", "A1", "王本人"),
        ("T1b", "school_admin", "county_admin", "A1", "李同校"),
        ("T2", "school_admin_other", "county_admin", "A2", "张他校"),
        ("TB", "school_admin_b", "county_admin_b", "B1", "刘他市"),
    ]:
        region = COUNTY_B if school == "B1" else COUNTY_A
        id_number = new_id_number(region)
        if key == "T1":
            w.t1_id_number = id_number
        made = await w.call(
            admin,
            "POST",
            "/api/v1/enrollment/teachers",
            json={
                "name": name,
                "id_number": id_number,
                "school_id": w.schools[school],
                "stage": "primary",
                "subject": "语文",
                "is_rural": False,
                "phone": "13800138000",
            },
        )
        w.teachers[key] = made["id"]
        await w.call(verifier, "POST", f"/api/v1/enrollment/teachers/{made['id']}/verify")
    async with session_factory() as session, session.begin():
        await open_teacher_accounts(session, w)
    await sign_in(w, ["teacher_self", "teacher_colleague", "teacher_other"])
    me = await w.call("teacher_self", "GET", "/api/v1/auth/me")
    w.ids["account"] = me["user_id"]
    await _project(w)
    await _learning(w)
    await _providers(w)
    await _credits(w)
    await _lessons(w)
    await _workshops(w)
    await _certificate(w)
    return w


async def _project(w: World) -> None:
    today = date.today()
    project = await w.call(
        "province",
        "POST",
        "/api/v1/enrollment/projects",
        json={
            "year": today.year,
            "stage": "primary",
            "name": f"{today.year}年互联网+教师专业发展 小学（矩阵）",
            "registration_opens_on": str(today - timedelta(days=1)),
            "registration_closes_on": str(today + timedelta(days=30)),
        },
    )
    w.ids["project"] = pid = project["id"]
    base = f"/api/v1/enrollment/projects/{pid}"
    await w.call("city_admin", "POST", f"{base}/counties", json={"org_ids": [COUNTY_A, COUNTY_A2]})
    await w.call("city_admin_other", "POST", f"{base}/counties", json={"org_ids": [COUNTY_B]})
    await w.call(
        "county_admin",
        "POST",
        f"{base}/schools",
        json={"org_ids": [w.schools["A1"], w.schools["A2"]]},
    )
    await w.call(
        "county_admin_other", "POST", f"{base}/schools", json={"org_ids": [w.schools["A3"]]}
    )
    await w.call("county_admin_b", "POST", f"{base}/schools", json={"org_ids": [w.schools["B1"]]})
    for key, admin in [
        ("T1", "school_admin"),
        ("T1b", "school_admin"),
        ("T2", "school_admin_other"),
        ("TB", "school_admin_b"),
    ]:
        reg = await w.call(
            admin,
            "POST",
            f"{base}/registrations",
            json={"teacher_id": w.teachers[key], "subject": "语文"},
        )
        w.ids[f"registration_{key}"] = reg["id"]


async def _learning(w: World) -> None:
    pid = w.ids["project"]
    windows = {name: around_today() for name in ("selection", "learning", "subject_required")}
    await w.call(
        "province",
        "PUT",
        f"/api/v1/learning/projects/{pid}/rules",
        json={"year": date.today().year, "rule_set": "shandong-2023", "windows": windows},
    )
    for key, body in [
        (
            "course_general",
            {
                "code": "MX-CLS-01",
                "title": "班级管理矩阵课",
                "kind": "elective",
                "scope": "general",
                "topic_id": "class_management",
                "hours": "6.0",
                "stages": ["primary"],
                "video_seconds": 600,
            },
        ),
        (
            "course_subject",
            {
                "code": "MX-CHN-01",
                "title": "小学语文矩阵课",
                "kind": "elective",
                "scope": "subject",
                "hours": "8.0",
                "stages": ["primary"],
                "subjects": ["语文"],
                "video_seconds": 600,
            },
        ),
    ]:
        made = await w.call("province", "POST", "/api/v1/learning/courses", json=body)
        w.ids[key] = made["id"]
        w.ids[f"{key}_code"] = body["code"]
    await w.call(
        "school_admin",
        "PUT",
        f"/api/v1/learning/schools/{w.schools['A1']}/topics",
        json={"project_id": pid, "topic_ids": ["class_management"]},
    )

    async def plan_of(teacher: str) -> Any:
        r = await w.client.get(
            f"/api/v1/learning/plans/{w.teachers[teacher]}", headers=w.auth("province")
        )
        return r.status_code == 200

    for teacher in ("T1", "T1b", "T2", "TB"):
        await eventually(lambda t=teacher: plan_of(t), timeout=30)  # type: ignore[misc]
    selection = await w.call(
        "teacher_self",
        "POST",
        "/api/v1/learning/selections",
        json={"project_id": pid, "course_id": w.ids["course_subject"]},
    )
    w.ids["selection"] = selection["id"]


async def _providers(w: World) -> None:
    for name, code in (("provider_own", "mxp1"), ("provider_other", "mxp2")):
        made = await w.call(
            "province",
            "POST",
            "/api/v1/learning/providers",
            json={"code": code, "name": f"{code}平台"},
        )
        key = await w.call("province", "POST", f"/api/v1/learning/providers/{made['id']}/keys")
        w.providers[name] = Provider(
            id=made["id"], code=code, key_id=key["key_id"], secret=key["secret"]
        )
    own = w.providers["provider_own"]
    r = await w.signed(
        "provider_own",
        "POST",
        f"/api/v1/learning/providers/{own.id}/completions",
        {
            "event_id": "matrix-completion-1",
            "teacher_id": w.teachers["T1"],
            "project_id": w.ids["project"],
            "course": {"code": w.ids["course_general_code"]},
            "completed_at": f"{date.today().isoformat()}T08:00:00+08:00",
        },
    )
    assert r.status_code in (200, 201, 202), r.text
    w.ids["completion_event"] = "matrix-completion-1"


def record_body(w: World, teacher: str = "T1", *, days: int = 1) -> dict[str, Any]:
    year = date.today().year
    return {
        "teacher_id": w.teachers[teacher],
        "teacher_name": "王本人",
        "org": {
            "province_id": PROVINCE,
            "city_id": CITY_A,
            "county_id": COUNTY_A,
            "school_id": w.schools["A1"],
        },
        # One record per training and dates: each call is another training.
        "training_name": f"矩阵线下培训-{uuid.uuid4().hex[:8]}",
        "category": "offline",
        "start_date": f"{year}-11-02",
        "end_date": f"{year}-11-04",
        "days": days,
    }


async def _credits(w: World) -> None:
    async def known() -> bool:
        r = await w.client.post(
            "/api/v1/credits/records",
            headers=w.auth("institution_own"),
            json=record_body(w, days=3),
        )
        if r.status_code == 201:
            w.ids["record_done"] = r.json()["id"]
            return True
        return False

    await eventually(known, timeout=30)
    done = w.ids["record_done"]
    decision = {"decision": "pass"}
    await w.call("county_admin", "POST", f"/api/v1/credits/records/{done}/review", json=decision)
    await w.call("city_admin", "POST", f"/api/v1/credits/records/{done}/approval", json=decision)
    pending = await w.call(
        "institution_own", "POST", "/api/v1/credits/records", json=record_body(w)
    )
    w.ids["record"] = pending["id"]
    entries = await w.call("province", "GET", f"/api/v1/credits/ledger/{w.teachers['T1']}")
    w.ids["ledger_entry"] = entries["items"][0]["id"]


async def _certificate(w: World) -> None:
    cert = await w.call(
        "county_admin",
        "POST",
        "/api/v1/credits/certificates",
        json={"year": date.today().year, "teacher_id": w.teachers["T1"]},
    )
    w.ids["certificate"] = cert["code"]


def lesson_body(title: str) -> dict[str, Any]:
    return {
        "year": date.today().year,
        "stage": "primary",
        "grade": "三年级",
        "subject": "语文",
        "textbook_version": "统编版",
        "title": title,
        "video_url": "https://video.example/lesson.mp4",
    }


async def _lessons(w: World) -> None:
    lesson = await w.call(
        "teacher_self", "POST", "/api/v1/lessons/lessons", json=lesson_body("秋天的雨")
    )
    w.ids["lesson"] = lid = lesson["id"]
    for admin, level in (
        ("school_admin", "school"),
        ("county_admin", "county"),
        ("city_admin", "city"),
    ):
        await w.call(
            admin, "POST", f"/api/v1/lessons/lessons/{lid}/promotions", json={"level": level}
        )
    run = await w.call(
        "province",
        "POST",
        "/api/v1/lessons/allocations",
        json={"project_id": w.ids["project"], "reviews_per_teacher": 1, "seed": 7},
        ok=(200, 201, 202),
    )
    w.ids["allocation"] = run["id"]
    for actor in ("teacher_other", "teacher_colleague"):
        tid = w.teachers["T2" if actor == "teacher_other" else "T1b"]
        found = await w.call(actor, "GET", f"/api/v1/lessons/assignments?teacher_id={tid}")
        items = found["items"] if isinstance(found, dict) else found
        for a in items:
            if a["lesson_id"] == lid:
                w.ids["assignment"] = a["id"]
                w.ids["reviewer"] = actor
    rubric = await w.call("teacher_other", "GET", "/api/v1/lessons/reviews/rubric")
    w.rubric = {item["key"]: item["max_points"] for item in rubric}
    review = await w.call(
        w.ids["reviewer"],
        "POST",
        "/api/v1/lessons/reviews",
        json={
            "assignment_id": w.ids["assignment"],
            "scores": w.rubric,
            "comment": "很好的一节课。",
        },
    )
    w.ids["review"] = review["id"]


async def _workshops(w: World) -> None:
    ws = await w.call(
        "city_admin",
        "POST",
        "/api/v1/enrollment/workshops",
        json={"project_id": w.ids["project"], "subject": "语文", "name": "济南小学语文矩阵工作坊"},
    )
    w.ids["workshop"] = wid = ws["id"]
    hosts = [{"user_id": f"host-{i}", "name": f"主持人{i}"} for i in range(3)]
    await w.call(
        "city_admin", "PUT", f"/api/v1/enrollment/workshops/{wid}/hosts", json={"hosts": hosts}
    )
    await w.call("city_admin", "POST", f"/api/v1/enrollment/workshops/{wid}/activation")
    await w.call("teacher_self", "POST", f"/api/v1/enrollment/workshops/{wid}/members", json={})
    case = await w.call(
        "teacher_self",
        "POST",
        f"/api/v1/enrollment/workshops/{wid}/cases",
        json={"title": "矩阵案例"},
    )
    w.ids["case"] = case["id"]
