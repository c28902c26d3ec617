"""Teacher import benchmark (教师信息批量导入): a generated CSV of valid teachers with Chinese
headers goes through the real import use case — parse, validate every row (ID number check
digit, school scope, subject catalogue, duplicates in the file and in the database), encrypt and
blind-index the ID numbers, insert teachers, history rows and `teacher_created` outbox events —
in one transaction, on a fresh database.

    .venv/bin/python -m bench.enrollment_import --rows 100000

Prints rows/s (target ≥ 5,000 rows/s on the 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, text

from enrollment.idcard import check_digit
from enrollment.imports import parsing, service
from enrollment.models import Teacher, TeacherChange, machinery
from yanxiu.devstack.paths import data_dir, service_dir
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory
from yanxiu.kit.migrations import upgrade
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pii import PiiCipher, generate_key

CITY = ("370000", "370100")
HEADERS = ["姓名", "身份证号", "性别", "学校", "学段", "学科", "是否乡村教师", "手机号"]
SUBJECTS = ["语文", "数学", "英语", "科学", "音乐", "体育", "美术"]


@asynccontextmanager
async def bench_database() -> AsyncIterator[tuple[str, str]]:
    """A fresh database with the enrollment schema migrated (org tree of Shandong included);
    yields (SQLAlchemy URL, how PostgreSQL was found) and drops it afterwards."""
    server, how = await ensure_server(data_dir())
    name = f"yanxiu_bench_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    try:
        await upgrade(service_dir("enrollment"), url)
        yield url, how
    finally:
        await drop_database(server, name)


async def add_schools(url: str, per_county: int, *, city_id: str | None = None) -> list[str]:
    """`per_county` schools under every county (of one city, or all); returns their ids."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            where = "level = 'county'" + (" AND city_id = :city" if city_id else "")
            counties = (
                await conn.execute(
                    text(f"SELECT id, province_id, city_id FROM enrollment.orgs WHERE {where}"),
                    {"city": city_id} if city_id else {},
                )
            ).all()
            rows = [
                {
                    "id": f"{cid}-B{n:03d}",
                    "parent": cid,
                    "name": f"{cid}第{n}学校",
                    "prov": prov,
                    "city": city,
                    "county": cid,
                }
                for cid, prov, city in counties
                for n in range(1, per_county + 1)
            ]
            await conn.execute(
                text(
                    "INSERT INTO enrollment.orgs (id, parent_id, level, name, province_id, "
                    "city_id, county_id) VALUES (:id, :parent, 'school', :name, :prov, :city, "
                    ":county)"
                ),
                rows,
            )
        return [r["id"] for r in rows]
    finally:
        await engine.dispose()


def id_number(i: int) -> str:
    born = date(1965, 1, 1) + timedelta(days=i // 1000)
    first17 = f"370102{born:%Y%m%d}{i % 1000:03d}"
    return first17 + check_digit(first17)


def generate_csv(rows: int, schools: list[str]) -> bytes:
    """Valid rows as administrators send them (UTF-8 with BOM, Chinese headers)."""
    lines = [",".join(HEADERS)]
    for i in range(rows):
        idn = id_number(i)
        gender = "男" if int(idn[16]) % 2 else "女"
        phone = f"139{i:08d}" if i % 2 else ""
        lines.append(
            f"教师{i},{idn},{gender},{schools[i % len(schools)]},小学,"
            f"{SUBJECTS[i % len(SUBJECTS)]},{'是' if i % 3 == 0 else '否'},{phone}"
        )
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


async def bench(rows: int) -> dict[str, Any]:
    async with bench_database() as (url, how):
        schools = await add_schools(url, 20, city_id=CITY[1])
        content = generate_csv(rows, schools)
        pii = PiiCipher(generate_key())
        outbox = Outbox(machinery["outbox"], producer="enrollment")
        actor = Principal(user_id="bench", role=Role.city_admin, org_path=CITY, name="基准测试")
        engine = make_engine(url)
        factory = make_session_factory(engine)
        try:
            t_parse = time.perf_counter()
            parsing.read_sheet(content, filename="teachers.csv")
            parse_s = time.perf_counter() - t_parse

            t0 = time.perf_counter()
            async with factory() as session, session.begin():
                result = await service.import_teachers(
                    session, pii, outbox, actor=actor, content=content, filename="teachers.csv"
                )
            total_s = time.perf_counter() - t0

            async with factory() as session:
                teachers = await session.scalar(select(func.count()).select_from(Teacher))
                changes = await session.scalar(select(func.count()).select_from(TeacherChange))
                events = await session.scalar(select(func.count()).select_from(machinery["outbox"]))
        finally:
            await engine.dispose()
    assert result.imported == rows == teachers == changes == events, (teachers, changes, events)
    return {
        "postgres": how,
        "rows": rows,
        "bytes": len(content),
        "seconds": total_s,
        "parse_seconds": parse_s,
        "rows_per_s": rows / total_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    r = asyncio.run(bench(args.rows))
    print(f"teacher import, CSV through the import use case ({r['postgres']})")
    print(
        f"  {r['rows']} rows ({r['bytes'] / 1e6:.1f} MB): {r['seconds']:.2f} s "
        f"-> {r['rows_per_s']:,.0f} rows/s   (reading the CSV alone: {r['parse_seconds']:.2f} s)"
    )
    print(f"  target: >= 5,000 rows/s {'OK' if r['rows_per_s'] >= 5000 else 'MISSED'}")


if __name__ == "__main__":
    main()
