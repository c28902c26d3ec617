"""POST /api/v1/auth/accounts: accounts are opened by the right admin, inside its own subtree,
for orgs and teachers that enrollment (served for real) knows."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.idcard import check_digit
from gateway import service
from gateway.accounts.rules import RULES
from yanxiu.kit.auth import Role

from .conftest import closed_url

PASSWORD = "研修-Passw0rd!"
PROVINCE = ["370000"]
JINAN = ["370000", "370100"]
LIXIA = ["370000", "370100", "370102"]
LIXIA_SCHOOL = [*LIXIA, "370102-S001"]
LIXIA_SCHOOL_2 = [*LIXIA, "370102-S002"]
WEIHAI = ["370000", "371000"]
RONGCHENG = [*WEIHAI, "371082"]
RONGCHENG_SCHOOL = [*RONGCHENG, "371082-S001"]
ADMIN = {1: "province_admin", 2: "city_admin", 3: "county_admin", 4: "school_admin"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def account(role: str, org_path: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "username": f"u{uuid.uuid4().hex[:10]}",
        "password": PASSWORD,
        "role": role,
        "org_path": org_path,
        "name": "新账号",
        **extra,
    }


class Platform:
    """The gateway in front of a real enrollment, with callers that hold real accounts."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        enrollment: str,
        add_account: Callable[..., Any],
        token_for: Callable[..., str],
    ) -> None:
        self.client = client
        self.enrollment = enrollment
        self.add_account = add_account
        self.token_for = token_for

    async def caller(self, org_path: list[str], role: str | None = None) -> dict[str, str]:
        """A bearer header of an account stored in the gateway (the admin of that org unless
        another role is named)."""
        role = role or ADMIN[len(org_path)]
        held = await self.add_account(role=role, org_path=tuple(org_path))
        return auth(self.token_for(role, org_path, user_id=str(held.id)))

    async def open(self, body: dict[str, Any], caller: dict[str, str]) -> httpx.Response:
        return await self.client.post("/api/v1/auth/accounts", json=body, headers=caller)

    async def new_teacher(self, school: list[str]) -> str:
        """A teacher recorded in enrollment at that school, by its school admin."""
        id17 = f"{school[2]}1985{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
        id17 += f"{random.randint(0, 999):03d}"
        async with httpx.AsyncClient(base_url=self.enrollment) as http:
            r = await http.post(
                "/teachers",
                json={
                    "name": "王芳",
                    "id_number": id17 + check_digit(id17),
                    "school_id": school[-1],
                    "stage": "primary",
                    "subject": "语文",
                    "is_rural": False,
                },
                headers=auth(self.token_for("school_admin", school)),
            )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def depart(self, teacher_id: str, school: list[str]) -> None:
        async with httpx.AsyncClient(base_url=self.enrollment) as http:
            r = await http.post(
                f"/teachers/{teacher_id}/depart",
                headers=auth(self.token_for("school_admin", school)),
            )
        assert r.status_code == 200, r.text


@pytest_asyncio.fixture
async def platform(
    gateway: Any,
    serve_enrollment: Callable[..., contextlib.AbstractAsyncContextManager[str]],
    add_account: Callable[..., Any],
    token_for: Callable[..., str],
) -> AsyncIterator[Platform]:
    async with serve_enrollment() as enrollment, gateway(enrollment_url=enrollment) as client:
        yield Platform(client, enrollment, add_account, token_for)


def problem(r: httpx.Response) -> dict[str, Any]:
    """A problem body without what differs between any two requests."""
    return {k: v for k, v in r.json().items() if k != "trace_id"}


async def test_each_level_opens_admins_of_the_level_below(
    platform: Platform, session_factory: Callable[[], AsyncSession]
) -> None:
    for actor_path, role, path in [
        (PROVINCE, "city_admin", JINAN),
        (JINAN, "county_admin", LIXIA),
        (LIXIA, "school_admin", LIXIA_SCHOOL),
        (PROVINCE, "school_admin", LIXIA_SCHOOL),
    ]:
        body = account(role, path)
        r = await platform.open(body, await platform.caller(actor_path))
        assert r.status_code == 201, r.text
        assert (r.json()["role"], r.json()["org_path"]) == (role, path)
        assert "password" not in r.text
        signed_in = await platform.client.post(
            "/api/v1/auth/token", json={"username": body["username"], "password": PASSWORD}
        )
        assert signed_in.status_code == 200 and signed_in.json()["org_path"] == path
    async with session_factory() as session:
        hashes = (await session.scalars(text("SELECT password_hash FROM gateway.accounts"))).all()
    assert all(h.startswith("$argon2id$") for h in hashes)


