"""Generated input never breaks the platform: schemathesis, bounded, over the merged OpenAPI
through the gateway, as the province's admin and as a teacher; no answer is a 5xx."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.province.world import World

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# Routes the teacher is the caller of; the province's token covers the rest.
TEACHER_ROUTES = (
    r"^/api/v1/(learning/(selections|progress|assessments|plans)"
    r"|lessons/(lessons|reviews|assignments))"
)


async def fuzz(base: str, token: str, report: Path, *extra: str) -> tuple[int, str]:
    cli = Path(sys.executable).with_name("schemathesis")
    proc = await asyncio.create_subprocess_exec(
        str(cli),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "20261202",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")


@pytest.mark.parametrize("actor", ["province", "teacher_self"])
async def test_generated_requests_never_get_a_server_error(
    world: World, actor: str, tmp_path: Path
) -> None:
    # Signing out would end the run's own session (everything after it a 401).
    extra = ("--exclude-path", "/api/v1/auth/logout")
    if actor == "teacher_self":
        extra = (*extra, "--include-path-regex", TEACHER_ROUTES)
    code, output = await fuzz(
        str(world.client.base_url).rstrip("/"),
        world.tokens[actor],
        tmp_path / f"schemathesis-{actor}.xml",
        *extra,
    )
    print(output[-3000:])
    assert code == 0, output[-6000:]
