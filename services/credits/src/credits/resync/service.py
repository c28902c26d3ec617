"""Writes snapshot events into credits' outbox; the running service's relay publishes them.

- every teacher-year as `YearTallied` (counted hours and completeness, at the year's place),
  stamped with when it was last tallied or moved;
- every certificate: a valid one as `CertificateIssued`, a revoked one as `CertificateRevoked`
  (a dashboard that missed the revocation stops counting it);
- every offline record as `OfflineRecordChanged` in its current status.

Each is a snapshot consumers already take as an upsert, so a re-sent one is a no-op where the
read model is whole and a repair where it is not. Pages are committed one by one (`resync` is
the boundary that commits, as the consumer wrapper is for handlers): a million teacher-years
never sit in one transaction, and a resync stopped half-way has sent what it committed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from credits.certificates.service import VALID
from credits.events import (
    CREDITS_OUTBOX,
    certificate_issued,
    certificate_revoked,
    record_changed,
    year_tallied,
)
from credits.resync import repository as repo
from yanxiu.contracts.envelope import Event
from yanxiu.kit.outbox import Outbox

PAGE = 1000


@dataclass
class Resent:
    """How many events of each kind a resync wrote."""

    year_tallied: int = 0
    certificate_issued: int = 0
    certificate_revoked: int = 0
    offline_record_changed: int = 0


async def resend_years(
    session: AsyncSession,
    *,
    outbox: Outbox,
    after: tuple[uuid.UUID, int] | None,
    since: datetime | None,
    limit: int,
    done: Resent,
) -> tuple[uuid.UUID, int] | None:
    """One page, counted in `done`; returns the last key sent (None when none was left)."""
    years = await repo.teacher_years_page(session, after=after, since=since, limit=limit)
    await _write(
        session,
        outbox,
        [
            year_tallied(
                teacher_id=y.teacher_id,
                year=y.year,
                counted_hours=y.counted_hours,
                complete=y.complete,
                place=(y.province_id, y.city_id, y.county_id, y.school_id),
                at=y.updated_at,
            )
            for y in years
        ],
    )
    done.year_tallied += len(years)
    return (years[-1].teacher_id, years[-1].year) if years else None


async def resend_certificates(
    session: AsyncSession,
    *,
    outbox: Outbox,
    after: uuid.UUID | None,
    since: datetime | None,
    limit: int,
    done: Resent,
) -> uuid.UUID | None:
    certs = await repo.certificates_page(session, after=after, since=since, limit=limit)
    valid = [c for c in certs if c.status == VALID]
    revoked = [c for c in certs if c.status != VALID]
    await _write(
        session,
        outbox,
        [*(certificate_issued(c) for c in valid), *(certificate_revoked(c) for c in revoked)],
    )
    done.certificate_issued += len(valid)
    done.certificate_revoked += len(revoked)
    return certs[-1].id if certs else None


async def resend_records(
    session: AsyncSession,
    *,
    outbox: Outbox,
    after: uuid.UUID | None,
    since: datetime | None,
    limit: int,
    done: Resent,
) -> uuid.UUID | None:
    records = await repo.records_page(session, after=after, since=since, limit=limit)
    await _write(session, outbox, [record_changed(r) for r in records])
    done.offline_record_changed += len(records)
    return records[-1].id if records else None


async def _write(session: AsyncSession, outbox: Outbox, events: list[Event]) -> None:
    if events:
        cols, _ = outbox.columns(events)
        await outbox.write(session, cols)


async def resync(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime | None = None,
    page: int = PAGE,
    outbox: Outbox = CREDITS_OUTBOX,
) -> Resent:
    """Every teacher-year, then every certificate, then every offline record (with `since`:
    those changed since then), a committed transaction per page."""
    done = Resent()
    resend: Callable[..., Awaitable[Any]]
    for resend in (resend_years, resend_certificates, resend_records):
        after: Any = None
        while True:
            async with sessions() as session, session.begin():
                after = await resend(
                    session, outbox=outbox, after=after, since=since, limit=page, done=done
                )
            if after is None:
                break
    return done