async def test_every_role_can_be_opened_through_the_api_by_its_admin(platform: Platform) -> None:
    teacher = await platform.new_teacher(LIXIA_SCHOOL)
    cases: list[tuple[list[str], Role, list[str], dict[str, Any]]] = [
        (PROVINCE, Role.province_admin, PROVINCE, {}),
        (PROVINCE, Role.city_admin, WEIHAI, {}),
        (JINAN, Role.county_admin, LIXIA, {}),
        (LIXIA, Role.school_admin, LIXIA_SCHOOL, {}),
        (LIXIA_SCHOOL, Role.teacher, LIXIA_SCHOOL, {"teacher_id": teacher}),
        (LIXIA, Role.training_institution, LIXIA, {}),  # a county admin: a 500 once
        (JINAN, Role.training_institution, JINAN, {}),
        (RONGCHENG, Role.workshop_host, RONGCHENG, {}),
        (PROVINCE, Role.workshop_host, PROVINCE, {}),
        (WEIHAI, Role.expert, WEIHAI, {}),
        (PROVINCE, Role.provider, PROVINCE, {}),
    ]
    assert {role for _, role, _, _ in cases} == set(Role), "a role without a case here"
    for actor_path, role, path, extra in cases:
        r = await platform.open(
            account(role.value, path, **extra), await platform.caller(actor_path)
        )
        assert r.status_code == 201, (role, r.text)
        assert r.json()["role"] == role.value and r.json()["org_path"] == path


async def test_every_role_has_an_opening_rule() -> None:
    assert set(RULES) == set(Role)


async def test_every_role_can_be_stored_in_the_migrated_database(
    session_factory: Callable[[], AsyncSession],
) -> None:
    """The accounts table's role constraint comes from a migration: a role added to the code
    without its migration fails here."""
    async with session_factory() as session:
        for role in Role:
            await service.create_account(
                session,
                username=f"every-{role.value}",
                password=PASSWORD,
                role=role,
                org_path=PROVINCE,
                name=role.value,
            )
        await session.commit()
        stored = (await session.scalars(text("SELECT role FROM gateway.accounts"))).all()
    assert sorted(stored) == sorted(r.value for r in Role)


async def test_school_admin_opens_accounts_for_its_own_teachers_only(platform: Platform) -> None:
    school_admin = await platform.caller(LIXIA_SCHOOL)
    mine = await platform.new_teacher(LIXIA_SCHOOL)
    r = await platform.open(account("teacher", LIXIA_SCHOOL, teacher_id=mine), school_admin)
    assert r.status_code == 201, r.text
    assert r.json()["teacher_id"] == mine
    other = await platform.new_teacher(LIXIA_SCHOOL_2)
    r = await platform.open(account("teacher", LIXIA_SCHOOL_2, teacher_id=other), school_admin)
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    r = await platform.open(account("school_admin", LIXIA_SCHOOL), school_admin)
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"


async def test_weihai_school_admin_binding_a_jinan_teacher_learns_nothing_of_it(
    platform: Platform,
) -> None:
    jinan_teacher = await platform.new_teacher(LIXIA_SCHOOL)
    weihai = await platform.caller(RONGCHENG_SCHOOL)
    known = await platform.open(
        account("teacher", RONGCHENG_SCHOOL, teacher_id=jinan_teacher), weihai
    )
    unknown = await platform.open(
        account("teacher", RONGCHENG_SCHOOL, teacher_id=str(uuid.uuid4())), weihai
    )
    assert known.status_code == 422 and known.json()["code"] == "teacher_not_found"
    assert problem(known) == problem(unknown)


