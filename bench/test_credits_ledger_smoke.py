"""The credits ledger benchmark still runs end to end at a tiny size (correctness only; figures
come from `make bench`)."""

from __future__ import annotations

from bench.credits_ledger import bench


async def test_ledger_bench_records_every_event_once_even_after_a_replay() -> None:
    result = await bench(entries=2000, per_teacher=10, replicas=1)
    assert result["after_replay"] == result["entries"] == 2000
    assert result["rate"] > 0 and result["city_teachers"] == 200
    assert 0 < result["balance_p50"] <= result["balance_p99"]
