"""The allocation benchmark still runs end to end at a tiny size (correctness only; figures come
from `make bench`)."""

from __future__ import annotations

from bench.lessons_allocation import bench


async def test_allocation_bench_serves_everyone_balanced_and_never_their_own_school() -> None:
    result = await bench(teachers=3000, lessons=600)
    assert result["assignments"] == 9000 and result["per_reviewer"] == {3: 3000}
    assert result["spread"] <= 1 and result["own_or_own_school"] == 0
    assert result["duplicates"] == 0
