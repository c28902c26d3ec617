"""The enrollment benchmarks still run end to end at tiny sizes (correctness only; figures come
from `make bench`)."""

from __future__ import annotations

from bench.enrollment_import import bench as import_bench
from bench.enrollment_pages import bench as pages_bench


async def test_import_bench_imports_every_generated_row() -> None:
    result = await import_bench(rows=300)
    assert result["rows"] == 300 and result["rows_per_s"] > 0


async def test_pages_bench_walks_every_registration_of_the_city() -> None:
    result = await pages_bench(teachers=3000, limit=100)
    assert result["city_rows"] > 100 and result["pages"] >= 2
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
