"""Hostile numbers, dates and cursors on credits' routes are a 422 problem, never a 500
(issue #12, point 6): `year=2147483648` overflowed PostgreSQL's int4, `as_of=9999-12-31` overflowed
Python's date arithmetic, a cursor's timestamp past year 9999 the driver."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from credits.ledger.models import Teacher
from yanxiu.kit.app import Runtime

ORG = {
    "province_id": "370000",
    "city_id": "370100",
    "county_id": "370102",
    "school_id": "370102-S1",
}
PROVINCE = [ORG["province_id"]]


async def known_teacher(client: httpx.AsyncClient) -> uuid.UUID:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    teacher = uuid.uuid4()
    async with rt.session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=teacher, name="王芳", **ORG))
    return teacher


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": value}).encode()).decode().rstrip("=")


def assert_problem(answer: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    return problem


@pytest.mark.parametrize("year", ["2147483648", "-1", "1999", "2101", "99999999999999999999"])
async def test_a_year_outside_2000_to_2100_is_a_422_on_every_credits_route(
    client: httpx.AsyncClient, token_for: Callable[..., str], year: str
) -> None:
    teacher = await known_teacher(client)
    headers = {"authorization": f"Bearer {token_for('province_admin', PROVINCE)}"}
    for path in (
        f"/ledger/{teacher}?year={year}",
        f"/ledger/{teacher}/balance?year={year}",
        f"/reports/totals?level=city&parent=370000&year={year}",
        f"/reports/totals.xlsx?level=city&parent=370000&year={year}",
        f"/records?year={year}",
        f"/certificates?year={year}",
    ):
        problem = assert_problem(await client.get(path, headers=headers))
        assert problem["code"] == "validation_failed", path
        assert problem["errors"][0]["field"] == "year", path


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01", "1999-12-31"])
async def test_a_balance_as_of_a_day_outside_2000_to_2100_is_a_422(
    client: httpx.AsyncClient, token_for: Callable[..., str], as_of: str
) -> None:
    teacher = await known_teacher(client)
    headers = {"authorization": f"Bearer {token_for('province_admin', PROVINCE)}"}
    answer = await client.get(f"/ledger/{teacher}/balance?year=2024&as_of={as_of}", headers=headers)
    assert assert_problem(answer)["errors"][0]["field"] == "as_of"


@pytest.mark.parametrize(
    "after",
    [
        f"9999-12-31T23:59:59-14:00|{uuid.uuid4()}",
        f"0001-01-01T00:00:00+14:00|{uuid.uuid4()}",
        "2024-01-01T00:00:00+08:00|not-a-uuid",
        "[" * 150,
        2**70,
    ],
)
async def test_a_forged_ledger_cursor_is_an_invalid_cursor(
    client: httpx.AsyncClient, token_for: Callable[..., str], after: object
) -> None:
    teacher = await known_teacher(client)
    headers = {"authorization": f"Bearer {token_for('province_admin', PROVINCE)}"}
    answer = await client.get(f"/ledger/{teacher}?cursor={cursor_of(after)}", headers=headers)
    assert assert_problem(answer)["code"] == "invalid_cursor"


async def test_offline_training_days_outside_2000_to_2100_are_a_422(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    headers = {"authorization": f"Bearer {token_for('training_institution', PROVINCE)}"}
    body = {
        "teacher_id": str(uuid.uuid4()),
        "teacher_name": "王芳",
        "org": ORG,
        "training_name": "线下培训",
        "category": "professional",
        "start_date": "9999-12-31",
        "end_date": "9999-12-31",
        "days": 1,
    }
    answer = await client.post("/records", json=body, headers=headers)
    fields = {e["field"] for e in assert_problem(answer)["errors"]}
    assert fields == {"start_date", "end_date"}


async def test_an_org_id_written_like_a_formula_is_plain_text_in_the_totals_export(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    # Org ids reach credits from enrollment's events (and offline records); whatever they hold,
    # the XLSX shows them as text (issue #12, point 6; yanxiu.kit.spreadsheet).
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    formula = '=HYPERLINK("http://evil","x")'
    async with rt.session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=uuid.uuid4(), name="王芳", **{**ORG, "county_id": formula}))
    headers = {"authorization": f"Bearer {token_for('province_admin', PROVINCE)}"}
    answer = await client.get(
        "/reports/totals.xlsx?level=county&parent=370100&year=2024", headers=headers
    )
    assert answer.status_code == 200, answer.text
    ws = load_workbook(io.BytesIO(answer.content)).active
    cells = [cell for row in ws.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "'" + formula in {c.value for c in cells if c.data_type == "s"}