async def test_teacher_account_binds_only_a_teacher_at_exactly_that_school(
    platform: Platform,
) -> None:
    county = await platform.caller(LIXIA)
    elsewhere = await platform.new_teacher(LIXIA_SCHOOL_2)
    r = await platform.open(account("teacher", LIXIA_SCHOOL, teacher_id=elsewhere), county)
    assert r.status_code == 422 and r.json()["code"] == "teacher_not_at_org"
    assert "不在此学校" in r.json()["message_zh"]


async def test_departed_teacher_gets_no_account(platform: Platform) -> None:
    teacher = await platform.new_teacher(LIXIA_SCHOOL)
    await platform.depart(teacher, LIXIA_SCHOOL)
    r = await platform.open(
        account("teacher", LIXIA_SCHOOL, teacher_id=teacher), await platform.caller(LIXIA)
    )
    assert r.status_code == 422 and r.json()["code"] == "teacher_not_active"


async def test_teacher_account_is_enabled_again_only_while_the_teacher_teaches_there(
    platform: Platform,
) -> None:
    school_admin = await platform.caller(LIXIA_SCHOOL)
    accounts = []
    for _ in range(2):
        teacher = await platform.new_teacher(LIXIA_SCHOOL)
        r = await platform.open(account("teacher", LIXIA_SCHOOL, teacher_id=teacher), school_admin)
        assert r.status_code == 201, r.text
        url = f"/api/v1/auth/accounts/{r.json()['id']}"
        r = await platform.client.patch(url, json={"active": False}, headers=school_admin)
        assert r.status_code == 200 and r.json()["active"] is False, r.text
        accounts.append((teacher, url))
    (_, staying_url), (leaving, leaving_url) = accounts
    await platform.depart(leaving, LIXIA_SCHOOL)
    r = await platform.client.patch(leaving_url, json={"active": True}, headers=school_admin)
    assert r.status_code == 422 and r.json()["code"] == "teacher_not_active"
    r = await platform.client.patch(staying_url, json={"active": True}, headers=school_admin)
    assert r.status_code == 200 and r.json()["active"] is True, r.text


async def test_one_teacher_has_one_account(platform: Platform) -> None:
    teacher = await platform.new_teacher(LIXIA_SCHOOL)
    school_admin = await platform.caller(LIXIA_SCHOOL)
    first = await platform.open(account("teacher", LIXIA_SCHOOL, teacher_id=teacher), school_admin)
    assert first.status_code == 201, first.text
    again = await platform.open(account("teacher", LIXIA_SCHOOL, teacher_id=teacher), school_admin)
    assert again.status_code == 409 and again.json()["code"] == "teacher_has_account"


async def test_teacher_id_is_for_teacher_accounts_only(platform: Platform) -> None:
    teacher = await platform.new_teacher(LIXIA_SCHOOL)
    county = await platform.caller(LIXIA)
    for role, path in [("school_admin", LIXIA_SCHOOL), ("training_institution", LIXIA)]:
        r = await platform.open(account(role, path, teacher_id=teacher), county)
        assert r.status_code == 422 and r.json()["code"] == "teacher_id_not_allowed", r.text
    r = await platform.open(account("teacher", LIXIA_SCHOOL), county)
    assert r.status_code == 422 and r.json()["code"] == "teacher_id_required"


async def test_org_must_exist_where_the_path_says(platform: Platform) -> None:
    province = await platform.caller(PROVINCE)
    missing = await platform.open(account("school_admin", [*LIXIA, "370102-S999"]), province)
    assert missing.status_code == 422 and missing.json()["code"] == "org_not_found"
    # A real school under another county's path: enrollment stores it elsewhere.
    moved = await platform.open(account("school_admin", [*RONGCHENG, "370102-S001"]), province)
    assert moved.status_code == 422 and moved.json()["code"] == "org_path_mismatch"
    # A Lixia admin claiming a Rongcheng school under its own path: enrollment does not show
    # it, so the answer is the same as for a school that does not exist.
    county = await platform.caller(LIXIA)
    hidden = await platform.open(account("school_admin", [*LIXIA, "371082-S001"]), county)
    absent = await platform.open(account("school_admin", [*LIXIA, "370102-S999"]), county)
    assert hidden.json()["code"] == "org_not_found"
    assert problem(hidden) == problem(absent)


