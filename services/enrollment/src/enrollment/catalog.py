"""Stages (学段) and the subject catalogue per stage, shipped as data (`data/subjects.json`)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_DATA = Path(__file__).parent / "data" / "subjects.json"


@cache
def _catalog() -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads(_DATA.read_text(encoding="utf-8"))["stages"]
    return data


def stages() -> dict[str, str]:
    """Stage code → Chinese name."""
    return {code: str(s["name"]) for code, s in _catalog().items()}


def subjects(stage: str) -> list[str]:
    entry = _catalog().get(stage)
    return list(entry["subjects"]) if entry else []  # type: ignore[call-overload]


def stage_code(value: str) -> str | None:
    """Accept a stage code or its Chinese name (as spreadsheets carry it)."""
    value = value.strip()
    if value in _catalog():
        return value
    return next((code for code, name in stages().items() if name == value), None)


def is_subject_of(stage: str, subject: str) -> bool:
    return subject in subjects(stage)
