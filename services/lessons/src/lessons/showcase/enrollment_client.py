"""A typed HTTP client for enrollment's batch teacher lookup (`POST /teachers/lookup`). It
forwards the caller's own bearer token, so enrollment decides what the caller may see: full ID
numbers for the teacher's school and county admins, masked for everyone else."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import httpx
from pydantic import BaseModel, ValidationError

from lessons.errors import EnrollmentUnavailable

CHUNK = 500  # enrollment's MAX_LOOKUP


class TeacherCard(BaseModel):
    id: uuid.UUID
    name: str
    id_number: str
    id_number_revealed: bool
    school_name: str = ""
    county_name: str = ""
    city_name: str = ""


class _Cards(BaseModel):
    items: list[TeacherCard]


class EnrollmentClient:
    def __init__(self, base_url: str, *, token: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    async def teacher_cards(
        self, teacher_ids: Iterable[uuid.UUID], *, reveal_id_number: bool
    ) -> dict[uuid.UUID, TeacherCard]:
        """The teachers the caller may see, by id (the others are simply absent)."""
        ids = list(dict.fromkeys(teacher_ids))
        out: dict[uuid.UUID, TeacherCard] = {}
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout, headers=headers
            ) as http:
                for i in range(0, len(ids), CHUNK):
                    body = {
                        "ids": [str(t) for t in ids[i : i + CHUNK]],
                        "reveal": "id_number" if reveal_id_number else None,
                    }
                    response = await http.post("/teachers/lookup", json=body)
                    if response.status_code in (401, 403):
                        continue  # the caller sees nobody there: masked placeholders
                    response.raise_for_status()
                    for card in _Cards.model_validate_json(response.content).items:
                        out[card.id] = card
        except (httpx.HTTPError, ValidationError) as exc:
            raise EnrollmentUnavailable(detail_en=f"Enrollment lookup failed: {exc}") from exc
        return out
