"""选课建议: for each requirement a teacher has not yet filled, the courses that would fill it
(compulsory ones first, then the teacher's stage/subject, the school's topics, larger courses
first), skipping what the teacher already selected or completed."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select

from learning import service as plans
from learning.attainment import repository as attained
from learning.catalog import service as catalog
from learning.catalog.models import Course
from learning.catalog.repository import for_stage_subject
from learning.models import Plan
from learning.rules.ruleset import Bucket, RuleSet, evaluate
from learning.rules.service import ruleset_for
from learning.selection import repository as repo
from learning.selection.schemas import Suggestion, SuggestionsRead
from yanxiu.kit.auth import Principal
from yanxiu.kit.reads import Reader

# Categories that no course stands for (peer reviews are pushed by the lessons service).
_NOT_COURSES = {"review"}
_PER_BUCKET = 20


async def suggest(
    reader: Reader, *, actor: Principal, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> SuggestionsRead:
    plan = next(
        (
            p
            for p in await plans.plans_for(reader, actor=actor, teacher_id=teacher_id)
            if p.project_id == project_id
        ),
        None,
    )
    found = await ruleset_for(reader, project_id) if plan else None
    if plan is None or found is None:
        return SuggestionsRead(teacher_id=teacher_id, project_id=project_id, suggestions=[])
    rules = found[0]
    ev = evaluate(
        rules, await attained.live_credits(reader, teacher_id=teacher_id, project_id=project_id)
    )
    chosen = await repo.selected(reader, teacher_id=teacher_id, project_id=project_id)
    done: set[uuid.UUID | None] = set(
        await attained.completed_courses(reader, teacher_id=teacher_id, project_id=project_id)
    )
    done |= {c.id for _, c in chosen}
    topics = await repo.school_topic_ids(reader, project_id=project_id, school_id=plan.school_id)
    topics |= set(rules.mandatory_topics)
    out = []
    for b in rules.buckets:
        pending = sum((c.hours for _, c in chosen if b.takes(c.category, c.topic_id)), Decimal(0))
        remaining = b.min_hours - ev.counted[b.code] - pending
        if remaining <= 0 and not b.compulsory_courses:
            continue
        compulsory, courses = await _fill(reader, rules, b, plan, topics, done, remaining)
        if remaining > 0 or compulsory:
            out.append(
                Suggestion(
                    bucket=b.code,
                    name=b.name,
                    remaining_hours=max(remaining, Decimal(0)),
                    compulsory=[catalog.read(c) for c in compulsory],
                    courses=[catalog.read(c) for c in courses],
                )
            )
    return SuggestionsRead(teacher_id=teacher_id, project_id=project_id, suggestions=out)


async def _fill(
    reader: Reader,
    rules: RuleSet,
    bucket: Bucket,
    plan: Plan,
    topics: set[str],
    done: set[uuid.UUID | None],
    remaining: Decimal,
) -> tuple[list[Course], list[Course]]:
    compulsory: list[Course] = []
    if bucket.compulsory_courses:
        stmt = select(Course).where(Course.code.in_(bucket.compulsory_courses))
        compulsory = [c for c in await reader.all(Course, stmt) if c.id not in done]
    stmt = for_stage_subject(select(Course), plan.stage, None)
    if bucket.topics:
        stmt = stmt.where(Course.topic_id.in_(bucket.topics))
    candidates = await reader.all(
        Course, stmt.order_by(Course.hours.desc(), Course.code).limit(500)
    )
    # Each query's rows are instances of their own (no identity map): compared by id.
    listed = {c.id for c in compulsory}
    picked: list[Course] = []
    got = sum((c.hours for c in compulsory), Decimal(0))
    for c in candidates:
        if got >= remaining or len(picked) >= _PER_BUCKET:
            break
        if c.id in done or c.id in listed or c.category in _NOT_COURSES:
            continue
        if not bucket.takes(c.category, c.topic_id):
            continue
        if c.scope == "subject" and c.subjects and plan.subject not in c.subjects:
            continue
        if c.category == "general_elective" and c.topic_id not in topics:
            continue
        picked.append(c)
        got += c.hours
    return compulsory, picked
