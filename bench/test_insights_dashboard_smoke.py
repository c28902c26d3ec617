"""The dashboards benchmark still runs end to end at a tiny size: a fresh insights database
seeded in SQL, the insights service and the floor come up, the dashboards show what the seeded
facts say (bench.insights_dashboard.checks), and one second of every route and of the floor
beside it is answered 2xx throughout, with a row and a verdict each in the report (correctness
only; figures come from running the module)."""

from __future__ import annotations

import shutil

import pytest

from bench import insights_dashboard

# bench.smoke's two conditions, without importing it (it imports bench.platform, hence every
# service's seeding; this benchmark runs insights alone): skipped, saying why, without wrk or
# without the floor app.
pytestmark = [
    pytest.mark.skipif(
        shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
    ),
    pytest.mark.skipif(
        not (insights_dashboard.DEFAULT_FLOOR_DIR / "floor_app.py").is_file(),
        reason=f"the floor app is not there ({insights_dashboard.DEFAULT_FLOOR_DIR})",
    ),
]


async def test_every_dashboard_route_answers_2xx_beside_the_floor() -> None:
    async with insights_dashboard.stack(2000) as s:
        result = await insights_dashboard.run(s, seconds=1, connections=4, alone=10)
        expected = [r.name for r in insights_dashboard.routes(s)]

    assert result["checks"] == []
    assert [row["route"] for row in result["rows"]] == expected
    for row in result["rows"]:
        for side in ("alone", "load", "floor"):
            summary = row[side]
            assert summary["requests"] > 0, (row["route"], side, summary)
            assert summary["non2xx"] == 0 and summary["socket_errors"] == 0, (row["route"], side)
            assert summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"], summary
        assert row["ratio"] > 0 and row["alone_ms"] > 0 and row["statements"] > 0
    sizes = result["sizes"]
    assert sizes["standings"]["rows"] == 2000 and sizes["tallies"]["rows"] > 0
    report = insights_dashboard.report(result)
    assert all(any(row["label"] in line for line in report) for row in result["rows"])
    assert sum("p95" in line and ("OK" in line or "MISSED" in line) for line in report) >= len(
        expected
    )
