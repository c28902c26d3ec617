"""账号 as a resource: opened by an admin after enrollment confirms the org (and the teacher),
listed and changed inside the caller's subtree, and moved or closed when enrollment says the
teacher moved or left. Every change is written to the audit trail; nothing commits here.

Ending sessions means `tokens_valid_after = now` (and, for disabling, `active = false`): the
gateway refuses any token issued before that moment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import service as accounts_core
from gateway.accounts import repository as repo
from gateway.accounts.errors import (
    AccountNotFound,
    OrgNotFound,
    OrgPathMismatch,
    OwnAccount,
    TeacherHasAccount,
    TeacherNotActive,
    TeacherNotAtOrg,
    TeacherNotFound,
)
from gateway.accounts.rules import ensure_admin, ensure_may_manage, ensure_may_open, may_see
from gateway.accounts.schemas import AccountUpdate
from gateway.enrollment_client import EnrollmentClient
from gateway.models import Account, audit_log
from gateway.passwords import hash_password_async
from gateway.schemas import AccountCreate, AccountRead
from yanxiu.kit.audit import AuditTrail
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.pagination import Page, decode_cursor, encode_cursor

AUDIT = AuditTrail(audit_log)
# Event-driven changes have no caller; the trail names the source instead.
ENROLLMENT_EVENTS = "enrollment-events"


def _state(account: Account) -> dict[str, Any]:
    """What the trail shows of an account: never its password or hash."""
    return {
        "username": account.username,
        "role": account.role,
        "org_path": list(account.org_path),
        "name": account.name,
        "teacher_id": account.teacher_id,
        "active": account.active,
    }


async def _confirm_with_enrollment(enrollment: EnrollmentClient, data: AccountCreate) -> None:
    """The org exists where the body says, and a teacher is known, active and at that school;
    what the caller cannot see answers as not found."""
    org = await enrollment.org(data.org_path[-1])
    if org is None:
        raise OrgNotFound()
    if org.path != list(data.org_path):
        raise OrgPathMismatch()
    if data.teacher_id is not None:
        await _confirm_teacher(enrollment, data.teacher_id, school_path=data.org_path)


async def _confirm_teacher(
    enrollment: EnrollmentClient, teacher_id: uuid.UUID, *, school_path: Sequence[str]
) -> None:
    teacher = await enrollment.teacher(teacher_id)
    if teacher is None:
        raise TeacherNotFound()
    if teacher.status != "active":
        raise TeacherNotActive()
    if [teacher.city_id, teacher.county_id, teacher.school_id] != list(school_path[1:]):
        raise TeacherNotAtOrg()


async def open_account(
    session: AsyncSession, enrollment: EnrollmentClient, *, actor: Principal, data: AccountCreate
) -> Account:
    """开通账号 by an admin: the rules of `accounts.rules`, then enrollment's word on the org and
    the teacher (asked before the database is touched, so no connection waits on it)."""
    ensure_may_open(actor, role=data.role, org_path=data.org_path, teacher_id=data.teacher_id)
    await _confirm_with_enrollment(enrollment, data)
    if data.teacher_id is not None and await repo.teacher_has_account(session, data.teacher_id):
        raise TeacherHasAccount()
    account = await accounts_core.create_account(
        session,
        username=data.username,
        password=data.password,
        role=data.role,
        org_path=data.org_path,
        name=data.name,
        teacher_id=data.teacher_id,
    )
    await AUDIT.record(
        session,
        actor=actor,
        action="account.open",
        target_type="account",
        target_id=str(account.id),
        target_org=account.org_path,
        after=_state(account),
    )
    return account


async def list_accounts(
    session: AsyncSession,
    *,
    actor: Principal,
    role: Role | None,
    org_id: str | None,
    active: bool | None,
    username_prefix: str | None,
    cursor: str | None,
    limit: int,
) -> Page[AccountRead]:
    """账号列表: the accounts in the caller's subtree, by username."""
    ensure_admin(actor)
    after = decode_cursor(cursor)
    rows = await repo.list_accounts(
        session,
        scope=actor.org_path,
        role=role,
        org_id=org_id,
        active=active,
        username_prefix=accounts_core.normalise_username(username_prefix or "") or None,
        after=str(after) if after is not None else None,
        limit=limit + 1,
    )
    return Page[AccountRead](
        items=[AccountRead.model_validate(a) for a in rows[:limit]],
        next_cursor=encode_cursor(rows[limit - 1].username) if len(rows) > limit else None,
    )


