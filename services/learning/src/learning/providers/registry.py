"""第三方机构登记: province admins register providers and issue, list and revoke their keys.
Several keys may be active at once (rotation: issue the new one, switch, revoke the old)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.audit import AUDIT
from learning.providers.errors import (
    ProviderCodeTaken,
    ProviderKeyNotFound,
    ProviderNotFound,
    TooManyActiveKeys,
)
from learning.providers.models import Provider, ProviderKey
from learning.providers.schemas import KeyIssued, ProviderCreate, ProviderRead
from learning.providers.signing import new_key_id, new_secret, secret_context
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.pagination import Page, decode_uuid_cursor, next_cursor
from yanxiu.kit.pii import PiiCipher

MAX_ACTIVE_KEYS = 5


def _province_of(actor: Principal) -> str:
    actor.ensure_role(Role.province_admin)
    return actor.org_path[0]


async def register(session: AsyncSession, *, actor: Principal, data: ProviderCreate) -> Provider:
    province = _province_of(actor)
    created = await session.execute(
        insert(Provider)
        .values(
            id=uuid.uuid4(),
            code=data.code,
            name=data.name,
            province_id=province,
            created_by=actor.user_id,
        )
        .on_conflict_do_nothing(index_elements=[Provider.code])
        .returning(Provider)
    )
    provider = created.scalar_one_or_none()
    if provider is None:
        raise ProviderCodeTaken(code_value=data.code)
    await AUDIT.record(
        session,
        actor=actor,
        action="provider.register",
        target_type="provider",
        target_id=str(provider.id),
        target_org=[province],
        after={"code": provider.code, "name": provider.name},
    )
    return provider


async def list_providers(
    session: AsyncSession, *, actor: Principal, cursor: str | None, limit: int
) -> Page[ProviderRead]:
    province = _province_of(actor)
    query = select(Provider).where(Provider.province_id == province)
    after = decode_uuid_cursor(cursor)
    if after is not None:
        query = query.where(Provider.id > after)
    rows = list((await session.execute(query.order_by(Provider.id).limit(limit + 1))).scalars())
    return Page(
        items=[ProviderRead.model_validate(p) for p in rows[:limit]],
        next_cursor=next_cursor([str(p.id) for p in rows], limit),
    )


async def get_provider(
    session: AsyncSession, *, actor: Principal, provider_id: uuid.UUID
) -> Provider:
    """Outside the admin's province a provider does not exist (404 whatever the id)."""
    province = _province_of(actor)
    provider = await session.get(Provider, provider_id)
    if provider is None or provider.province_id != province:
        raise ProviderNotFound()
    return provider


async def issue_key(
    session: AsyncSession, *, actor: Principal, provider_id: uuid.UUID, cipher: PiiCipher
) -> KeyIssued:
    provider = await get_provider(session, actor=actor, provider_id=provider_id)
    # Lock the provider so two concurrent issues cannot both pass the active-key count.
    await session.execute(select(Provider.id).where(Provider.id == provider.id).with_for_update())
    active = await session.scalar(
        select(func.count())
        .select_from(ProviderKey)
        .where(ProviderKey.provider_id == provider.id, ProviderKey.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_KEYS:
        raise TooManyActiveKeys(max_active_keys=MAX_ACTIVE_KEYS)
    key_id, secret = new_key_id(), new_secret()
    key = ProviderKey(
        id=key_id,
        provider_id=provider.id,
        secret_encrypted=cipher.encrypt(secret, context=secret_context(key_id)),
        created_at=datetime.now(UTC),
    )
    session.add(key)
    await session.flush()
    # The key id only: the secret is shown once, to the caller, and never stored in clear.
    await AUDIT.record(
        session,
        actor=actor,
        action="provider.issue_key",
        target_type="provider",
        target_id=str(provider.id),
        target_org=[provider.province_id],
        after={"key_id": key_id, "active_keys": (active or 0) + 1},
    )
    return KeyIssued(
        key_id=key_id, secret=secret, provider_id=provider.id, created_at=key.created_at
    )


async def list_keys(
    session: AsyncSession, *, actor: Principal, provider_id: uuid.UUID
) -> list[ProviderKey]:
    provider = await get_provider(session, actor=actor, provider_id=provider_id)
    rows = await session.execute(
        select(ProviderKey)
        .where(ProviderKey.provider_id == provider.id)
        .order_by(ProviderKey.created_at, ProviderKey.id)
    )
    return list(rows.scalars())


async def revoke_key(
    session: AsyncSession, *, actor: Principal, provider_id: uuid.UUID, key_id: str
) -> None:
    """Revoking is idempotent: an already revoked key stays revoked at its first time."""
    provider = await get_provider(session, actor=actor, provider_id=provider_id)
    key = await session.get(ProviderKey, key_id)
    if key is None or key.provider_id != provider.id:
        raise ProviderKeyNotFound()
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
        await AUDIT.record(
            session,
            actor=actor,
            action="provider.revoke_key",
            target_type="provider",
            target_id=str(provider.id),
            target_org=[provider.province_id],
            before={"key_id": key_id, "revoked_at": None},
            after={"key_id": key_id, "revoked_at": key.revoked_at},
        )
