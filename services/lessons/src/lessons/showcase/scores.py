"""省级优课观评总成绩: per lesson, the mean rubric total of its submitted peer reviews (the
reviews package's `lessons.reviews` table: lesson_id, total_score, status) plus the points of its
city award (市级优课按等级权重计入省级优课观评总成绩; data/award_weights.json: first 20, second
15, third 10 on top of a 0–100 review mean). Ranked per pool (year × stage × subject) over the
national-curriculum city-level lessons, i.e. those in provincial review."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)

from lessons.models import Lesson, metadata
from lessons.showcase.rules import CITY_AWARDS, CITY_LEVEL, LessonRules
from lessons.showcase.schemas import LessonScore
from yanxiu.kit.auth import Principal
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.pagination import InvalidCursor, Page, decode_cursor, encode_cursor
from yanxiu.kit.reads import Reader

_SCOPE_COLUMN = (Lesson.province_id, Lesson.city_id, Lesson.county_id, Lesson.school_id)
SUBMITTED = "submitted"


def _reviews() -> Table | None:
    return metadata.tables.get("lessons.reviews")


def _in_pool(*, year: int, stage: str, subject: str) -> list[ColumnElement[bool]]:
    return [
        Lesson.year == year,
        Lesson.stage == stage,
        Lesson.subject == subject,
        Lesson.level.in_(CITY_LEVEL),
        Lesson.curriculum == "national",
    ]


def _review_aggregate(pool: list[ColumnElement[bool]]) -> Any:
    """(lesson_id, reviews, review_mean) of the pool's submitted reviews (aggregated over the
    pool's lessons only, not over every review of the year); empty if reviews are not there."""
    reviews = _reviews()
    if reviews is None:
        return (
            select(
                Lesson.id.label("lesson_id"),
                literal(0).label("reviews"),
                cast(null(), Numeric).label("review_mean"),
            )
            .where(literal(False))
            .subquery("agg")
        )
    return (
        select(
            reviews.c.lesson_id.label("lesson_id"),
            func.count().label("reviews"),
            func.round(func.avg(reviews.c.total_score), 2).label("review_mean"),
        )
        .join(Lesson, Lesson.id == reviews.c.lesson_id)
        .where(reviews.c.status == SUBMITTED, *pool)
        .group_by(reviews.c.lesson_id)
        .subquery("agg")
    )


def _award_points(rules: LessonRules) -> ColumnElement[Any]:
    return case(
        *[(Lesson.award == a, literal(rules.award_weight(a))) for a in CITY_AWARDS],
        else_=literal(Decimal(0)),
    )


def _pool_ranking(rules: LessonRules, *, year: int, stage: str, subject: str) -> Any:
    pool = _in_pool(year=year, stage=stage, subject=subject)
    agg = _review_aggregate(pool)
    points = _award_points(rules)
    total = (func.coalesce(agg.c.review_mean, 0) + points).label("total")
    scored = (
        select(
            Lesson.id.label("lesson_id"),
            Lesson.title,
            Lesson.teacher_name,
            Lesson.province_id,
            Lesson.city_id,
            Lesson.county_id,
            Lesson.school_id,
            Lesson.award,
            Lesson.provincial,
            func.coalesce(agg.c.reviews, 0).label("reviews"),
            agg.c.review_mean,
            points.label("award_points"),
            total,
        )
        .select_from(Lesson)
        .outerjoin(agg, agg.c.lesson_id == Lesson.id)
        .where(*pool)
        .subquery("scored")
    )
    return select(scored, func.rank().over(order_by=scored.c.total.desc()).label("rank")).subquery(
        "ranked"
    )


MAX_CURSOR_TOTAL = Decimal(1_000_000)


def _decode(cursor: str | None) -> tuple[Decimal, uuid.UUID] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        total, _, lesson_id = str(raw).partition("|")
        score = Decimal(total)
        # A total no lesson can have (NaN, infinite, past numeric's range) is a forged cursor.
        if not score.is_finite() or abs(score) > MAX_CURSOR_TOTAL:
            raise ValueError(total)
        return score, uuid.UUID(lesson_id)
    except (ValueError, ArithmeticError) as exc:
        raise InvalidCursor() from exc


async def ranking(
    reader: Reader,
    *,
    actor: Principal,
    rules: LessonRules,
    year: int,
    stage: str,
    subject: str,
    cursor: str | None,
    limit: int,
) -> Page[LessonScore]:
    """省级排名 of one pool, best first; ranks are pool-wide, rows limited to the caller's org
    (the province sees all, a city its own lessons)."""
    if not actor.is_admin:
        raise Forbidden()
    ranked = _pool_ranking(rules, year=year, stage=stage, subject=subject)
    scope_column = ranked.c[_SCOPE_COLUMN[len(actor.org_path) - 1].key]
    stmt = (
        select(ranked)
        .where(scope_column == actor.org_path[-1])
        .order_by(ranked.c.total.desc(), ranked.c.lesson_id)
        .limit(limit + 1)
    )
    after = _decode(cursor)
    if after is not None:
        stmt = stmt.where(
            or_(
                ranked.c.total < after[0],
                and_(ranked.c.total == after[0], ranked.c.lesson_id > after[1]),
            )
        )
    rows = await reader.records(stmt)
    items = [
        LessonScore(
            rank=r["rank"],
            lesson_id=r["lesson_id"],
            title=r["title"],
            teacher_name=r["teacher_name"],
            city_id=r["city_id"],
            award=r["award"],
            provincial=r["provincial"],
            reviews=r["reviews"],
            review_mean=r["review_mean"],
            award_points=Decimal(r["award_points"]),
            total=Decimal(r["total"]),
        )
        for r in rows[:limit]
    ]
    last = items[-1] if len(rows) > limit else None
    return Page[LessonScore](
        items=items,
        next_cursor=encode_cursor(f"{last.total}|{last.lesson_id}") if last else None,
    )
