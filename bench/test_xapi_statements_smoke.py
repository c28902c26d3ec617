"""The LRS benchmark still runs end to end at a tiny size: statements seeded with their index
keys, every filtered read and both writes answered 2xx beside the floor (correctness only;
figures come from running the module)."""

from __future__ import annotations

import shutil

import pytest

from bench import xapi_statements
from bench.platform import DEFAULT_FLOOR_DIR

pytestmark = [
    pytest.mark.skipif(
        shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
    ),
    pytest.mark.skipif(
        not (DEFAULT_FLOOR_DIR / "floor_app.py").is_file(),
        reason=f"the floor app is not there ({DEFAULT_FLOOR_DIR / 'floor_app.py'})",
    ),
]


async def test_every_row_is_measured_with_2xx_answers_only() -> None:
    results = await xapi_statements.run(2000, 2, 10)

    assert [r["route"] for r in results["rows"]][:2] == ["GET ?agent=", "GET ?activity="]
    assert len(results["rows"]) == 7
    assert not [(r["route"], r["problems"]) for r in results["rows"] if not r["clean"]]
