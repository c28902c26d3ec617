"""审计日志 at the gateway (`GET /api/v1/auth/audit`): the accounts' trail listed by the
province, by a city or county for its own subtree only, refused to everyone else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import audit_log
from services.gateway.tests.conftest import PASSWORD, GatewayFactory
from yanxiu.kit.audit import AuditTrail
from yanxiu.kit.auth import Principal, Role

LIXIA = ("370000", "370100", "370102")
RONGCHENG = ("370000", "371000", "371082")
TRAIL = AuditTrail(audit_log)


async def sign_in(client: Any, add_account: Callable[..., Any], role: str, org: tuple) -> dict:
    account = await add_account(role=role, org_path=org)
    r = await client.post(
        "/api/v1/auth/token", json={"username": account.username, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_accounts_trail_is_listed_by_subtree_and_refused_to_schools(
    gateway: GatewayFactory,
    add_account: Callable[..., Any],
    session_factory: Callable[[], AsyncSession],
) -> None:
    opener = Principal(user_id="city-admin", role=Role.city_admin, org_path=LIXIA[:2])
    async with session_factory() as session:
        for target, org in (("a-lixia", LIXIA), ("a-rongcheng", RONGCHENG)):
            await TRAIL.record(
                session,
                actor=opener,
                action="account.open",
                target_type="account",
                target_id=target,
                target_org=[*org, f"{org[-1]}-S001"],
                after={"username": target, "password_hash": "$argon2id$secret"},
            )
        await session.commit()
    async with gateway() as client:
        url = "/api/v1/auth/audit"
        lixia = await client.get(
            url, headers=await sign_in(client, add_account, "county_admin", LIXIA)
        )
        assert lixia.status_code == 200, lixia.text
        assert [e["target_id"] for e in lixia.json()["items"]] == ["a-lixia"]
        assert lixia.json()["items"][0]["after"]["password_hash"] == "***"
        province = await client.get(
            url,
            params={"action": "account.open"},
            headers=await sign_in(client, add_account, "province_admin", ("370000",)),
        )
        assert {e["target_id"] for e in province.json()["items"]} >= {"a-lixia", "a-rongcheng"}
        school = await client.get(
            url, headers=await sign_in(client, add_account, "school_admin", (*LIXIA, "370102-S001"))
        )
        assert school.status_code == 403 and school.json()["code"] == "audit_not_allowed"
        assert (await client.get(url)).status_code == 401
