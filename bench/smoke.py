"""What the benchmarks' smoke tests need from the machine: wrk, the load generator, and the
brief's floor app next to the repository. Without either, such a test is skipped, saying why."""

from __future__ import annotations

import shutil

import pytest

from bench.platform import DEFAULT_FLOOR_DIR

NEEDS_WRK_AND_FLOOR = [
    pytest.mark.skipif(
        shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
    ),
    pytest.mark.skipif(
        not (DEFAULT_FLOOR_DIR / "floor_app.py").is_file(),
        reason=f"the floor app is not there ({DEFAULT_FLOOR_DIR / 'floor_app.py'})",
    ),
]
