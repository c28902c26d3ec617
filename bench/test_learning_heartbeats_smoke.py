"""The heartbeat benchmark still runs end to end at a tiny size against the shared floor app
(correctness only: every answered heartbeat and floor write is durable, the summary prints;
figures come from running the module)."""

from __future__ import annotations

import pytest

from bench.learning_heartbeats import DEFAULT_FLOOR_DIR, bench, report


@pytest.mark.skipif(
    not (DEFAULT_FLOOR_DIR / "floor_app.py").is_file(),
    reason=f"the shared floor app is not at {DEFAULT_FLOOR_DIR} (the brief's floor/ directory)",
)
async def test_heartbeat_bench_measures_against_the_floor_app_and_loses_nothing() -> None:
    r = await bench(
        teachers=40, concurrency=4, seconds=1.0, rate=40, rate_seconds=1.0, rate_connections=8
    )
    assert r["heartbeat"]["statuses"].get(200, 0) > 0
    assert r["heartbeat_direct"]["statuses"].get(200, 0) > 0
    assert set(r["floor"]["statuses"]) == {204} and set(r["fixed_rate_floor"]["statuses"]) == {204}
    assert r["durable"], r
    assert r["floor_stored"] >= r["floor_answered"] > 0
    assert 0 < r["heartbeat"]["p50_ms"] <= r["heartbeat"]["p99_ms"]
    assert r["ratio"] > 0 and len(r["round_ratios"]) == 3
    assert any("write floor" in line for line in report(r))


async def test_heartbeat_log_pruning_bench_runs_and_prunes_the_backlog() -> None:
    """A tiny run of bench/heartbeat_log_pruning.py: the backlog goes while heartbeats keep
    being answered."""
    from bench.heartbeat_log_pruning import bench as pruning_bench

    r = await pruning_bench(
        backlog=20_000, rate=100.0, seconds=1.0, batch=1000, teachers=20, rounds=1
    )
    (only,) = r["rounds"]
    assert only["deleted"] == 20_000 and only["old_rows_left"] == 0
    for run in only["runs"].values():
        assert set(run.statuses) == {200}
