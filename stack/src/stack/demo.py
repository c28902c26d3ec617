"""Demo dataset (演示数据): three regions, each with its schools, teachers, a training project
naming its rule set with registrations, and one account per admin level —
Shandong (Jinan and Weihai; the province's 2023 project), Zhaoqing in Guangdong (端州区; the
city's own programme, 90 h a year) and Hefei in Anhui (蜀山区; the city's IT 2.0 programme).
Passwords are generated, printed once and kept in the git-ignored data folder."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.idcard import check_digit
from enrollment.models import Org
from enrollment.models import metadata as enrollment_metadata
from enrollment.registration import service as registration
from enrollment.registration.schemas import ProjectCreate, RegistrationCreate
from enrollment.teachers import service as teachers
from enrollment.teachers.schemas import TeacherCreate
from gateway.service import create_account
from stack.demo_learning import load_learning_demo, load_region_rules
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.db import make_engine, make_session_factory
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pii import PiiCipher

PROVINCE = "370000"
GUANGDONG, ZHAOQING, DUANZHOU = "440000", "441200", "441202"
ANHUI, HEFEI, SHUSHAN = "340000", "340100", "340104"
ORGS = [  # id, parent, level, name
    (PROVINCE, None, "province", "山东省"),
    ("370100", PROVINCE, "city", "济南市"),
    ("370102", "370100", "county", "历下区"),
    ("370102-S001", "370102", "school", "济南市历下区实验小学"),
    ("370102-S002", "370102", "school", "济南市历下区第二实验中学"),
    ("371000", PROVINCE, "city", "威海市"),
    ("371082", "371000", "county", "荣成市"),
    ("371082-S001", "371082", "school", "荣成市第一实验小学"),
    (GUANGDONG, None, "province", "广东省"),
    (ZHAOQING, GUANGDONG, "city", "肇庆市"),
    (DUANZHOU, ZHAOQING, "county", "端州区"),
    (f"{DUANZHOU}-S001", DUANZHOU, "school", "肇庆市端州区第一小学"),
    (ANHUI, None, "province", "安徽省"),
    (HEFEI, ANHUI, "city", "合肥市"),
    (SHUSHAN, HEFEI, "county", "蜀山区"),
    (f"{SHUSHAN}-S001", SHUSHAN, "school", "合肥市蜀山区实验小学"),
]
# school, name, stage, subject, rural, ID number's first 17 digits (fictional), with a login.
# Each login costs an argon2 hash (~0.1–0.4 s): one teacher login per new region is enough.
TEACHERS = [
    ("370102-S001", "王芳", "primary", "语文", False, "37010219850312002", True),
    ("370102-S001", "李强", "primary", "数学", False, "37010219790708001", True),
    ("370102-S002", "张伟", "junior_high", "英语", False, "37010219900215003", True),
    ("371082-S001", "刘洋", "primary", "语文", True, "37108219881120004", True),
    (f"{DUANZHOU}-S001", "陈思敏", "primary", "语文", False, "44120219870521006", True),
    (f"{DUANZHOU}-S001", "梁志强", "primary", "数学", True, "44120219820917005", False),
    (f"{SHUSHAN}-S001", "汪雨婷", "primary", "语文", False, "34010419910203008", True),
    (f"{SHUSHAN}-S001", "吴国栋", "primary", "数学", False, "34010419840611007", False),
]


@dataclass(frozen=True)
class DemoProject:
    """A training project of one region: who runs it (its owner's org path), the rule set it
    names, and the schools whose primary teachers are registered."""

    owner: tuple[str, ...]
    rule_set: str
    name: str
    registered_schools: tuple[str, ...]

    @property
    def province(self) -> Principal:
        return _principal(Role.province_admin, self.owner[:1])


PROJECTS = [
    DemoProject((PROVINCE,), "shandong-2023", "互联网+教师专业发展 小学", ("370102-S001",)),
    DemoProject(
        (GUANGDONG, ZHAOQING), "zhaoqing", "肇庆市中小学教师全员培训 小学", (f"{DUANZHOU}-S001",)
    ),
    DemoProject(
        (ANHUI, HEFEI),
        "hefei-it2-2021",
        "合肥市信息技术应用能力提升工程2.0 小学",
        (f"{SHUSHAN}-S001",),
    ),
]
ACCOUNTS = [  # username, role, org path, name
    ("province_admin", Role.province_admin, [PROVINCE], "省项目办管理员"),
    ("jinan_admin", Role.city_admin, [PROVINCE, "370100"], "济南市管理员"),
    ("lixia_admin", Role.county_admin, [PROVINCE, "370100", "370102"], "历下区管理员"),
    (
        "lixia_school_admin",
        Role.school_admin,
        [PROVINCE, "370100", "370102", "370102-S001"],
        "历下区实验小学管理员",
    ),
    ("weihai_admin", Role.city_admin, [PROVINCE, "371000"], "威海市管理员"),
    ("rongcheng_admin", Role.county_admin, [PROVINCE, "371000", "371082"], "荣成市管理员"),
    # The other roles: a training institution serving Lixia (enters offline hours), a Jinan
    # workshop host and a provincial expert.
    (
        "lixia_institution",
        Role.training_institution,
        [PROVINCE, "370100", "370102"],
        "历下区教师进修学校",
    ),
    ("jinan_host", Role.workshop_host, [PROVINCE, "370100"], "济南市小学语文工作坊主持人"),
    ("province_expert", Role.expert, [PROVINCE], "省级指导专家"),
    # Zhaoqing (Guangdong): its admins, and the institution that enters offline hours for the
    # city (half a day = 4 h), reviewed by the county (初审) and approved by the city (审批).
    ("guangdong_admin", Role.province_admin, [GUANGDONG], "广东省管理员"),
    ("zhaoqing_admin", Role.city_admin, [GUANGDONG, ZHAOQING], "肇庆市管理员"),
    ("duanzhou_admin", Role.county_admin, [GUANGDONG, ZHAOQING, DUANZHOU], "端州区管理员"),
    (
        "duanzhou_school_admin",
        Role.school_admin,
        [GUANGDONG, ZHAOQING, DUANZHOU, f"{DUANZHOU}-S001"],
        "端州区第一小学管理员",
    ),
    (
        "zhaoqing_institution",
        Role.training_institution,
        [GUANGDONG, ZHAOQING],
        "肇庆市教师发展中心",
    ),
    # Hefei (Anhui): its admins.
    ("anhui_admin", Role.province_admin, [ANHUI], "安徽省管理员"),
    ("hefei_admin", Role.city_admin, [ANHUI, HEFEI], "合肥市管理员"),
    ("shushan_admin", Role.county_admin, [ANHUI, HEFEI, SHUSHAN], "蜀山区管理员"),
    (
        "shushan_school_admin",
        Role.school_admin,
        [ANHUI, HEFEI, SHUSHAN, f"{SHUSHAN}-S001"],
        "蜀山区实验小学管理员",
    ),
]


def _principal(role: Role, path: tuple[str, ...] | list[str]) -> Principal:
    return Principal(user_id="demo-loader", role=role, org_path=tuple(path))


def _org(oid: str, parent: str | None, level: str, name: str) -> Org:
    path = {o[0]: o for o in ORGS}
    chain = [oid]
    while path[chain[-1]][1] is not None:
        chain.append(path[chain[-1]][1])  # type: ignore[arg-type]
    chain.reverse()
    return Org(
        id=oid,
        parent_id=parent,
        level=level,
        name=name,
        province_id=chain[0],
        city_id=chain[1] if len(chain) > 1 else None,
        county_id=chain[2] if len(chain) > 2 else None,
    )


def _path(school: str) -> list[str]:
    org = _org(*next(o for o in ORGS if o[0] == school))
    return [org.province_id, str(org.city_id), str(org.county_id), school]


async def _open_project(
    session: AsyncSession, outbox: Outbox, demo: DemoProject, today: date
) -> uuid.UUID:
    """The project, opened by the admin of its owner; its counties and schools opened."""
    owner_role = Role.province_admin if len(demo.owner) == 1 else Role.city_admin
    project = await registration.open_project(
        session,
        outbox,
        actor=_principal(owner_role, demo.owner),
        data=ProjectCreate(
            year=today.year,
            stage="primary",
            name=f"{today.year}年{demo.name}",
            rule_set=demo.rule_set,
            registration_opens_on=today - timedelta(days=30),
            registration_closes_on=max(date(today.year, 12, 31), today + timedelta(days=30)),
        ),
    )
    # The registration cascade inside the owner: cities open counties, counties open schools.
    for row in ORGS:
        county = _org(*row)
        path = [county.province_id, str(county.city_id), county.id]
        if county.level != "county" or path[: len(demo.owner)] != list(demo.owner):
            continue
        await registration.open_counties(
            session,
            actor=_principal(Role.city_admin, path[:2]),
            project_id=project.id,
            org_ids=[county.id],
        )
        await registration.open_schools(
            session,
            actor=_principal(Role.county_admin, path),
            project_id=project.id,
            org_ids=[o[0] for o in ORGS if o[1] == county.id],
        )
    return project.id


async def _load(
    session: AsyncSession, outbox: Outbox, pii: PiiCipher
) -> list[tuple[str, str, str]]:
    for row in ORGS:
        await session.merge(_org(*row))  # the migrations ship provinces, cities, counties
        await session.flush()
    today = date.today()
    projects = {demo: await _open_project(session, outbox, demo, today) for demo in PROJECTS}
    logins: list[tuple[str, str, str]] = []
    for school, name, stage, subject, rural, id17, login in TEACHERS:
        path = _path(school)
        teacher = await teachers.create_teacher(
            session,
            pii,
            actor=_principal(Role.province_admin, path[:1]),
            data=TeacherCreate(
                name=name,
                school_id=school,
                stage=stage,
                subject=subject,
                is_rural=rural,
                id_number=id17 + check_digit(id17),
            ),
        )
        if login:
            username = f"teacher_{len(logins) + 1}"
            password = secrets.token_urlsafe(9)
            await create_account(
                session,
                username=username,
                password=password,
                role=Role.teacher,
                org_path=path,
                name=name,
                teacher_id=teacher.id,
            )
            logins.append((username, password, f"教师 {name} ({teacher.id})"))
        await teachers.verify_teacher(
            session, pii, actor=_principal(Role.county_admin, path[:3]), teacher_id=teacher.id
        )
        for demo, project_id in projects.items():
            if stage == "primary" and school in demo.registered_schools:
                await registration.register_teacher(
                    session,
                    outbox,
                    actor=_principal(Role.school_admin, path),
                    project_id=project_id,
                    data=RegistrationCreate(teacher_id=teacher.id, subject=subject),
                )
    shandong = PROJECTS[0]
    await load_learning_demo(
        session, province=shandong.province, project_id=projects[shandong], year=today.year
    )
    for demo in PROJECTS[1:]:
        await load_region_rules(
            session,
            province=demo.province,
            project_id=projects[demo],
            rule_set=demo.rule_set,
            year=today.year,
        )
    for username, role, path, name in ACCOUNTS:
        password = secrets.token_urlsafe(9)
        await create_account(
            session, username=username, password=password, role=role, org_path=path, name=name
        )
        logins.append((username, password, f"{name} ({role.value})"))
    return logins


async def load_demo(database_url: str, data: Path, pii_key: str) -> None:
    saved = data / "demo-accounts.txt"
    engine = make_engine(database_url, pool_size=2)
    try:
        factory = make_session_factory(engine)
        async with factory() as session:
            if await session.get(Org, ORGS[-1][0]) is not None:
                print(f"  demo data already loaded; logins are in {saved}")
                return
        outbox = Outbox(enrollment_metadata.tables["enrollment.outbox"], producer="enrollment")
        async with factory() as session, session.begin():
            logins = await _load(session, outbox, PiiCipher(pii_key))
    finally:
        await engine.dispose()
    lines = [f"  {u:<22} {p:<14} {who}" for u, p, who in logins]
    text = "\n".join(["  username               password       who", *lines])
    saved.write_text(text + "\n")
    saved.chmod(0o600)
    print("\n  Demo accounts (also saved to .data/demo-accounts.txt):\n" + text)
    print(
        "  Log in: curl -s -X POST http://127.0.0.1:8000/api/v1/auth/token "
        '-H "Content-Type: application/json" '
        '-d \'{"username":"province_admin","password":"<password>"}\'\n'
    )


__all__ = ["load_demo"]
