"""Org scope and date windows of the registration cascade."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from enrollment.errors import StepOutsideWindow
from enrollment.models import Org, Project
from enrollment.registration import repository as repo
from yanxiu.kit.auth import ADMIN_LEVEL, Principal
from yanxiu.kit.errors import DomainError, OutOfScope
from yanxiu.kit.pagination import InvalidCursor, decode_cursor
from yanxiu.kit.reads import Db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FILTER_LEVELS = ("city_id", "county_id", "school_id")  # org path positions 1, 2, 3


def today(now: datetime | None) -> date:
    """Windows are Asia/Shanghai dates."""
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()


def ensure_window(
    step_zh: str,
    step_en: str,
    opens: date,
    closes: date,
    on: date,
    error: type[DomainError] = StepOutsideWindow,
) -> None:
    if not opens <= on <= closes:
        raise error(
            f"{step_zh}时间为 {opens} 至 {closes}（北京时间），今天是 {on}",
            f"{step_en} runs {opens} to {closes} (Asia/Shanghai); today is {on}",
            step=step_en,
            opens_on=str(opens),
            closes_on=str(closes),
        )


def org_path(org: Org) -> list[str]:
    path = [org.province_id]
    path += [org.city_id] if org.city_id else []
    path += [org.county_id] if org.county_id else []
    path += [org.id] if org.level == "school" else []
    return path


def in_reach(actor: Principal, project: Project) -> bool:
    """项目范围: a project concerns the callers inside its owner's subtree and those above the
    owner (a province admin for a city-run programme of its province); nobody else sees it."""
    owner, mine = project.owner_path, actor.org_path
    n = min(len(owner), len(mine))
    return n > 0 and tuple(owner[:n]) == tuple(mine[:n])


async def scoped_filters(
    db: Db, *, actor: Principal, requested: dict[str, str | None]
) -> dict[str, str | None]:
    """The caller's own subtree as filters, narrowed by the requested ones; a requested org
    outside the caller's subtree is refused."""
    own = actor.org_path if actor.role in ADMIN_LEVEL else ()
    if not own:
        raise OutOfScope()
    filters: dict[str, str | None] = {}
    for depth, key in enumerate(FILTER_LEVELS, start=1):
        value = requested.get(key)
        if depth < len(own):
            if value is not None and value != own[depth]:
                raise OutOfScope()
            filters[key] = own[depth]
        elif value is not None:
            org = await repo.get_org(db, value)
            if org is None or len(org_path(org)) != depth + 1 or not actor.covers(org_path(org)):
                raise OutOfScope()
            filters[key] = value
        else:
            filters[key] = None
    return filters


def uuid_after(cursor: str | None) -> uuid.UUID | None:
    after = decode_cursor(cursor)
    if after is None:
        return None
    try:
        return uuid.UUID(str(after))
    except ValueError as exc:
        raise InvalidCursor() from exc


def str_after(cursor: str | None) -> str | None:
    after = decode_cursor(cursor)
    return None if after is None else str(after)
