"""Accounts in Zhaoqing (Guangdong) and Hefei (Anhui) as in Shandong (issue #14.4): each
province's admins open the accounts of their own region, checked against the org path
enrollment (served for real, its migrations loading every shipped region) stores, and sign in
with them; another province's admin cannot, and a path mixing two regions is refused."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from enrollment.idcard import check_digit

PASSWORD = "研修-Passw0rd!"
REGIONS = {
    "zhaoqing": ("440000", "441200", "441202", "肇庆市端州区第一小学"),
    "hefei": ("340000", "340100", "340104", "合肥市蜀山区实验小学"),
}
ADMIN = {1: "province_admin", 2: "city_admin", 3: "county_admin", 4: "school_admin"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Region:
    """The gateway in front of a real enrollment; callers holding real accounts."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        enrollment: str,
        add_account: Callable[..., Any],
        token_for: Callable[..., str],
    ) -> None:
        self.client, self.enrollment = client, enrollment
        self.add_account, self.token_for = add_account, token_for

    async def caller(self, path: list[str]) -> dict[str, str]:
        role = ADMIN[len(path)]
        held = await self.add_account(role=role, org_path=tuple(path))
        return auth(self.token_for(role, path, user_id=str(held.id)))

    async def open(
        self, caller: dict[str, str], role: str, path: list[str], **extra: Any
    ) -> httpx.Response:
        body = {
            "username": f"u{uuid.uuid4().hex[:10]}",
            "password": PASSWORD,
            "role": role,
            "org_path": path,
            "name": "新账号",
            **extra,
        }
        r = await self.client.post("/api/v1/auth/accounts", json=body, headers=caller)
        if r.status_code == 201:
            signed_in = await self.client.post(
                "/api/v1/auth/token", json={"username": body["username"], "password": PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            assert signed_in.json()["org_path"] == path
        return r

    async def enrollment_post(self, path: str, body: dict[str, Any], token: str) -> Any:
        async with httpx.AsyncClient(base_url=self.enrollment) as http:
            r = await http.post(path, json=body, headers=auth(token))
        assert r.status_code == 201, r.text
        return r.json()


@pytest_asyncio.fixture
async def region(
    gateway: Any,
    serve_enrollment: Callable[..., contextlib.AbstractAsyncContextManager[str]],
    add_account: Callable[..., Any],
    token_for: Callable[..., str],
) -> AsyncIterator[Region]:
    async with serve_enrollment() as enrollment, gateway(enrollment_url=enrollment) as client:
        yield Region(client, enrollment, add_account, token_for)


@pytest.mark.parametrize("name", list(REGIONS))
async def test_a_regions_admins_school_admin_and_teacher_accounts_open_as_in_shandong(
    region: Region, token_for: Callable[..., str], name: str
) -> None:
    province, city, county, school_name = REGIONS[name]
    province_admin = await region.caller([province])
    r = await region.open(province_admin, "city_admin", [province, city])
    assert r.status_code == 201, r.text
    r = await region.open(
        await region.caller([province, city]), "county_admin", [province, city, county]
    )
    assert r.status_code == 201, r.text

    county_token = token_for("county_admin", [province, city, county])
    school = await region.enrollment_post(
        "/orgs", {"parent_id": county, "name": school_name}, county_token
    )
    school_path = [province, city, county, school["id"]]
    county_admin = await region.caller([province, city, county])
    r = await region.open(county_admin, "school_admin", school_path)
    assert r.status_code == 201, r.text

    id17 = f"{county}19860704{uuid.uuid4().int % 1000:03d}"
    teacher = await region.enrollment_post(
        "/teachers",
        {
            "name": "陈老师",
            "id_number": id17 + check_digit(id17),
            "school_id": school["id"],
            "stage": "primary",
            "subject": "数学",
            "is_rural": False,
        },
        token_for("school_admin", school_path),
    )
    school_admin = await region.caller(school_path)
    r = await region.open(school_admin, "teacher", school_path, teacher_id=teacher["id"])
    assert r.status_code == 201, r.text
    assert r.json()["teacher_id"] == teacher["id"]


async def test_a_province_admin_opens_no_account_in_another_province(region: Region) -> None:
    shandong = await region.caller(["370000"])
    for path in (["440000", "441200"], ["340000", "340100", "340104"]):
        role = ADMIN[len(path)]
        r = await region.open(shandong, role, path)
        assert (r.status_code, r.json()["code"]) == (403, "out_of_scope")
    guangdong = await region.caller(["440000"])
    r = await region.open(guangdong, "province_admin", ["370000"])
    assert (r.status_code, r.json()["code"]) == (403, "out_of_scope")


async def test_an_org_path_other_than_enrollments_is_refused(region: Region) -> None:
    """Hefei's code under Guangdong is no org of the caller's; Duanzhou (Zhaoqing) under
    Huizhou is not where enrollment stores it."""
    guangdong = await region.caller(["440000"])
    r = await region.open(guangdong, "city_admin", ["440000", "340100"])
    assert (r.status_code, r.json()["code"]) == (422, "org_not_found")
    r = await region.open(guangdong, "county_admin", ["440000", "441300", "441202"])
    assert (r.status_code, r.json()["code"]) == (422, "org_path_mismatch")
