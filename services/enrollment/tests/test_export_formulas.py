"""A teacher named like a formula comes back as plain text in every enrollment export (issue #12,
point 6): the cell is a string cell with a leading apostrophe, never a formula Excel would run."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
from openpyxl import load_workbook  # type: ignore[import-untyped]

from services.enrollment.tests.conftest import LIXIA_SCHOOL
from services.enrollment.tests.test_registration import add_teacher, auth, open_project

FORMULA = '=HYPERLINK("http://evil","x")'


def cells(content: bytes) -> list[Any]:
    """Every cell of the first sheet, as openpyxl reads it back (formulas keep their '=')."""
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return [cell for row in ws.iter_rows() for cell in row]


def assert_plain_text(content: bytes, name: str) -> None:
    found = [c for c in cells(content) if isinstance(c.value, str) and name in c.value]
    assert found, "the name is missing from the export"
    for cell in found:
        assert cell.data_type == "s" and cell.value == "'" + name


async def test_a_formula_name_is_plain_text_in_the_teachers_export(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    await add_teacher(client, token_for, LIXIA_SCHOOL, name=FORMULA)
    answer = await client.get(
        "/teachers/export.xlsx", headers=auth(token_for("school_admin", LIXIA_SCHOOL))
    )
    assert answer.status_code == 200, answer.text
    assert_plain_text(answer.content, FORMULA)


async def test_a_formula_name_is_plain_text_in_the_registrations_export(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for, cascade=True)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL, name=FORMULA)
    admin = auth(token_for("school_admin", LIXIA_SCHOOL))
    r = await client.post(
        f"/projects/{project['id']}/registrations",
        json={"teacher_id": teacher["id"], "subject": "语文"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    answer = await client.get(f"/projects/{project['id']}/registrations/export.xlsx", headers=admin)
    assert answer.status_code == 200, answer.text
    assert_plain_text(answer.content, FORMULA)


async def test_every_character_a_spreadsheet_runs_is_neutralised(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    names = ["+1+2", "-1+2", "@SUM(A1)", "\t=1+2", "\r=1+2"]
    for name in names:
        await add_teacher(client, token_for, LIXIA_SCHOOL, name=name)
    answer = await client.get(
        "/teachers/export.xlsx", headers=auth(token_for("school_admin", LIXIA_SCHOOL))
    )
    values = {c.value for c in cells(answer.content) if c.data_type == "s"}
    assert not any(c.data_type == "f" for c in cells(answer.content))
    # The API trims names; what is left starts with the formula character.
    for name in names:
        assert "'" + name.strip() in values
