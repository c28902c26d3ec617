"""The heartbeat log (心跳日志) kept bounded: rows older than LEARNING_PROGRESS_LOG_RETENTION_DAYS
go, by the kit's scheduled housekeeping (yanxiu.kit.housekeeping).

The log is evidence (what was claimed, what was refused and why); the progress it proved lives
on in `course_progress`, which is never pruned. Rows are deleted oldest first along the primary
key, which grows with `received_at`: no index is added, so the heartbeat path writes exactly
what it wrote before."""

from __future__ import annotations

from datetime import timedelta

from learning.config import Settings
from yanxiu.kit.housekeeping import Job, KeysetPrune


def heartbeat_log_jobs(settings: Settings) -> list[Job]:
    return [
        KeysetPrune(
            name="heartbeats",
            table="learning.heartbeats",
            retention=timedelta(days=settings.progress_log_retention_days),
            order_column="received_at",
            condition="t.received_at < :cutoff",
        )
    ]
