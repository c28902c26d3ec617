"""The lessons service's own request dependencies: the outbox, the 优课 rules (data plus
settings overrides, built once per process) and the enrollment client settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lessons.config import Settings
from lessons.showcase.rules import LessonRules, load_rules
from yanxiu.kit.deps import runtime
from yanxiu.kit.outbox import Outbox


async def outbox(request: Request) -> Outbox:
    return runtime(request).outbox


async def lesson_rules(request: Request) -> LessonRules:
    rt = runtime(request)
    rules = rt.extras.get("lesson_rules")
    if rules is None:
        overrides = getattr(rt.settings, "city_level_deadlines", {}) or {}
        rules = rt.extras["lesson_rules"] = load_rules(overrides)
    assert isinstance(rules, LessonRules)
    return rules


async def lessons_settings(request: Request) -> Settings:
    settings = runtime(request).settings
    if isinstance(settings, Settings):
        return settings
    return Settings.model_validate(settings.model_dump())


EventOutbox = Annotated[Outbox, Depends(outbox)]
Rules = Annotated[LessonRules, Depends(lesson_rules)]
LessonsSettings = Annotated[Settings, Depends(lessons_settings)]
