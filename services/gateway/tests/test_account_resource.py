"""Accounts as a resource: GET /api/v1/auth/accounts (scoped, filtered, paged), GET and PATCH
/api/v1/auth/accounts/{id}; disabling or resetting a password ends the account's sessions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Account

PASSWORD = "研修-Passw0rd!"
NEW_PASSWORD = "新的-Passw0rd!"
PROVINCE = ["370000"]
JINAN = ["370000", "370100"]
LIXIA = ["370000", "370100", "370102"]
LIXIA_SCHOOL = [*LIXIA, "370102-S001"]
LIXIA_SCHOOL_2 = [*LIXIA, "370102-S002"]
RONGCHENG = ["370000", "371000", "371082"]
RONGCHENG_SCHOOL = [*RONGCHENG, "371082-S001"]
ADMIN = {1: "province_admin", 2: "city_admin", 3: "county_admin", 4: "school_admin"}


class Accounts:
    def __init__(
        self,
        client: httpx.AsyncClient,
        add_account: Callable[..., Any],
        token_for: Callable[..., str],
    ) -> None:
        self.client = client
        self.add_account = add_account
        self.token_for = token_for

    async def add(self, username: str, role: str, path: list[str], **extra: Any) -> Account:
        account: Account = await self.add_account(
            username, role=role, org_path=tuple(path), **extra
        )
        return account

    def as_(self, account: Account) -> dict[str, str]:
        token = self.token_for(account.role, account.org_path, user_id=str(account.id))
        return {"Authorization": f"Bearer {token}"}

    async def admin(self, path: list[str]) -> dict[str, str]:
        return self.as_(await self.add(f"admin-{uuid.uuid4().hex[:8]}", ADMIN[len(path)], path))

    async def usernames(self, caller: dict[str, str], **params: Any) -> list[str]:
        r = await self.client.get("/api/v1/auth/accounts", params=params, headers=caller)
        assert r.status_code == 200, r.text
        return [a["username"] for a in r.json()["items"] if not a["username"].startswith("admin-")]

    async def patch(self, account: Account, caller: dict[str, str], **body: Any) -> httpx.Response:
        return await self.client.patch(
            f"/api/v1/auth/accounts/{account.id}", json=body, headers=caller
        )

    async def sign_in(self, username: str, password: str = PASSWORD) -> int:
        r = await self.client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )
        return r.status_code


@pytest_asyncio.fixture
async def accounts(
    gateway: Any, add_account: Callable[..., Any], token_for: Callable[..., str]
) -> AsyncIterator[Accounts]:
    async with gateway() as client:
        yield Accounts(client, add_account, token_for)


async def row(session_factory: Callable[[], AsyncSession], account: Account) -> Any:
    async with session_factory() as session:
        return (
            await session.execute(
                text(
                    "SELECT active, tokens_valid_after, failed_logins, locked_until, name"
                    " FROM gateway.accounts WHERE id = :id"
                ),
                {"id": account.id},
            )
        ).one()


async def audit_rows(session_factory: Callable[[], AsyncSession]) -> list[Any]:
    async with session_factory() as session:
        result = await session.execute(
            text(
                "SELECT action, target_id, target_org, before::text AS before,"
                " after::text AS after FROM gateway.audit_log ORDER BY id"
            )
        )
        return list(result.all())


async def test_account_list_shows_only_the_callers_subtree(accounts: Accounts) -> None:
    await accounts.add("lixia-teacher", "teacher", LIXIA_SCHOOL, teacher_id=uuid.uuid4())
    await accounts.add("lixia-school", "school_admin", LIXIA_SCHOOL_2)
    await accounts.add("rongcheng-school", "school_admin", RONGCHENG_SCHOOL)
    await accounts.add("jinan-city", "city_admin", JINAN)
    assert await accounts.usernames(await accounts.admin(LIXIA)) == [
        "lixia-school",
        "lixia-teacher",
    ]
    assert await accounts.usernames(await accounts.admin(RONGCHENG)) == ["rongcheng-school"]
    assert await accounts.usernames(await accounts.admin(PROVINCE)) == [
        "jinan-city",
        "lixia-school",
        "lixia-teacher",
        "rongcheng-school",
    ]


async def test_account_list_filters_by_role_org_active_and_username_prefix(
    accounts: Accounts,
) -> None:
    await accounts.add("wang.fang", "teacher", LIXIA_SCHOOL, teacher_id=uuid.uuid4())
    await accounts.add("wang_li", "teacher", LIXIA_SCHOOL_2, teacher_id=uuid.uuid4())
    await accounts.add("wangxiao", "school_admin", LIXIA_SCHOOL, active=False)
    await accounts.add("zhang", "training_institution", LIXIA)
    city = await accounts.admin(JINAN)
    assert await accounts.usernames(city, role="teacher") == ["wang.fang", "wang_li"]
    assert await accounts.usernames(city, org="370102-S001") == ["wang.fang", "wangxiao"]
    assert await accounts.usernames(city, org="370102") == [
        "wang.fang",
        "wang_li",
        "wangxiao",
        "zhang",
    ]
    assert await accounts.usernames(city, active="false") == ["wangxiao"]
    assert await accounts.usernames(city, username_prefix="Wang") == [
        "wang.fang",
        "wang_li",
        "wangxiao",
    ]
    # The prefix is literal: "_" and "%" match only themselves.
    assert await accounts.usernames(city, username_prefix="wang_") == ["wang_li"]
    assert await accounts.usernames(city, username_prefix="%") == []
    # An org outside the caller's subtree lists nothing, whatever it holds.
    await accounts.add("far", "school_admin", RONGCHENG_SCHOOL)
    assert await accounts.usernames(city, org="371082-S001") == []


async def test_account_list_pages_with_a_cursor(accounts: Accounts) -> None:
    for n in range(5):
        await accounts.add(f"page-{n}", "school_admin", LIXIA_SCHOOL)
    county = await accounts.admin(LIXIA)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "username_prefix": "page-"}
        if cursor:
            params["cursor"] = cursor
        r = await accounts.client.get("/api/v1/auth/accounts", params=params, headers=county)
        assert r.status_code == 200, r.text
        seen += [a["username"] for a in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"page-{n}" for n in range(5)]
    bad = await accounts.client.get(
        "/api/v1/auth/accounts", params={"cursor": "not-a-cursor"}, headers=county
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"


async def test_account_list_is_for_admins_only(accounts: Accounts) -> None:
    teacher = await accounts.add("t", "teacher", LIXIA_SCHOOL, teacher_id=uuid.uuid4())
    r = await accounts.client.get("/api/v1/auth/accounts", headers=accounts.as_(teacher))
    assert r.status_code == 403 and r.json()["code"] == "admins_only"
    anonymous = await accounts.client.get("/api/v1/auth/accounts")
    assert anonymous.status_code == 401


async def test_account_out_of_scope_reads_as_not_found(accounts: Accounts) -> None:
    far = await accounts.add("far-away", "school_admin", RONGCHENG_SCHOOL)
    near = await accounts.add("near-by", "school_admin", LIXIA_SCHOOL)
    county = await accounts.admin(LIXIA)
    r = await accounts.client.get(f"/api/v1/auth/accounts/{near.id}", headers=county)
    assert r.status_code == 200 and r.json()["username"] == "near-by"
    assert "password" not in r.text and "argon2" not in r.text
    hidden = await accounts.client.get(f"/api/v1/auth/accounts/{far.id}", headers=county)
    absent = await accounts.client.get(f"/api/v1/auth/accounts/{uuid.uuid4()}", headers=county)
    assert hidden.status_code == 404 and hidden.json()["code"] == "account_not_found"
    assert {k: v for k, v in hidden.json().items() if k not in ("trace_id", "instance")} == {
        k: v for k, v in absent.json().items() if k not in ("trace_id", "instance")
    }
    # Writes to it answer the same.
    r = await accounts.patch(far, county, name="改名")
    assert r.status_code == 404 and r.json()["code"] == "account_not_found"


async def test_a_caller_reads_its_own_account(accounts: Accounts) -> None:
    teacher = await accounts.add("me", "teacher", LIXIA_SCHOOL, teacher_id=uuid.uuid4())
    colleague = await accounts.add("colleague", "teacher", LIXIA_SCHOOL, teacher_id=uuid.uuid4())
    mine = await accounts.client.get(
        f"/api/v1/auth/accounts/{teacher.id}", headers=accounts.as_(teacher)
    )
    assert mine.status_code == 200 and mine.json()["username"] == "me"
    theirs = await accounts.client.get(
        f"/api/v1/auth/accounts/{colleague.id}", headers=accounts.as_(teacher)
    )
    assert theirs.status_code == 404


async def test_disabling_an_account_ends_its_sessions(
    accounts: Accounts, session_factory: Callable[[], AsyncSession]
) -> None:
    target = await accounts.add("to-disable", "school_admin", LIXIA_SCHOOL)
    before = datetime.now(UTC)
    r = await accounts.patch(target, await accounts.admin(LIXIA), active=False)
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    stored = await row(session_factory, target)
    assert stored.active is False and stored.tokens_valid_after >= before
    assert await accounts.sign_in("to-disable") == 401
    again = await accounts.patch(target, await accounts.admin(LIXIA), active=True)
    assert again.status_code == 200 and again.json()["active"] is True
    assert await accounts.sign_in("to-disable") == 200
    actions = [(a.action, a.target_id) for a in await audit_rows(session_factory)]
    assert actions == [("account.disable", str(target.id)), ("account.enable", str(target.id))]


async def test_password_reset_ends_sessions_and_lifts_a_lockout(
    accounts: Accounts, session_factory: Callable[[], AsyncSession]
) -> None:
    target = await accounts.add("forgetful", "teacher", LIXIA_SCHOOL, teacher_id=uuid.uuid4())
    async with session_factory() as session:
        await session.execute(
            text(
                "UPDATE gateway.accounts SET failed_logins = 3, locked_until = now() + interval"
                " '1 hour' WHERE id = :id"
            ),
            {"id": target.id},
        )
        await session.commit()
    before = datetime.now(UTC)
    r = await accounts.patch(target, await accounts.admin(LIXIA_SCHOOL), password=NEW_PASSWORD)
    assert r.status_code == 200, r.text
    assert "password" not in r.text
    stored = await row(session_factory, target)
    assert stored.tokens_valid_after >= before
    assert stored.failed_logins == 0 and stored.locked_until is None
    assert await accounts.sign_in("forgetful") == 401
    assert await accounts.sign_in("forgetful", NEW_PASSWORD) == 200
    [entry] = await audit_rows(session_factory)
    assert entry.action == "account.password_reset" and entry.target_org == LIXIA_SCHOOL
    assert NEW_PASSWORD not in entry.after and "argon2" not in entry.after


async def test_rename_is_audited_with_before_and_after(
    accounts: Accounts, session_factory: Callable[[], AsyncSession]
) -> None:
    target = await accounts.add("renamed", "school_admin", LIXIA_SCHOOL, name="王校长")
    r = await accounts.patch(target, await accounts.admin(LIXIA), name=" 李校长 ")
    assert r.status_code == 200 and r.json()["name"] == "李校长"
    assert (await row(session_factory, target)).tokens_valid_after is None  # sessions go on
    [entry] = await audit_rows(session_factory)
    assert entry.action == "account.update"
    assert "王校长" in entry.before and "李校长" in entry.after


async def test_only_an_admin_who_could_open_an_account_changes_it(accounts: Accounts) -> None:
    peer = await accounts.add("peer-county", "county_admin", LIXIA)
    county = await accounts.admin(LIXIA)
    r = await accounts.patch(peer, county, active=False)
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    city = await accounts.admin(JINAN)
    assert (await accounts.patch(peer, city, active=False)).status_code == 200
    teacher = await accounts.add("a-teacher", "teacher", LIXIA_SCHOOL, teacher_id=uuid.uuid4())
    other_school = await accounts.admin(LIXIA_SCHOOL_2)
    r = await accounts.patch(teacher, other_school, active=False)
    assert r.status_code == 404
    r = await accounts.patch(teacher, accounts.as_(teacher), name="自己改")
    assert r.status_code == 403 and r.json()["code"] == "admins_only"


async def test_an_admin_does_not_change_its_own_account_here(accounts: Accounts) -> None:
    me = await accounts.add("self-admin", "province_admin", PROVINCE)
    r = await accounts.patch(me, accounts.as_(me), active=False)
    assert r.status_code == 403 and r.json()["code"] == "own_account"


async def test_account_update_validates_its_fields(accounts: Accounts) -> None:
    target = await accounts.add("strict", "school_admin", LIXIA_SCHOOL)
    county = await accounts.admin(LIXIA)
    for body in ({"password": "short"}, {"name": ""}, {"role": "province_admin"}):
        r = await accounts.patch(target, county, **body)
        assert r.status_code == 422 and r.json()["code"] == "validation_failed", body
    r = await accounts.client.get("/api/v1/auth/accounts/not-a-uuid", headers=county)
    assert r.status_code == 422
