"""Records follow the teacher (调动, issue #14 point 2): when enrollment moves a teacher, credits
moves what it reads by place. Nothing commits here.

- The teacher read model: who reads the ledger and balances, and where certificates are issued.
- The teacher's years from the year of the transfer on (Asia/Shanghai): their place and their
  share of the school, county and city totals (`org_year_totals`: teachers with credit,
  complete, counted hours) go from the old orgs to the new, so the new school's report counts
  the teacher and the old one no longer does. Earlier years stay where they were earned: they
  are what the old school's paper records of those years say.
- The teacher's certificates: read and listed by the admins of the teacher's school now, as the
  ledger is (their org columns decide only that; the PDF prints name, year and hours).
- For the dashboards, each moved year again as `credits.year_tallied` (its hours unchanged) and
  each valid certificate again as `credits.certificate_issued`, at the new place.

Ledger entries are never edited: each keeps the place it was booked at. A departure (离职)
changes nothing here: enrollment keeps the departed record at the school, the ledger is the
teacher's for life, and a take-in from the departed pool arrives as a transfer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from credits.events import CREDITS_OUTBOX, year_tallied
from credits.ledger import repository as repo
from credits.ledger.tally import OrgMoves
from yanxiu.contracts.credits import CertificateIssued
from yanxiu.contracts.envelope import Event, OrgPath

_ELSEWHERE = (
    "(province_id, city_id, county_id, school_id) IS DISTINCT FROM "
    "(:province_id, :city_id, :county_id, :school_id)"
)
_YEARS_ELSEWHERE = text(
    "SELECT year, province_id, city_id, county_id, school_id, counted_hours, complete "
    "FROM credits.teacher_years WHERE teacher_id = :t AND year >= :since AND "
    f"{_ELSEWHERE} ORDER BY year FOR UPDATE"
)
_PLACE_YEARS = text(
    "UPDATE credits.teacher_years SET province_id = :province_id, city_id = :city_id, "
    "county_id = :county_id, school_id = :school_id, updated_at = now() "
    f"WHERE teacher_id = :t AND year >= :since AND {_ELSEWHERE}"
)
_PLACE_TEACHER = text(
    "UPDATE credits.teachers SET province_id = :province_id, city_id = :city_id, "
    "county_id = :county_id, school_id = :school_id, updated_at = now() "
    f"WHERE teacher_id = :t AND {_ELSEWHERE}"
)
_PLACE_CERTIFICATES = text(
    "UPDATE credits.certificates SET province_id = :province_id, city_id = :city_id, "
    "county_id = :county_id, school_id = :school_id "
    f"WHERE teacher_id = :t AND {_ELSEWHERE} "
    "RETURNING id, year, issued_at, status = 'valid' AS valid"
)


async def follow_teacher(
    session: AsyncSession, *, teacher_id: uuid.UUID, org: OrgPath, since_year: int
) -> int:
    """The teacher is at `org` now (moved during `since_year`). Returns how many of the
    teacher's years moved (0 for a replay: only what is elsewhere moves)."""
    await repo.lock_teachers(session, [teacher_id])  # as a ledger batch does: one at a time
    params = {"t": teacher_id, "since": since_year, **org.model_dump()}
    await session.execute(_PLACE_TEACHER, params)
    certificates = (await session.execute(_PLACE_CERTIFICATES, params)).all()
    years = (await session.execute(_YEARS_ELSEWHERE, params)).all()
    moves = OrgMoves()
    to = org.as_list()
    for year, province, city, county, school, hours, complete in years:
        done = 1 if complete else 0
        moves.add(year, (province, city, county, school), -1, -done, -Decimal(hours))
        moves.add(year, to, 1, done, Decimal(hours))
    await repo.add_org_totals(session, moves.totals)
    if years:
        await session.execute(_PLACE_YEARS, params)
    await CREDITS_OUTBOX.add(session, *_moved(teacher_id, org, years, certificates))
    return len(years)


def _moved(
    teacher_id: uuid.UUID, org: OrgPath, years: Sequence[Any], certificates: Sequence[Any]
) -> list[Event]:
    """What moved, re-told at the new place (snapshots: harmless when a replay re-sends them)."""
    now = datetime.now(UTC)
    told: list[Event] = [
        CertificateIssued(
            certificate_id=cert_id, teacher_id=teacher_id, year=year, org=org, issued_at=at
        )
        for cert_id, year, at, valid in certificates
        if valid
    ]
    told.extend(
        year_tallied(
            teacher_id=teacher_id,
            year=year,
            counted_hours=hours,
            complete=complete,
            place=org.as_list(),
            at=now,
        )
        for year, *_, hours, complete in years
    )
    return told
