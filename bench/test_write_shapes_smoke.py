"""The write-shapes benchmark still runs at a tiny size, and every shape writes the same rows:
one record, its history row, its audit row and its outbox event per write (correctness only;
figures come from `python -m bench.write_shapes`)."""

from __future__ import annotations

from bench.write_shapes import SHAPES, arguments, run


async def test_every_shape_writes_the_record_its_history_audit_and_event_together() -> None:
    report = await run(arguments(["--seconds", "0.2", "--workers", "4", "--pool", "2"]))
    assert [r["shape"] for r in report["results"]] == list(SHAPES)
    assert all(r["writes_per_s"] > 0 for r in report["results"])
    rows = report["rows"]
    assert rows["records"] > 0
    assert rows["records"] == rows["changes"] == rows["audit"] == rows["outbox"]
