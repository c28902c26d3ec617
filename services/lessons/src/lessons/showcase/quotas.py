"""市级优课名额: the year's quota table with the places each city has used, and taking one
place when a city awards a lesson (a guarded UPDATE on the city's counter row: concurrent
awards queue on its row lock, and the one that would overrun the quota finds no row)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.errors import CityLevelQuotaFull, NoCityQuota, NoQuotaTable, QuotaExceeded
from lessons.showcase.models import CityQuotaCounter
from lessons.showcase.rules import AWARD_NAMES, CITY_AWARDS, LessonRules, QuotaTable
from lessons.showcase.schemas import AwardQuota, CityQuotaRead, QuotaTableRead
from yanxiu.kit.auth import Principal
from yanxiu.kit.reads import Reader


def table_for(rules: LessonRules, year: int) -> QuotaTable:
    table = rules.quota_table(year)
    if table is None:
        raise NoQuotaTable()
    return table


CITY_LEVEL_PLACES = "city_level"  # the counter of city-level (competition) lessons: the total


async def take_place(
    session: AsyncSession, *, rules: LessonRules, year: int, city_id: str, award: str
) -> None:
    """One place of `award` (一/二/三等奖) for the city, or QuotaExceeded."""
    cap = table_for(rules, year).cap(city_id, award)
    if cap is None:
        raise NoCityQuota()
    if await _bump(session, year=year, city_id=city_id, key=award, cap=cap) is None:
        raise QuotaExceeded(
            f"{AWARD_NAMES[award]}名额已用完（共{cap}个）",
            f"No {award} places left (the city has {cap})",
            award=award,
            places=cap,
        )


async def take_city_level_place(
    session: AsyncSession, *, rules: LessonRules, year: int, city_id: str
) -> None:
    """A city-level competition lesson takes one of the city's places (the table's total): a
    city cannot push more city-level lessons than it may award."""
    table = table_for(rules, year)
    city = table.cities.get(city_id)
    if city is None:
        raise NoCityQuota()
    taken = await _bump(session, year=year, city_id=city_id, key=CITY_LEVEL_PLACES, cap=city.total)
    if taken is None:
        raise CityLevelQuotaFull(places=city.total)


async def _bump(
    session: AsyncSession, *, year: int, city_id: str, key: str, cap: int
) -> int | None:
    """used + 1 on the counter row unless it is full (None then); the row lock serialises
    concurrent bumps and the guard re-checks after the wait."""
    await session.execute(
        insert(CityQuotaCounter)
        .values(year=year, city_id=city_id, award=key, quota=cap, used=0)
        .on_conflict_do_nothing()
    )
    counter = CityQuotaCounter.__table__.c
    used = await session.scalar(
        update(CityQuotaCounter)
        .where(
            counter.year == year,
            counter.city_id == city_id,
            counter.award == key,
            counter.used < counter.quota,
        )
        .values(used=counter.used + 1)
        .returning(counter.used)
    )
    return None if used is None else int(used)


async def quota_table(
    reader: Reader, *, actor: Principal, rules: LessonRules, year: int
) -> QuotaTableRead:
    """GET /quotas: the table, with each city's used places; the province sees every city,
    anyone below it (city, county, school, teacher) their own city."""
    table = table_for(rules, year)
    own_city = tuple(actor.org_path[1:2])  # () for the province: every city
    cities = [c for c in table.cities.values() if own_city in ((), (c.city_id,))]
    rows = await reader.records(
        select(CityQuotaCounter.city_id, CityQuotaCounter.award, CityQuotaCounter.used).where(
            CityQuotaCounter.year == year
        )
    )
    used = {(r["city_id"], r["award"]): r["used"] for r in rows}
    out = []
    for city in cities:
        awards = []
        for award in CITY_AWARDS:
            places = table.cap(city.city_id, award) or 0
            taken = used.get((city.city_id, award), 0)
            awards.append(
                AwardQuota(
                    award=award,
                    name=AWARD_NAMES[award],
                    places=places,
                    used=taken,
                    remaining=places - taken,
                )
            )
        out.append(
            CityQuotaRead(
                city_id=city.city_id,
                city_name=city.name,
                total=city.total,
                city_level_used=used.get((city.city_id, CITY_LEVEL_PLACES), 0),
                awards=awards,
            )
        )
    totals = {a: sum(c.places(a) for c in table.cities.values()) for a in CITY_AWARDS}
    totals["total"] = sum(totals.values())
    return QuotaTableRead(
        year=year,
        table_year=table.year,
        source=table.source,
        city_level_deadline=rules.city_deadline(year),
        limits=table.limits,
        totals=totals,
        cities=out,
    )
