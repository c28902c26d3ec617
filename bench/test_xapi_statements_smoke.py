"""The LRS benchmark still runs end to end at a tiny size: statements seeded with their index
keys, every filtered read and both writes answered 2xx beside the floor (correctness only;
figures come from running the module)."""

from __future__ import annotations

from bench import xapi_statements
from bench.smoke import NEEDS_WRK_AND_FLOOR

pytestmark = NEEDS_WRK_AND_FLOOR


async def test_every_row_is_measured_with_2xx_answers_only() -> None:
    results = await xapi_statements.run(2000, 2, 10)

    assert [r["route"] for r in results["rows"]][:2] == ["GET ?agent=", "GET ?activity="]
    assert len(results["rows"]) == 7
    assert not [(r["route"], r["problems"]) for r in results["rows"] if not r["clean"]]
