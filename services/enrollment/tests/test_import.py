"""教师信息批量导入: XLSX and CSV files as administrators send them, all or nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select

from enrollment.idcard import check_digit
from enrollment.models import Org, Teacher, TeacherChange, machinery
from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL

HEADERS = ["姓名", "身份证号", "性别", "学校", "学段", "学科", "是否乡村教师", "手机号"]
_serial = iter(range(1, 10**6))


def id_number(born: str = "19850101", region: str = "370102") -> str:
    first17 = f"{region}{born}{next(_serial) % 1000:03d}"
    return first17 + check_digit(first17)


def gender_of(idn: str) -> str:
    return "男" if int(idn[16]) % 2 else "女"


def row(**over: Any) -> list[Any]:
    idn = over.pop("身份证号", None) or id_number()
    values = {
        "姓名": "王老师",
        "身份证号": idn,
        "性别": gender_of(idn),
        "学校": "370102-S001",
        "学段": "小学",
        "学科": "语文",
        "是否乡村教师": "否",
        "手机号": "13800138000",
        **over,
    }
    return [values[h] for h in HEADERS]


def csv_bytes(
    rows: list[list[Any]], *, headers: list[str] = HEADERS, encoding: str = "utf-8"
) -> bytes:
    lines = [",".join(headers)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def upload(
    client: httpx.AsyncClient, token: str, content: bytes, name: str = "teachers.csv"
) -> httpx.Response:
    return await client.post(
        "/teachers/import", files={"file": (name, content)}, headers=auth(token)
    )


async def count(client: httpx.AsyncClient, what: Any) -> int:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)


async def test_import_of_a_clean_csv_inserts_every_teacher_with_history_and_events(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("county_admin", LIXIA_SCHOOL[:3])
    r = await upload(
        client, token, csv_bytes([row(), row(是否乡村教师="是"), row(学段="初中", 学科="物理")])
    )
    assert r.status_code == 201, r.text
    assert r.json() == {"imported": 3}
    assert await count(client, Teacher) == 3
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        changes = (await session.scalars(select(TeacherChange))).all()
        outbox = machinery["outbox"].c
        events = (await session.execute(select(outbox.event_type, outbox.payload))).all()
        stages = sorted((await session.scalars(select(Teacher.stage))).all())
    assert [c.action for c in changes] == ["import"] * 3
    assert all(c.after and "********" in c.after["id_number"] for c in changes)
    assert [e.event_type for e in events] == ["enrollment.teacher_created"] * 3
    payload = json.loads(events[0].payload)
    assert payload["data"]["org"] == {
        "province_id": "370000",
        "city_id": "370100",
        "county_id": "370102",
        "school_id": "370102-S001",
    }
    assert "id_number" not in payload["data"]
    assert stages == ["junior_high", "primary", "primary"]


async def test_import_with_one_bad_row_writes_nothing_and_reports_row_and_column_in_chinese(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("school_admin", LIXIA_SCHOOL)
    bad = id_number()
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")  # wrong check digit
    rows = [row(), row(), row(身份证号=bad, 性别=None), row(学科="天文", 是否乡村教师="")]
    r = await upload(client, token, csv_bytes(rows))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "import_rejected"
    found = {(e["row"], e["column"]): e for e in body["errors"]}
    assert found[(4, "身份证号")]["message_zh"] == "身份证号校验位错误"
    assert found[(4, "身份证号")]["value"] == bad
    assert "天文" in found[(5, "学科")]["message_zh"]
    assert found[(5, "是否乡村教师")]["message_zh"] == "必填项不能为空"
    assert found[(5, "学科")]["message"].startswith("第5行「学科」")
    assert await count(client, Teacher) == 0
    assert await count(client, TeacherChange) == 0


async def test_import_accepts_full_width_digits_spaces_and_text_dates(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    idn = id_number(born="19900215")
    wide = " " + "".join(chr(ord(c) + 0xFEE0) for c in idn[:9]) + " " + idn[9:].lower() + "\u3000"
    headers = [*HEADERS, "出生日期"]
    rows = [
        [
            " 张 三 ",
            wide,
            gender_of(idn),
            " 历下区实验小学 ",
            " 小学",
            "数学 ",
            " 是 ",
            "１３８ ００１３ ８０００",
            "1990年2月15日",
        ],
        [*row(身份证号=(b := id_number(born="19880704"))), "1988/7/4"],
        [*row(身份证号=(c := id_number(born="19770301"))), "19770301"],
    ]
    assert b and c
    r = await upload(
        client, token_for("school_admin", LIXIA_SCHOOL), csv_bytes(rows, headers=headers)
    )
    assert r.status_code == 201, r.text
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        t = await session.scalar(select(Teacher).where(Teacher.name == "张三"))
    assert t is not None
    assert (t.birth_date, t.subject, t.is_rural, t.school_id) == (
        date(1990, 2, 15),
        "数学",
        True,
        "370102-S001",
    )


async def test_import_refuses_birth_date_and_gender_that_contradict_the_id_number(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    idn = id_number(born="19900215")
    wrong_gender = "女" if gender_of(idn) == "男" else "男"
    headers = [*HEADERS, "出生日期"]
    r = await upload(
        client,
        token_for("school_admin", LIXIA_SCHOOL),
        csv_bytes([[*row(身份证号=idn, 性别=wrong_gender), "1990-02-16"]], headers=headers),
    )
    assert r.status_code == 422
    columns = {e["column"]: e["message_zh"] for e in r.json()["errors"]}
    assert columns == {"性别": "性别与身份证号不符", "出生日期": "出生日期与身份证号不符"}


async def test_import_refuses_duplicate_id_numbers_within_the_file(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    idn = id_number()
    rows = [row(身份证号=idn), row(), row(身份证号=idn.lower().replace("3", "３", 1))]
    r = await upload(client, token_for("school_admin", LIXIA_SCHOOL), csv_bytes(rows))
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["row"], error["column"]) == (4, "身份证号")
    assert error["message_zh"] == "与第2行的身份证号重复"
    assert await count(client, Teacher) == 0


async def test_import_refuses_id_numbers_already_registered(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("school_admin", LIXIA_SCHOOL)
    idn = id_number()
    assert (await upload(client, token, csv_bytes([row(身份证号=idn)]))).status_code == 201
    r = await upload(client, token, csv_bytes([row(), row(身份证号=idn)]))
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["row"], error["column"]) == (3, "身份证号")
    assert "已登记" in error["message_zh"]
    assert await count(client, Teacher) == 1


async def test_import_refuses_schools_outside_the_callers_scope(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("county_admin", LIXIA_SCHOOL[:3])
    rows = [
        row(),
        row(学校=RONGCHENG_SCHOOL[-1]),
        row(学校="荣成市第一实验小学"),
        row(学校="370102"),
    ]
    r = await upload(client, token, csv_bytes(rows))
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "学校"), (4, "学校"), (5, "学校")]
    assert all(e["message_zh"] == "学校不存在或不在您的管理范围内" for e in errors)
    assert await count(client, Teacher) == 0


async def test_import_needs_an_admin_of_school_county_or_city(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    r = await upload(client, token_for("teacher", LIXIA_SCHOOL), csv_bytes([row()]))
    assert r.status_code == 403


async def test_import_reports_missing_required_columns(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    headers = [h for h in HEADERS if h != "是否乡村教师"]
    r = await upload(
        client,
        token_for("school_admin", LIXIA_SCHOOL),
        csv_bytes([row()[:6] + row()[7:]], headers=headers),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["column"] == "是否乡村教师"
    assert r.json()["errors"][0]["row"] == 1


async def test_gbk_csv_is_read(client: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    token = token_for("school_admin", LIXIA_SCHOOL)
    r = await upload(client, token, csv_bytes([row(姓名="赵老师")], encoding="gbk"))
    assert r.status_code == 201, r.text
    bom = b"\xef\xbb\xbf" + csv_bytes([row(姓名="钱老师")])
    assert (await upload(client, token, bom)).status_code == 201
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        names = sorted((await session.scalars(select(Teacher.name))).all())
    assert names == ["赵老师", "钱老师"]


async def test_xlsx_is_read_with_date_cells_and_row_numbers(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("city_admin", LIXIA_SCHOOL[:2])
    headers = [*HEADERS, "出生日期"]
    idn = id_number(born="19850101")
    content = xlsx_bytes(
        [[*row(身份证号=idn), date(1985, 1, 1)], [*row(学段="高校"), None]], headers=headers
    )
    r = await upload(client, token, content, name="teachers.xlsx")
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(3, "学段")]
    content = xlsx_bytes([[*row(身份证号=idn), date(1985, 1, 1)]], headers=headers)
    r = await upload(client, token, content, name="teachers.xlsx")
    assert r.status_code == 201, r.text


async def test_unreadable_and_oversized_files_are_refused_clearly(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("school_admin", LIXIA_SCHOOL)
    r = await upload(client, token, b"\xd0\xcf\x11\xe0" + b"\0" * 100, name="old.xls")
    assert r.status_code == 422 and r.json()["code"] == "import_file_unreadable"
    r = await upload(client, token, b"PK\x03\x04broken", name="x.xlsx")
    assert r.status_code == 422 and r.json()["code"] == "import_file_unreadable"
    r = await upload(client, token, b"a" * (20 * 1024 * 1024 + 1))
    assert r.status_code == 413 and r.json()["code"] == "import_file_too_large"


async def test_import_accepts_stage_codes_and_refuses_ambiguous_school_names(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session, session.begin():
        session.add(
            Org(
                id="370103-S999",
                parent_id="370103",
                level="school",
                name="历下区实验小学",
                province_id="370000",
                city_id="370100",
                county_id="370103",
            )
        )
    token = token_for("city_admin", LIXIA_SCHOOL[:2])
    r = await upload(client, token, csv_bytes([row(学段="primary"), row(学校="历下区实验小学")]))
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["row"], error["column"]) == (3, "学校")
    assert "同名" in error["message_zh"]
    r = await upload(client, token, csv_bytes([row(学段="primary"), row(学校="370103-S999")]))
    assert r.status_code == 201, r.text


async def test_id_numbers_mangled_by_excel_number_format_get_a_text_format_hint(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    csv = (
        "姓名,身份证号,学校,学段,学科,是否乡村教师\n"
        f"王芳,370102198503120000,{LIXIA_SCHOOL[-1]},小学,语文,否\n"
    ).encode()
    r = await client.post(
        "/teachers/import",
        files={"file": ("teachers.csv", csv, "text/csv")},
        headers={"Authorization": "Bearer " + token_for("county_admin", LIXIA_SCHOOL[:3])},
    )
    assert r.status_code == 422
    assert "文本格式" in str(r.json())
