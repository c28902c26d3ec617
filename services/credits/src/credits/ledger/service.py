"""学分台账 use cases. Records and certificates call only `post_entries` and `year_status`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from credits.audit import AUDIT
from credits.events import CREDITS_OUTBOX, year_tallied
from credits.ledger import repository as repo
from credits.ledger.errors import (
    AlreadyReversed,
    EntryNotFound,
    NotReversible,
    YearClosed,
)
from credits.ledger.models import LedgerEntry, Teacher
from credits.ledger.regions import Region, region_for, regions
from credits.ledger.tally import Batch, Tallied, org_moves
from credits.ledger.tally import counted as counted_hours
from yanxiu.contracts.envelope import Event, OrgPath
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.bounds import in_range
from yanxiu.kit.reads import Db

SourceKind = Literal["project", "course", "offline", "provider", "award", "bonus"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntryIn:
    """One credited fact. (source_kind, source_id, teacher_id) counts once, enforced by a
    unique constraint; `occurred_at` decides the year unless `year` is given."""

    teacher_id: uuid.UUID
    source_kind: SourceKind
    source_id: str
    category: str
    hours: Decimal
    occurred_at: datetime
    org: OrgPath
    description: str = ""
    year: int | None = None
    region: str | None = None
    # A course completion's project and course identity: one live entry per (teacher,
    # project, course_key), whatever completion ids arrive (a slot the database keeps).
    project_id: uuid.UUID | None = None
    course_key: str | None = None


HOURS = Decimal("0.1")  # hours are shown as the ledger keeps them: one decimal place


def as_hours(value: Decimal) -> Decimal:
    """Hours in the one format balances show (20.0, 18.0, never 20.0 beside 18)."""
    return value.quantize(HOURS)


@dataclass(frozen=True)
class YearStatus:
    """A teacher's year against the region's rule set: counted hours (after caps, in the
    region's own categories only) by category, whether the year's task is complete
    (完成年度学时), and the recorded hours above caps. Recorded hours of other categories are
    in `recorded_by_category` but never in `counted_by_category`. Hours have one decimal."""

    teacher_id: uuid.UUID
    year: int
    region: str
    counted_by_category: dict[str, Decimal] = field(default_factory=dict)
    recorded_by_category: dict[str, Decimal] = field(default_factory=dict)
    counted_total: Decimal = Decimal(0)
    required_total: Decimal = Decimal(0)
    complete: bool = False
    last_entry_at: datetime | None = None

    @property
    def above_caps(self) -> dict[str, Decimal]:
        """Recorded hours above a counted category's cap (not those of uncounted ones)."""
        return {
            c: self.recorded_by_category[c] - counted
            for c, counted in self.counted_by_category.items()
            if self.recorded_by_category[c] > counted
        }


def _at(place: Sequence[str]) -> OrgPath:
    province_id, city_id, county_id, school_id = place
    return OrgPath(
        province_id=province_id, city_id=city_id, county_id=county_id, school_id=school_id
    )


def shanghai_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def _year_of(e: EntryIn, region: Region, today: date, *, strict: bool) -> int | None:
    """年度截止: the entry's year, moved to the next year or refused (None, or YearClosed
    when `strict`) when registration for its year has closed, by the region's rule."""
    year = e.year or shanghai_day(e.occurred_at).year
    if today <= region.deadline(year):
        return year
    if region.late_records == "next_year":
        return today.year
    if strict:
        raise YearClosed(
            f"{year}年度学分登记已于 {region.deadline(year)} 截止",
            f"Registration for {year} closed on {region.deadline(year)}",
            year=year,
        )
    log.warning("late credit refused", extra={"source": f"{e.source_kind}:{e.source_id}"})
    return None


async def post_entries(
    session: AsyncSession,
    entries: list[EntryIn],
    *,
    now: datetime | None = None,
    strict: bool = True,
    actor: str | None = None,
) -> int:
    """Append entries; a source already recorded is skipped. Returns how many were new.
    A closed year refuses (YearClosed when `strict`, else the entry is skipped) or moves the
    entry to the next year, by the region's rule.

    An entry is booked at the teacher's stored place (the read model, which transfers move)
    when credits knows the teacher, else at the org its event carries: an event sent before
    its producer saw a transfer names the old school, and must not book there."""
    if not entries:
        return 0
    today = shanghai_day(now or datetime.now(UTC))
    # Under the teachers' locks, so that a transfer (`follow.py`) is wholly before or after.
    await repo.lock_teachers(session, [e.teacher_id for e in entries])
    stored = await repo.places(session, list({e.teacher_id for e in entries}))
    rows = []
    for e in entries:
        place = stored.get(e.teacher_id)
        o = e.org if place is None else _at(place)
        region = regions().get(e.region or "") or region_for(o)
        year = _year_of(e, region, today, strict=strict)
        if year is None:
            continue
        rows.append(
            (
                uuid.uuid4(),
                e.teacher_id,
                year,
                region.code,
                region.category(e.category),
                e.hours,
                e.source_kind,
                e.source_id,
                e.description[:300],
                None,
                actor,
                o.province_id,
                o.city_id,
                o.county_id,
                o.school_id,
                e.occurred_at,
                e.project_id,
                e.course_key,
            )
        )
    if not rows:
        return 0
    columns = [list(c) for c in zip(*rows, strict=True)]
    return await _append(session, dict(zip(ENTRY_COLUMNS, columns, strict=True)), locked=True)


ENTRY_COLUMNS = (
    "id",
    "teacher_id",
    "year",
    "region",
    "category",
    "hours",
    "source_kind",
    "source_id",
    "description",
    "reason",
    "actor",
    "province_id",
    "city_id",
    "county_id",
    "school_id",
    "occurred_at",
    "project_id",
    "course_key",
)


async def _append(
    session: AsyncSession, cols: dict[str, list[Any]], *, locked: bool = False
) -> int:
    """Insert the entries, then move the sums they change: category totals, teacher-years
    and org totals, a few set-based statements whatever the batch's size. `locked`: the
    caller holds the teachers' locks already."""
    if not cols:
        return 0
    if not locked:
        await repo.lock_teachers(session, cols["teacher_id"])
    cols = await _once_per_course(session, cols)
    inserted = await repo.insert_entries(session, cols) if cols["id"] else []
    if not inserted:
        return 0
    batch = Batch.of(cols, None if len(inserted) == len(cols["id"]) else set(inserted))
    batch.apply_totals(await repo.add_totals(session, batch.totals_columns()))
    years = await repo.add_to_teacher_years(session, batch.year_columns())
    moves = org_moves(batch, years)
    await repo.set_complete(session, moves.flips)
    await repo.add_org_totals(session, moves.totals)
    await _record_tallies(session, moves.tallied)
    return len(inserted)


async def _record_tallies(session: AsyncSession, tallied: list[Tallied]) -> None:
    """One `credits.year_tallied` per teacher-year the batch changed (never one per entry), as
    it stands now, in the batch's transaction: one outbox statement per 5,000 events."""
    if not tallied:
        return
    now = datetime.now(UTC)
    events: list[Event] = [
        year_tallied(
            teacher_id=t.teacher_id,
            year=t.year,
            counted_hours=t.counted,
            complete=t.complete,
            place=t.org,
            at=now,
        )
        for t in tallied
    ]
    cols, _ = CREDITS_OUTBOX.columns(events, occurred_at=now)
    await CREDITS_OUTBOX.write(session, cols)


async def _once_per_course(
    session: AsyncSession, cols: dict[str, list[Any]]
) -> dict[str, list[Any]]:
    """The entries without those whose course has a live entry already (another completion
    of the same course, or this one replayed), nor a second one of a course in the batch.
    Under the teachers' locks, so the database's slot constraint is never what refuses."""
    wanted = [
        (t, p, k)
        for t, p, k in zip(cols["teacher_id"], cols["project_id"], cols["course_key"], strict=True)
        if k is not None
    ]
    if not wanted:
        return cols
    taken = await repo.taken_courses(session, wanted)
    keep = []
    for i, slot in enumerate(
        zip(cols["teacher_id"], cols["project_id"], cols["course_key"], strict=True)
    ):
        if slot[2] is None:
            keep.append(i)
        elif slot not in taken:
            taken.add(slot)
            keep.append(i)
        else:
            log.info("course credited already", extra={"source": cols["source_id"][i]})
    if len(keep) == len(cols["id"]):
        return cols
    return {name: [values[i] for i in keep] for name, values in cols.items()}


async def reverse(
    session: AsyncSession, *, entry: LedgerEntry, reason: str, actor: str | None = None
) -> bool:
    """冲正: a reversal entry cancels `entry` (once). False if it was reversed already."""
    if entry.source_kind == "reversal":
        raise NotReversible()
    region = regions()[entry.region]
    now = datetime.now(UTC)
    if shanghai_day(now) > region.deadline(entry.year):
        raise YearClosed(
            f"{entry.year}年度已截止，不能冲正",
            f"{entry.year} is closed; no reversal",
            year=entry.year,
        )
    cols: dict[str, list[Any]] = {
        "id": [uuid.uuid4()],
        "teacher_id": [entry.teacher_id],
        "year": [entry.year],
        "region": [entry.region],
        "category": [entry.category],
        "hours": [-entry.hours],
        "source_kind": ["reversal"],
        "source_id": [str(entry.id)],
        "description": [f"冲正：{entry.description}"[:300]],
        "reason": [reason[:500]],
        "actor": [actor],
        "province_id": [entry.province_id],
        "city_id": [entry.city_id],
        "county_id": [entry.county_id],
        "school_id": [entry.school_id],
        "occurred_at": [now],
        "project_id": [entry.project_id],
        "course_key": [None],  # a reversal takes no course slot: it frees the entry's
    }
    done = await _append(session, cols) == 1
    if done:
        from credits.certificates.service import recheck  # certificates import this module

        await recheck(session, teacher_id=entry.teacher_id, year=entry.year)
    return done


async def reverse_source(
    session: AsyncSession, *, teacher_id: uuid.UUID, source_kind: str, source_id: str, reason: str
) -> bool:
    """A revoked upstream fact (a voided completion, an unmet requirement) is reversed."""
    found = await repo.entry_by_source(
        session, teacher_id=teacher_id, source_kind=source_kind, source_id=source_id
    )
    if found is None:
        return False
    try:
        return await reverse(session, entry=found, reason=reason)
    except YearClosed:
        log.warning("reversal refused: year closed", extra={"entry": str(found.id)})
        return False


async def reverse_by_admin(
    session: AsyncSession,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    entry_id: uuid.UUID,
    reason: str,
) -> LedgerEntry:
    """A county admin or above corrects an entry of a teacher in its subtree: the teacher's
    stored place decides (the admins who read the ledger now), or, for a teacher the read model
    does not know, the place the entry was booked at. Out of scope is 404, like a wrong id."""
    actor.ensure_role(Role.county_admin, Role.city_admin, Role.province_admin)
    found = await repo.entry(session, entry_id)
    if found is None or found.teacher_id != teacher_id:
        raise EntryNotFound()
    known = await repo.teacher(session, teacher_id)
    place = (
        known.org_path
        if known is not None
        else [found.province_id, found.city_id, found.county_id, found.school_id]
    )
    if not actor.covers(place):
        raise EntryNotFound()
    if not await reverse(session, entry=found, reason=reason, actor=actor.user_id):
        raise AlreadyReversed()
    reversal = await repo.entry_by_source(
        session, teacher_id=teacher_id, source_kind="reversal", source_id=str(found.id)
    )
    assert reversal is not None
    await AUDIT.record(
        session,
        actor=actor,
        action="ledger.reverse",
        target_type="ledger_entry",
        target_id=str(found.id),
        target_org=[found.province_id, found.city_id, found.county_id, found.school_id],
        before={
            "teacher_id": found.teacher_id,
            "year": found.year,
            "category": found.category,
            "hours": found.hours,
            "source_kind": found.source_kind,
            "source_id": found.source_id,
        },
        after={"reversal_id": reversal.id, "hours": reversal.hours, "reason": reason},
    )
    return reversal


async def year_status(
    db: Db, *, teacher_id: uuid.UUID, year: int, as_of: date | None = None
) -> YearStatus:
    return (await year_statuses(db, teacher_id=teacher_id, years=[year], as_of=as_of))[year]


async def year_statuses(
    db: Db,
    *,
    teacher_id: uuid.UUID,
    years: Iterable[int] | None = None,
    as_of: date | None = None,
    ensure: Iterable[int] = (),
) -> dict[int, YearStatus]:
    """`statuses_of` the teacher, read here."""
    known = await repo.teacher(db, teacher_id)
    return await statuses_of(
        db, teacher_id=teacher_id, known=known, years=years, as_of=as_of, ensure=ensure
    )


async def statuses_of(
    db: Db,
    *,
    teacher_id: uuid.UUID,
    known: Teacher | None,
    years: Iterable[int] | None = None,
    as_of: date | None = None,
    ensure: Iterable[int] = (),
) -> dict[int, YearStatus]:
    """The status of each of `years` (of every year the ledger has, if None, and of each year
    of `ensure` in any case), from two statements whatever the number of years: a balance
    reads its whole cycle at once. A year of `ensure` without entries is a status of nothing
    recorded, made here: nothing is written. Through the request's session (inside a write's
    transaction) or the reader (a balance, a transcript)."""
    wanted = None if years is None else sorted(set(years))
    if as_of is None:
        found = [
            (t.year, t.category, t.region, t.hours)
            for t in await repo.totals(db, teacher_id=teacher_id, years=wanted)
        ]
    else:
        end = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=SHANGHAI)
        found = await repo.totals_as_of(db, teacher_id=teacher_id, years=wanted, as_of=end)
    by_year: dict[int, list[tuple[str, str, Decimal]]] = {y: [] for y in [*(wanted or ()), *ensure]}
    for y, category, region_code, hours in found:
        by_year.setdefault(y, []).append((category, region_code, hours))
    return {y: _status(teacher_id, y, rows, known) for y, rows in sorted(by_year.items())}


