"""Rows as they start, before any event has said more than who and where."""

from __future__ import annotations

import uuid
from typing import Any

from yanxiu.contracts.envelope import OrgPath


def place(org: OrgPath) -> dict[str, str]:
    return {
        "province_id": org.province_id,
        "city_id": org.city_id,
        "county_id": org.county_id,
        "school_id": org.school_id,
    }


def standing(project_id: uuid.UUID, teacher_id: uuid.UUID, org: OrgPath) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "teacher_id": teacher_id,
        "year": None,
        "teacher_name": "",
        **place(org),
        "stage": "",
        "subject": "",
        "is_rural": None,
        "employment": "active",
        "registered_at": None,
        "plan_status": None,
        "plan_at": None,
        "started_at": None,
        "met_at": None,
        "hours": {},
        "reviews_done": 0,
    }


def teacher_year(teacher_id: uuid.UUID, year: int, org: OrgPath) -> dict[str, Any]:
    return {
        "teacher_id": teacher_id,
        "year": year,
        **place(org),
        "total_hours": 0,
        "complete": False,
        "credited_at": None,
        "complete_at": None,
        "tallied_at": None,
        "certificate_id": None,
        "certified_at": None,
    }


def lesson(
    lesson_id: uuid.UUID,
    teacher_id: uuid.UUID,
    year: int,
    stage: str,
    subject: str,
    org: OrgPath,
) -> dict[str, Any]:
    return {
        "lesson_id": lesson_id,
        "teacher_id": teacher_id,
        "year": year,
        **place(org),
        "stage": stage,
        "subject": subject,
        "submitted_at": None,
        "levels": {},
        "award": None,
    }
