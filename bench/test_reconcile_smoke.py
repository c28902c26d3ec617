"""The reconciliation benchmark still runs end to end at a tiny size, and finds exactly the
drift it made (correctness only; figures come from `python -m bench.reconcile`)."""

from __future__ import annotations

from bench.reconcile import bench


async def test_reconcile_bench_reports_exactly_the_drift_it_made() -> None:
    result = await bench(teachers=2000, drift=40)
    assert result["province_in_sync"]["in_sync"]
    assert result["province_drifted"]["drift"] == {
        "learning": 30,
        "lessons": 0,
        "insights": 0,
        "credits": 10,
    }
    assert not result["county_drifted"]["in_sync"]
