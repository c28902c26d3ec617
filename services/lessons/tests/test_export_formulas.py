"""A teacher (and a lesson title) written like a formula comes back as plain text in the Annex 3
city summary (issue #12, point 6): string cells with a leading apostrophe, never formulas."""

from __future__ import annotations

import io
import uuid

import httpx
from openpyxl import load_workbook  # type: ignore[import-untyped]

from services.lessons.tests.conftest import LIXIA, YEAR, SeedLesson, Tokens
from services.lessons.tests.test_exports import client, enrol_teacher, enrollment

__all__ = ["client", "enrollment"]
FORMULA = '=HYPERLINK("http://evil","x")'


async def test_a_formula_name_and_title_are_plain_text_in_the_city_summary(
    client: httpx.AsyncClient, enrollment: str, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    teacher, _ = await enrol_teacher(enrollment, tokens, FORMULA)
    await seed_lesson(teacher_id=uuid.UUID(teacher), award="first", title="@" + FORMULA)
    answer = await client.get(
        "/exports/city-summary",
        params={"year": YEAR, "city_id": "370100"},
        headers=tokens.admin(LIXIA),
    )
    assert answer.status_code == 200, answer.text
    ws = load_workbook(io.BytesIO(answer.content)).active
    cells = [cell for row in ws.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert "'" + FORMULA in texts  # 姓名
    assert "'@" + FORMULA in texts  # 课例名称
