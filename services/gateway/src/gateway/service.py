"""Account use cases (账号): open an account, sign in. No FastAPI here, and nothing commits:
the boundary does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import repository as repo
from gateway.errors import InvalidAccount, UsernameTaken
from gateway.models import Account
from gateway.passwords import hash_password_async, needs_rehash, verify_password_async
from gateway.schemas import AccountCreate, TokenResponse
from gateway.tokens import TokenIssuer
from yanxiu.kit.auth import ADMIN_LEVEL, Principal, Role
from yanxiu.kit.errors import Forbidden, OutOfScope


def normalise_username(username: str) -> str:
    return username.strip().lower()


async def create_account(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role | str,
    org_path: Sequence[str],
    name: str,
    teacher_id: uuid.UUID | str | None = None,
    active: bool = True,
) -> Account:
    """开通账号: a login with a role and the org path its tokens are scoped to."""
    login = normalise_username(username)
    if not login or not password:
        raise InvalidAccount("用户名和密码不能为空", "Username and password are required")
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidAccount(f"未知角色：{role}", f"Unknown role: {role}") from exc
    if await repo.find_by_username(session, login):
        raise UsernameTaken()
    account = Account(
        id=uuid.uuid4(),
        username=login,
        password_hash=await hash_password_async(password),
        role=role.value,
        org_path=list(org_path),
        name=name.strip(),
        teacher_id=uuid.UUID(str(teacher_id)) if teacher_id else None,
        active=active,
        failed_logins=0,
    )
    repo.add(session, account)
    await session.flush()
    return account


async def authenticate(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    max_failures: int = 5,
    lockout_seconds: int = 15 * 60,
    now: datetime | None = None,
) -> Account | None:
    """登录校验: the account when the password is right and the account active and unlocked,
    else None, whatever the reason (the caller must not tell them apart). Wrong passwords are
    counted, so the caller must commit even when it refuses the sign-in."""
    now = now or datetime.now(UTC)
    account = await repo.find_by_username(session, normalise_username(username))
    # Verify even for unknown users, so that the time taken does not reveal who exists.
    matches = await verify_password_async(account.password_hash if account else None, password)
    if account is None or not account.active:
        return None
    if account.locked_until is not None and account.locked_until > now:
        return None
    if not matches:
        await repo.record_failed_login(
            session,
            account.id,
            now=now,
            max_failures=max_failures,
            lock_for=timedelta(seconds=lockout_seconds),
        )
        return None
    new_hash = await hash_password_async(password) if needs_rehash(account.password_hash) else None
    await repo.record_login(session, account.id, now=now, new_hash=new_hash)
    return account


def principal_of(account: Account) -> Principal:
    return Principal(
        user_id=str(account.id),
        role=Role(account.role),
        org_path=tuple(account.org_path),
        name=account.name,
        teacher_id=str(account.teacher_id) if account.teacher_id else None,
    )


async def login(
    session: AsyncSession,
    issuer: TokenIssuer,
    *,
    username: str,
    password: str,
    max_failures: int,
    lockout_seconds: int,
) -> TokenResponse | None:
    """登录: a signed token for the right credentials, None for anything else."""
    account = await authenticate(
        session,
        username=username,
        password=password,
        max_failures=max_failures,
        lockout_seconds=lockout_seconds,
    )
    if account is None:
        return None
    principal = principal_of(account)
    return TokenResponse(
        access_token=issuer.issue(principal),
        expires_in=issuer.ttl_seconds,
        role=principal.role.value,
        org_path=list(principal.org_path),
    )


# Roles other than admins and teachers, and who above the school may open them.
_STAFF_ROLES = (Role.workshop_host, Role.expert, Role.training_institution)


def ensure_may_open(actor: Principal, data: AccountCreate) -> None:
    """Accounts are opened by the level above, inside the caller's own subtree: the province
    opens city admins, a city its county admins, a county its school admins, a school admin its
    teachers (the levels above may do that too). Workshop hosts, experts and training
    institutions are opened by county, city or province admins in their subtree."""
    if actor.role not in ADMIN_LEVEL:
        raise Forbidden("只有管理员可以开通账号", "Only admins open accounts")
    path = tuple(data.org_path)
    if data.role in ADMIN_LEVEL:
        if len(path) != ADMIN_LEVEL[data.role]:
            raise InvalidAccount(
                "管理员账号的机构路径层级与角色不符", "The org path does not match the admin level"
            )
        if ADMIN_LEVEL[actor.role] >= ADMIN_LEVEL[data.role]:
            raise Forbidden(
                "只能为下一级及以下开通管理员账号", "Admins open accounts only for levels below"
            )
    elif data.role is Role.teacher:
        if len(path) != 4 or data.teacher_id is None:
            raise InvalidAccount(
                "教师账号须指定学校和教师编号", "A teacher account needs a school and a teacher id"
            )
    elif data.role in _STAFF_ROLES:
        if actor.role is Role.school_admin:
            raise Forbidden(
                "工作坊主持人、专家和培训机构账号由县级及以上管理员开通",
                "Workshop hosts, experts and training institutions are opened by county admins"
                " and above",
            )
    else:
        raise Forbidden(
            f"不能通过此接口开通{data.role.value}账号", f"Cannot open {data.role.value}"
        )
    if not actor.covers(path):
        raise OutOfScope()


async def open_account(session: AsyncSession, *, actor: Principal, data: AccountCreate) -> Account:
    """开通账号 by an admin: checked against the caller's level and subtree, then created as
    `create_account` does (argon2 hash; 409 if the username is taken)."""
    ensure_may_open(actor, data)
    return await create_account(
        session,
        username=data.username,
        password=data.password,
        role=data.role,
        org_path=data.org_path,
        name=data.name,
        teacher_id=data.teacher_id,
    )
