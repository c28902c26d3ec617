"""Hostile dates, ids and text on enrollment's routes are a 422 problem, never a 500 (issue #12,
point 6)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from services.enrollment.tests.conftest import LIXIA_SCHOOL
from services.enrollment.tests.test_teachers import auth, new_id_number


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2101-01-01"])
async def test_project_windows_outside_2000_to_2100_are_a_422(
    client: httpx.AsyncClient, token_for: Callable[..., str], day: str
) -> None:
    body = {
        "year": 2030,
        "stage": "primary",
        "name": "2030 项目",
        "registration_opens_on": "2030-08-11",
        "registration_closes_on": day,
    }
    answer = await client.post(
        "/projects", json=body, headers=auth(token_for("province_admin", ["370000"]))
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "registration_closes_on"


async def test_an_org_id_longer_than_any_org_is_a_422(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    answer = await client.get(
        "/orgs/" + "3" * 5000, headers=auth(token_for("province_admin", ["370000"]))
    )
    assert answer.status_code == 422, answer.text


async def test_text_postgresql_cannot_hold_is_a_422_not_a_500(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    # A NUL character passes every length check; PostgreSQL's text refuses it. The kit's net
    # under the request models (yanxiu.kit.errors.ValueOutOfRange) answers for it.
    body = {
        "name": "王\u0000芳",
        "id_number": new_id_number(),
        "school_id": LIXIA_SCHOOL[3],
        "stage": "primary",
        "subject": "数学",
        "is_rural": False,
    }
    answer = await client.post(
        "/teachers", json=body, headers=auth(token_for("school_admin", LIXIA_SCHOOL))
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "value_out_of_range"