async def get_account(
    session: AsyncSession, *, actor: Principal, account_id: uuid.UUID, for_update: bool = False
) -> Account:
    """One account: the caller's own, or one in an admin's subtree; else 404."""
    account = await repo.get_account(session, account_id, lock=for_update)
    if account is None or not may_see(actor, account_id=str(account.id), org_path=account.org_path):
        raise AccountNotFound()
    return account


async def update_account(
    session: AsyncSession,
    enrollment: EnrollmentClient,
    *,
    actor: Principal,
    account_id: uuid.UUID,
    data: AccountUpdate,
    now: datetime | None = None,
) -> Account:
    """修改账号 by an admin who could have opened it: name, active, a new password. Disabling
    and a password reset end the account's sessions; a reset also lifts a lockout. A teacher
    account is enabled again only while enrollment has the teacher active at its school (one
    that left was disabled by the departure event)."""
    ensure_admin(actor)
    # Hashed before the row is read, so no database connection waits on argon2.
    new_hash = await hash_password_async(data.password) if data.password is not None else None
    account = await get_account(session, actor=actor, account_id=account_id, for_update=True)
    if str(account.id) == actor.user_id:
        raise OwnAccount()
    ensure_may_manage(actor, Role(account.role))
    now = now or datetime.now(UTC)
    changes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if data.name is not None and data.name.strip() != account.name:
        changes.append(("account.update", {"name": account.name}, {"name": data.name.strip()}))
        account.name = data.name.strip()
    if data.active is not None and data.active != account.active:
        if data.active and account.role == Role.teacher.value and account.teacher_id:
            await _confirm_teacher(enrollment, account.teacher_id, school_path=account.org_path)
        action = "account.enable" if data.active else "account.disable"
        changes.append((action, {"active": account.active}, {"active": data.active}))
        account.active = data.active
        if not data.active:
            account.tokens_valid_after = now
    if new_hash is not None:
        changes.append(("account.password_reset", {}, {"sessions_ended_at": now}))
        account.password_hash = new_hash
        account.tokens_valid_after = now
        account.failed_logins = 0
        account.locked_until = None
    await session.flush()
    for action, before, after in changes:
        await AUDIT.record(
            session,
            actor=actor,
            action=action,
            target_type="account",
            target_id=str(account.id),
            target_org=account.org_path,
            before=before,
            after=after,
        )
    return account


async def follow_transfer(
    session: AsyncSession,
    *,
    teacher_id: uuid.UUID,
    to_org: Sequence[str],
    reactivate: bool,
    now: datetime,
) -> None:
    """调动: the teacher's accounts take the new school's org path and their sessions end (a
    token scoped to the old school must not outlive the move). Taken in from the departed
    pool, the account signs in again, at the new school."""
    for account in await repo.teacher_accounts(session, teacher_id):
        before = {"org_path": list(account.org_path), "active": account.active}
        account.org_path = list(to_org)
        account.tokens_valid_after = now
        if reactivate:
            account.active = True
        await _record_event_change(session, account, "account.move", before)


async def follow_departure(session: AsyncSession, *, teacher_id: uuid.UUID, now: datetime) -> None:
    """离职: the teacher's accounts are disabled and their sessions end."""
    for account in await repo.teacher_accounts(session, teacher_id):
        before = {"org_path": list(account.org_path), "active": account.active}
        account.active = False
        account.tokens_valid_after = now
        await _record_event_change(session, account, "account.deactivate", before)


async def _record_event_change(
    session: AsyncSession, account: Account, action: str, before: dict[str, Any]
) -> None:
    await session.flush()
    await AUDIT.record(
        session,
        actor=None,
        actor_id=ENROLLMENT_EVENTS,
        action=action,
        target_type="account",
        target_id=str(account.id),
        target_org=account.org_path,
        before=before,
        after={"org_path": list(account.org_path), "active": account.active},
    )
