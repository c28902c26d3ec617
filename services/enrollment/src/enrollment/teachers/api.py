"""Thin routes: 教师信息: teacher records, their personal data, history and transfers."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from enrollment.deps import Pii
from enrollment.teachers import service
from enrollment.teachers.schemas import TeacherCreate, TeacherRead
from yanxiu.kit.deps import CurrentUser, Session

router = APIRouter()


@router.post("/teachers", response_model=TeacherRead, status_code=201, tags=["teachers"])
async def create_teacher(
    body: TeacherCreate, session: Session, user: CurrentUser, pii: Pii
) -> TeacherRead:
    teacher = await service.create_teacher(session, pii, actor=user, data=body)
    return service.read_teacher(teacher, pii)


@router.get("/teachers/{teacher_id}", response_model=TeacherRead, tags=["teachers"])
async def get_teacher(
    teacher_id: uuid.UUID, session: Session, user: CurrentUser, pii: Pii
) -> TeacherRead:

    return service.read_teacher(
        await service.get_teacher(session, actor=user, teacher_id=teacher_id), pii
    )