async def test_org_level_must_fit_the_role(platform: Platform) -> None:
    province = await platform.caller(PROVINCE)
    for role, path in [
        ("county_admin", LIXIA_SCHOOL),
        ("training_institution", LIXIA_SCHOOL),
        ("training_institution", PROVINCE),
        ("workshop_host", LIXIA_SCHOOL),
        ("provider", JINAN),
    ]:
        r = await platform.open(account(role, path), province)
        assert r.status_code == 422 and r.json()["code"] == "org_level_not_allowed", (role, r.text)


@pytest.mark.parametrize(
    ("actor_path", "role", "path"),
    [
        (LIXIA_SCHOOL, "training_institution", LIXIA),
        (LIXIA_SCHOOL, "workshop_host", LIXIA),
        (LIXIA, "provider", PROVINCE),
        (JINAN, "provider", PROVINCE),
    ],
)
async def test_only_the_levels_named_by_the_rules_open_staff_and_providers(
    platform: Platform, actor_path: list[str], role: str, path: list[str]
) -> None:
    r = await platform.open(account(role, path), await platform.caller(actor_path))
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed", r.text


async def test_admin_cannot_open_accounts_outside_its_subtree(platform: Platform) -> None:
    county = await platform.caller(LIXIA)
    for role, path in [("school_admin", RONGCHENG_SCHOOL), ("training_institution", JINAN)]:
        r = await platform.open(account(role, path), county)
        assert r.status_code == 403 and r.json()["code"] == "out_of_scope", r.text
        assert "管理范围" in r.json()["message_zh"]


async def test_admin_cannot_open_an_admin_of_its_own_level_or_above(platform: Platform) -> None:
    county = await platform.caller(LIXIA)
    for role, path in [("county_admin", LIXIA), ("city_admin", JINAN)]:
        r = await platform.open(account(role, path), county)
        assert r.status_code == 403 and r.json()["code"] == "role_not_allowed", r.text
    teacher = await platform.caller(LIXIA_SCHOOL, role="teacher")
    r = await platform.open(account("county_admin", LIXIA), teacher)
    assert r.status_code == 403 and r.json()["code"] == "admins_only"


async def test_existing_username_is_a_409(
    platform: Platform, add_account: Callable[..., Any]
) -> None:
    await add_account("taken.name")
    r = await platform.open(
        account("school_admin", LIXIA_SCHOOL, username="Taken.Name"), await platform.caller(LIXIA)
    )
    assert r.status_code == 409 and r.json()["code"] == "username_taken"


async def test_enrollment_unreachable_is_a_503_with_retry_after(
    gateway: Any, add_account: Callable[..., Any], token_for: Callable[..., str]
) -> None:
    held = await add_account(role="county_admin", org_path=tuple(LIXIA))
    caller = auth(token_for("county_admin", LIXIA, user_id=str(held.id)))
    async with gateway(enrollment_url=closed_url()) as client:
        r = await client.post(
            "/api/v1/auth/accounts", json=account("school_admin", LIXIA_SCHOOL), headers=caller
        )
    assert r.status_code == 503 and r.json()["code"] == "enrollment_unavailable"
    assert int(r.headers["retry-after"]) > 0
    assert r.headers["content-type"] == "application/problem+json"


async def test_opening_is_audited_without_the_password(
    platform: Platform, session_factory: Callable[[], AsyncSession]
) -> None:
    body = account("school_admin", LIXIA_SCHOOL)
    r = await platform.open(body, await platform.caller(LIXIA))
    assert r.status_code == 201, r.text
    async with session_factory() as session:
        row = (
            await session.execute(
                text(
                    "SELECT actor_role, action, target_id, target_org, after::text AS after"
                    " FROM gateway.audit_log WHERE action = 'account.open'"
                )
            )
        ).one()
    assert (row.actor_role, row.target_id) == ("county_admin", r.json()["id"])
    assert row.target_org == LIXIA_SCHOOL
    assert body["username"] in row.after
    assert PASSWORD not in row.after and "argon2" not in row.after


async def test_opening_an_account_needs_a_token(platform: Platform) -> None:
    r = await platform.client.post(
        "/api/v1/auth/accounts", json=account("school_admin", LIXIA_SCHOOL)
    )
    assert r.status_code == 401
