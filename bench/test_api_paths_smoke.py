"""The route benchmarks still run end to end at a tiny size: the platform and the floor come up
seeded (bench.platform), and one second of each route (bench.api_paths) and of the deadline
evening (bench.deadline_day) is answered 2xx throughout, with every row in the reports
(correctness only; figures come from running the modules)."""

from __future__ import annotations

from bench import api_paths, deadline_day
from bench.platform import platform
from bench.smoke import NEEDS_WRK_AND_FLOOR

pytestmark = NEEDS_WRK_AND_FLOOR


def failures(rows: list[dict[str, object]], sides: tuple[str, ...]) -> list[str]:
    bad = []
    for row in rows:
        for side in sides:
            s = row[side]
            assert isinstance(s, dict)
            if not s["requests"] or s["non2xx"] or s["socket_errors"]:
                bad.append(f"{row.get('route', row.get('class'))} {row.get('via', '')} {side}: {s}")
    return bad


async def test_every_route_and_class_answers_2xx_with_a_row_each() -> None:
    async with platform(200, sample=100) as p:
        paths = await api_paths.run(
            p,
            seconds=1,
            connections=4,
            alone_requests=20,
            rate=40,
            rate_seconds=1,
            rate_connections=8,
        )
        evening = await deadline_day.run(p, seconds=1, connections=8)
        expected = [(r.service, r.label) for r in api_paths.routes(p)]

    assert [(r["service"], r["route"], r["via"]) for r in paths["rows"]] == [
        (service, label, via) for service, label in expected for via in ("direct", "gateway")
    ]
    assert not failures(paths["rows"], ("alone", "load", "floor"))
    assert all(r["ratio"] > 0 and r["alone_ms"] > 0 for r in paths["rows"])
    steady = paths["fixed_rate"]
    for side in ("floor", "gateway"):
        assert set(steady[side]["statuses"]) <= {200, 204}, steady
    report = api_paths.report(paths)
    assert all(any(label in line for line in report) for _, label in expected)

    assert {r["class"] for r in evening["rows"]} == {
        "teachers send heartbeats",
        "teachers open their plan",
        "teachers read their credits",
        "admins page lists",
        "providers post completions",
        "admins export registrations",
        "teachers sign in",
    }
    assert not failures(evening["rows"], ("load", "floor"))
    assert len(deadline_day.report(evening)) > len(evening["rows"])
