"""教师批量查询: names, org names and ID numbers of many teachers at once, for other services
that print them (the lessons service's Annex 3 city summary sheet) with the caller's token.

Teachers outside the caller's subtree are left out (not an error: the caller learns nothing
about them). The full 身份证号 is given only where the caller may see it (`may_reveal`: the
teacher's school and county admins) and only when asked; each reveal is written to the record's
history, as a single reveal is. Everyone else gets it masked."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org, Teacher
from enrollment.teachers import history
from enrollment.teachers.history import ID_CONTEXT
from enrollment.teachers.service import ADMINS, may_reveal
from yanxiu.kit.auth import Principal
from yanxiu.kit.pii import PiiCipher, mask_id_number

MAX_LOOKUP = 500


class TeacherLookup(BaseModel):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_LOOKUP)
    reveal: Literal["id_number"] | None = Field(
        default=None, description="id_number: full ID numbers where the caller may see them"
    )


class TeacherCard(BaseModel):
    id: uuid.UUID
    name: str
    id_number: str = Field(description="身份证号: full only if id_number_revealed")
    id_number_revealed: bool
    stage: str
    subject: str
    status: str
    school_id: str
    school_name: str
    county_id: str
    county_name: str
    city_id: str
    city_name: str


class TeacherCards(BaseModel):
    items: list[TeacherCard]


async def lookup_teachers(
    session: AsyncSession, pii: PiiCipher, *, actor: Principal, data: TeacherLookup
) -> TeacherCards:
    actor.ensure_role(*ADMINS)
    rows = (
        await session.scalars(
            select(Teacher).where(Teacher.id.in_(set(data.ids))).order_by(Teacher.id)
        )
    ).all()
    teachers = [t for t in rows if actor.covers(t.org_path)]
    org_ids = {o for t in teachers for o in (t.school_id, t.county_id, t.city_id)}
    names: dict[str, str] = {}
    if org_ids:
        result = await session.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids)))
        names = {org_id: name for org_id, name in result}
    cards = []
    for t in teachers:
        full = pii.decrypt(t.id_number_cipher, context=ID_CONTEXT)
        reveal = data.reveal == "id_number" and may_reveal(actor, t)
        if reveal:
            await history.record(
                session,
                t,
                actor=actor,
                action="reveal_id_number",
                before=None,
                after={"field": "id_number", "via": "lookup"},
            )
        cards.append(
            TeacherCard(
                id=t.id,
                name=t.name,
                id_number=full if reveal else mask_id_number(full),
                id_number_revealed=reveal,
                stage=t.stage,
                subject=t.subject,
                status=t.status,
                school_id=t.school_id,
                school_name=names.get(t.school_id, ""),
                county_id=t.county_id,
                county_name=names.get(t.county_id, ""),
                city_id=t.city_id,
                city_name=names.get(t.city_id, ""),
            )
        )
    await session.flush()
    return TeacherCards(items=cards)
