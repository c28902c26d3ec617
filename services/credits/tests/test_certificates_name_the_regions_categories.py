"""继续教育证书 name each category as the teacher's region does (credits/data/regions/*.json):
a Hefei certificate shows 网络研修 / 校本研修, a Zhaoqing one 公需科目 / 专业科目 / 个人选修, a
Shandong one 省级培训项目学分, on the PDF and in the certificate JSON (a `category_name`
beside each code; `hours_by_category` stays as it was)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from credits.certificates.pdf import render
from credits.ledger import service as ledger
from credits.ledger.models import Teacher
from services.credits.tests.test_certificates import certificate, pdf_text, store
from services.credits.tests.test_regions import HEFEI, NOW, YEAR, runtime


def named(categories: list[dict[str, Any]]) -> list[tuple[str, str, Decimal]]:
    return [(c["code"], c["category_name"], Decimal(c["hours"])) for c in categories]


async def test_a_hefei_certificate_shows_the_regions_category_names(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = uuid.uuid4()
    async with runtime(client).session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=teacher, name="王芳", **HEFEI.model_dump()))
        await ledger.post_entries(
            session,
            [
                ledger.EntryIn(
                    teacher_id=teacher,
                    source_kind="course",
                    source_id=uuid.uuid4().hex,
                    category=category,
                    hours=Decimal(30),
                    occurred_at=NOW,
                    org=HEFEI,
                )
                for category in ("general_elective", "school_based")
            ],
        )
    me = {
        "Authorization": f"Bearer {token_for('teacher', HEFEI.as_list(), teacher_id=str(teacher))}"
    }
    r = await client.post("/certificates", json={"year": YEAR}, headers=me)
    assert r.status_code == 201, r.text
    cert = r.json()
    assert named(cert["categories"]) == [
        ("online", "网络研修", Decimal(30)),
        ("school_based", "校本研修", Decimal(30)),
    ]
    assert set(cert["hours_by_category"]) == {"online", "school_based"}  # codes, unchanged
    text = pdf_text((await client.get(f"/certificates/{cert['code']}.pdf", headers=me)).content)
    assert "网络研修：30" in text and "校本研修：30" in text
    assert "online" not in text and "school_based" not in text
    verified = (await client.get(f"/certificates/verify/{cert['code']}")).json()
    assert named(verified["categories"]) == named(cert["categories"])


async def test_a_zhaoqing_certificate_shows_公需科目_专业科目_个人选修(
    client: httpx.AsyncClient,
) -> None:
    cert = await store(client, certificate(uuid.uuid4()))  # region zhaoqing, 30 / 42 / 18
    body = (await client.get(f"/certificates/verify/{cert.code}")).json()
    assert named(body["categories"]) == [
        ("public", "公需科目", Decimal(30)),
        ("professional", "专业科目", Decimal(42)),
        ("elective", "个人选修", Decimal(18)),
    ]
    text = pdf_text(render(cert, verify_url="https://yanxiu.test/v"))
    for line in ("公需科目：30", "专业科目：42", "个人选修：18"):
        assert line in text


def test_a_shandong_certificate_prints_the_provincial_project_category() -> None:
    cert = certificate(
        uuid.uuid4(),
        province_id="370000",
        city_id="370100",
        county_id="370102",
        school_id="370102-S001",
        region="shandong",
        hours_by_category={"project": "24", "award": "2"},
        total_hours="26",
    )
    text = pdf_text(render(cert, verify_url="https://yanxiu.test/v"))
    assert "省级培训项目学分：24" in text and "优课获奖：2" in text
    assert "project" not in text
