"""The heartbeat benchmark still runs end to end at a tiny size (correctness only: every
answered heartbeat is durable; figures come from running the module)."""

from __future__ import annotations

from bench.learning_heartbeats import bench


async def test_heartbeat_bench_answers_only_durable_heartbeats() -> None:
    r = await bench(
        teachers=40, concurrency=4, seconds=1.0, rate=40, rate_seconds=1.0, rate_connections=8
    )
    assert r["heartbeat"]["statuses"].get(200, 0) > 0 and r["floor"]["statuses"].get(200, 0) > 0
    assert r["durable"], r
    assert 0 < r["heartbeat"]["p50_ms"] <= r["heartbeat"]["p99_ms"]


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
