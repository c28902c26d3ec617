"""Demo dataset (演示数据): a province, two cities, counties, schools, teachers, a project with
two registrations and its learning rules and courses, and one account per admin level.
Passwords are generated, printed once and kept in the git-ignored data folder."""

from __future__ import annotations

import secrets
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
from stack.demo_learning import load_learning_demo
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.db import make_engine, make_session_factory
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pii import PiiCipher

PROVINCE = "370000"
ORGS = [  # id, parent, level, name
    (PROVINCE, None, "province", "山东省"),
    ("370100", PROVINCE, "city", "济南市"),
    ("370102", "370100", "county", "历下区"),
    ("370102-S001", "370102", "school", "济南市历下区实验小学"),
    ("370102-S002", "370102", "school", "济南市历下区第二实验中学"),
    ("371000", PROVINCE, "city", "威海市"),
    ("371082", "371000", "county", "荣成市"),
    ("371082-S001", "371082", "school", "荣成市第一实验小学"),
]
TEACHERS = [  # school, name, stage, subject, rural, ID number's first 17 digits (fictional)
    ("370102-S001", "王芳", "primary", "语文", False, "37010219850312002"),
    ("370102-S001", "李强", "primary", "数学", False, "37010219790708001"),
    ("370102-S002", "张伟", "junior_high", "英语", False, "37010219900215003"),
    ("371082-S001", "刘洋", "primary", "语文", True, "37108219881120004"),
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
]


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


async def _load(
    session: AsyncSession, outbox: Outbox, pii: PiiCipher
) -> list[tuple[str, str, str]]:
    for row in ORGS:
        await session.merge(_org(*row))  # the migrations ship the province, cities, counties
        await session.flush()
    province = Principal(user_id="demo-loader", role=Role.province_admin, org_path=(PROVINCE,))
    today = date.today()
    project = await registration.open_project(
        session,
        outbox,
        actor=province,
        data=ProjectCreate(
            year=today.year,
            stage="primary",
            name=f"{today.year}年互联网+教师专业发展 小学",
            registration_opens_on=today - timedelta(days=30),
            registration_closes_on=max(date(today.year, 12, 31), today + timedelta(days=30)),
        ),
    )
    # The registration cascade: cities open counties, counties open schools.
    for city, county in (("370100", "370102"), ("371000", "371082")):
        city_admin = Principal(
            user_id="demo-loader", role=Role.city_admin, org_path=(PROVINCE, city)
        )
        await registration.open_counties(
            session, actor=city_admin, project_id=project.id, org_ids=[county]
        )
        county_admin = Principal(
            user_id="demo-loader", role=Role.county_admin, org_path=(PROVINCE, city, county)
        )
        schools = [o[0] for o in ORGS if o[1] == county]
        await registration.open_schools(
            session, actor=county_admin, project_id=project.id, org_ids=schools
        )
    logins: list[tuple[str, str, str]] = []
    for school, name, stage, subject, rural, id17 in TEACHERS:
        teacher = await teachers.create_teacher(
            session,
            pii,
            actor=province,
            data=TeacherCreate(
                name=name,
                school_id=school,
                stage=stage,
                subject=subject,
                is_rural=rural,
                id_number=id17 + check_digit(id17),
            ),
        )
        path = teacher.org_path
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
        county_admin = Principal(
            user_id="demo-loader", role=Role.county_admin, org_path=tuple(path[:3])
        )
        await teachers.verify_teacher(session, pii, actor=county_admin, teacher_id=teacher.id)
        if stage == "primary" and school == "370102-S001":
            school_admin = Principal(
                user_id="demo-loader", role=Role.school_admin, org_path=tuple(path)
            )
            await registration.register_teacher(
                session,
                outbox,
                actor=school_admin,
                project_id=project.id,
                data=RegistrationCreate(teacher_id=teacher.id, subject=subject),
            )
    await load_learning_demo(session, province=province, project_id=project.id, year=today.year)
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
    lines = [f"  {u:<20} {p:<14} {who}" for u, p, who in logins]
    text = "\n".join(["  username             password       who", *lines])
    saved.write_text(text + "\n")
    saved.chmod(0o600)
    print("\n  Demo accounts (also saved to .data/demo-accounts.txt):\n" + text)
    print(
        "  Log in: curl -s -X POST http://127.0.0.1:8000/api/v1/auth/token "
        '-H "Content-Type: application/json" '
        '-d \'{"username":"province_admin","password":"<password>"}\'\n'
    )


__all__ = ["load_demo"]
