"""Lapsed sign-in sessions and refresh tokens deleted by the kit's scheduled housekeeping
(yanxiu.kit.housekeeping), a day after they lapsed: a lapsed token is refused as unknown
anyway, its row only costs space. Both tables have an index on `expires_at`. Refresh tokens go
first (a session's delete would cascade to them, in one larger transaction)."""

from __future__ import annotations

from datetime import timedelta

from yanxiu.kit.housekeeping import IndexedPrune, Job

GRACE = timedelta(days=1)


def lapsed_session_jobs() -> list[Job]:
    return [
        IndexedPrune(
            name=name,
            table=f"gateway.{name}",
            retention=GRACE,
            condition="expires_at < :cutoff",
        )
        for name in ("refresh_tokens", "sessions")
    ]