def _status(
    teacher_id: uuid.UUID, year: int, rows: list[tuple[str, str, Decimal]], known: Teacher | None
) -> YearStatus:
    region = (
        regions()[rows[0][1]]
        if rows
        else region_for(_at(known.org_path))
        if known
        else regions()["shandong"]
    )
    recorded = {c: as_hours(Decimal(h)) for c, _, h in rows}
    # Only the region's own categories count toward its requirement (as `tally` counts them
    # in teacher-years and org totals); a category without a cap counts in full only if it is
    # the region's.
    counted = {
        c: as_hours(counted_hours(h, region.cap(c)))
        for c, h in recorded.items()
        if region.counts(c)
    }
    total = as_hours(sum(counted.values(), Decimal(0)))
    return YearStatus(
        teacher_id=teacher_id,
        year=year,
        region=region.code,
        counted_by_category=counted,
        recorded_by_category=recorded,
        counted_total=total,
        required_total=as_hours(region.annual_required),
        complete=bool(rows) and total >= region.annual_required,
    )


def decode_entry_cursor(raw: str | int | None) -> tuple[datetime, uuid.UUID] | None:
    if raw is None:
        return None
    try:
        at, _, ident = str(raw).partition("|")
        moment = datetime.fromisoformat(at)
        if not in_range(moment):  # a forged cursor; PostgreSQL could not even compare it
            raise ValueError(at)
        return moment, uuid.UUID(ident)
    except ValueError as exc:
        from yanxiu.kit.pagination import InvalidCursor

        raise InvalidCursor() from exc
