"""The benchmarks still run end to end (correctness only; figures come from `make bench`)."""

from __future__ import annotations

from bench.propagation import bench


async def test_propagation_bench_delivers_every_event() -> None:
    result = await bench(events=20, rate=100, burst=300)
    assert result["events"] == 20 and result["burst_events_per_s"] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
