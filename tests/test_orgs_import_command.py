"""`yanxiu orgs import FILE` (a platform operator adds a region's org tree): the command imports
a file once however often it runs, writes nothing on --dry-run, and refuses a malformed file
with the line of every problem and a failing exit status."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import asyncpg

from yanxiu.devstack.paths import repo_root
from yanxiu.kit.db import plain_url

TREE = {
    "source": "中华人民共和国县以上行政区划代码: 浙江省（节选）",
    "province": {"id": "330000", "name": "浙江省"},
    "cities": [
        {
            "id": "330100",
            "name": "杭州市",
            "counties": [
                {"id": "330102", "name": "上城区", "kind": "district"},
                {"id": "330182", "name": "建德市", "kind": "county_city"},
            ],
        }
    ],
}


async def yanxiu(database_url: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stack.cli",
        *args,
        cwd=repo_root(),
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def zhejiang_orgs(database_url: str) -> int:
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM enrollment.orgs WHERE province_id = '330000'")
        )
    finally:
        await conn.close()


async def test_orgs_import_adds_a_region_once_and_dry_run_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "zhejiang_orgs.json"
    path.write_text(json.dumps(TREE, ensure_ascii=False, indent=1), encoding="utf-8")
    code, out, err = await yanxiu(database_url, "orgs", "import", str(path), "--dry-run")
    assert (code, err) == (0, ""), err
    assert "dry run" in out and await zhejiang_orgs(database_url) == 0
    code, out, _ = await yanxiu(database_url, "orgs", "import", str(path))
    assert code == 0 and "created province 1, cities 1, counties 2" in out
    code, out, _ = await yanxiu(database_url, "orgs", "import", str(path))
    assert code == 0 and "created province 0, cities 0, counties 0; 4 unchanged" in out
    assert await zhejiang_orgs(database_url) == 4


async def test_orgs_import_refuses_a_malformed_file_line_by_line(
    database_url: str, tmp_path: Path
) -> None:
    broken = json.loads(json.dumps(TREE))
    broken["cities"][0]["counties"][1]["id"] = "3301820"
    broken["cities"][0]["counties"][0]["kind"] = "区"
    path = tmp_path / "zhejiang_orgs.json"
    path.write_text(json.dumps(broken, ensure_ascii=False, indent=1), encoding="utf-8")
    code, out, err = await yanxiu(database_url, "orgs", "import", str(path))
    assert code == 1 and out == ""
    assert "第15行 $.cities[0].counties[0].kind" in err
    assert "第18行 $.cities[0].counties[1].id" in err
    assert "nothing was imported" in err
    assert await zhejiang_orgs(database_url) == 0
