"""POST /api/v1/auth/accounts: accounts are opened by the level above, inside its own subtree."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PASSWORD = "研修-Passw0rd!"
PROVINCE = ["370000"]
JINAN = ["370000", "370100"]
LIXIA = ["370000", "370100", "370102"]
LIXIA_SCHOOL = [*LIXIA, "370102-S001"]
RONGCHENG = ["370000", "371000", "371082"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def account(role: str, org_path: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "username": f"u{uuid.uuid4().hex[:10]}",
        "password": PASSWORD,
        "role": role,
        "org_path": org_path,
        "name": "新管理员",
        **extra,
    }


async def test_each_level_opens_admins_of_the_level_below(
    gateway: Any, token_for: Callable[..., str], session_factory: Callable[[], AsyncSession]
) -> None:
    async with gateway() as client:
        for actor_role, actor_path, role, path in [
            ("province_admin", PROVINCE, "city_admin", JINAN),
            ("city_admin", JINAN, "county_admin", LIXIA),
            ("county_admin", LIXIA, "school_admin", LIXIA_SCHOOL),
            ("province_admin", PROVINCE, "school_admin", LIXIA_SCHOOL),
        ]:
            body = account(role, path)
            r = await client.post(
                "/api/v1/auth/accounts", json=body, headers=auth(token_for(actor_role, actor_path))
            )
            assert r.status_code == 201, r.text
            assert (r.json()["role"], r.json()["org_path"]) == (role, path)
            assert "password" not in r.text
            signed_in = await client.post(
                "/api/v1/auth/token", json={"username": body["username"], "password": PASSWORD}
            )
            assert signed_in.status_code == 200 and signed_in.json()["org_path"] == path
    async with session_factory() as session:
        hashes = (await session.scalars(text("SELECT password_hash FROM gateway.accounts"))).all()
    assert all(h.startswith("$argon2id$") for h in hashes)


async def test_school_admin_opens_accounts_for_its_own_teachers_only(
    gateway: Any, token_for: Callable[..., str]
) -> None:
    token = token_for("school_admin", LIXIA_SCHOOL)
    teacher = account("teacher", LIXIA_SCHOOL, teacher_id=str(uuid.uuid4()))
    async with gateway() as client:
        r = await client.post("/api/v1/auth/accounts", json=teacher, headers=auth(token))
        assert r.status_code == 201, r.text
        other_school = account("teacher", [*LIXIA, "370102-S009"], teacher_id=str(uuid.uuid4()))
        r = await client.post("/api/v1/auth/accounts", json=other_school, headers=auth(token))
        assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
        peer = account("school_admin", LIXIA_SCHOOL)
        r = await client.post("/api/v1/auth/accounts", json=peer, headers=auth(token))
        assert r.status_code == 403


async def test_admin_cannot_open_accounts_outside_its_subtree(
    gateway: Any, token_for: Callable[..., str]
) -> None:
    async with gateway() as client:
        r = await client.post(
            "/api/v1/auth/accounts",
            json=account("school_admin", [*RONGCHENG, "371082-S001"]),
            headers=auth(token_for("county_admin", LIXIA)),
        )
        assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
        assert "管理范围" in r.json()["message_zh"]


async def test_admin_cannot_open_an_admin_of_its_own_level_or_above(
    gateway: Any, token_for: Callable[..., str]
) -> None:
    async with gateway() as client:
        for role, path in [("county_admin", LIXIA), ("city_admin", JINAN)]:
            r = await client.post(
                "/api/v1/auth/accounts",
                json=account(role, path),
                headers=auth(token_for("county_admin", LIXIA)),
            )
            assert r.status_code == 403, r.text
        teacher = await client.post(
            "/api/v1/auth/accounts",
            json=account("county_admin", LIXIA),
            headers=auth(token_for("teacher", LIXIA_SCHOOL)),
        )
        assert teacher.status_code == 403


async def test_admin_role_must_match_the_depth_of_its_org_path(
    gateway: Any, token_for: Callable[..., str]
) -> None:
    async with gateway() as client:
        r = await client.post(
            "/api/v1/auth/accounts",
            json=account("county_admin", LIXIA_SCHOOL),
            headers=auth(token_for("province_admin", PROVINCE)),
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_account"


async def test_existing_username_is_a_409(
    gateway: Any, token_for: Callable[..., str], add_account: Callable[..., Any]
) -> None:
    await add_account("taken.name")
    async with gateway() as client:
        r = await client.post(
            "/api/v1/auth/accounts",
            json=account("school_admin", LIXIA_SCHOOL, username="Taken.Name"),
            headers=auth(token_for("county_admin", LIXIA)),
        )
        assert r.status_code == 409 and r.json()["code"] == "username_taken"


async def test_opening_an_account_needs_a_token(gateway: Any) -> None:
    async with gateway() as client:
        r = await client.post("/api/v1/auth/accounts", json=account("school_admin", LIXIA_SCHOOL))
        assert r.status_code == 401
