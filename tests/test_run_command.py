"""`yanxiu run` (behind `make run`): every process ready within 30 s, clean stop on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx

from yanxiu.devstack.broker import port_open
from yanxiu.devstack.paths import repo_root

OFFSET = 23000


async def test_run_answers_ready_within_30_seconds_and_stops_cleanly_on_ctrl_c(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "KAFKA_TOPIC_PREFIX": f"run{os.getpid()}.",
        "YANXIU_PORT_OFFSET": str(OFFSET),
        "YANXIU_DATA": str(tmp_path),
        "KAFKA_FETCH_MAX_WAIT_MS": "10",
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
    }
    for key in ("JWT_PUBLIC_KEY_FILE", "GATEWAY_JWT_PRIVATE_KEY_FILE", "ENROLLMENT_PII_KEY"):
        env.pop(key, None)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stack.cli",
        "run",
        cwd=repo_root(),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    gateway = f"http://127.0.0.1:{8000 + OFFSET}"
    try:
        ready = None
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() - started < 30 and proc.returncode is None:
                try:
                    r = await client.get(f"{gateway}/readyz")
                    if r.status_code == 200:
                        ready = r.json()
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        assert ready is not None, "gateway /readyz did not answer 200 within 30 s"
        assert set(ready["checks"]) >= {"enrollment", "learning", "credits", "lessons"}
        assert all(v == "ok" for v in ready["checks"].values())
        # Demo data is loaded next, its logins saved outside the repository.
        deadline = time.monotonic() + 20
        while not (tmp_path / "demo-accounts.txt").exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert "province_admin" in (tmp_path / "demo-accounts.txt").read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "stopped" in text
    for port in (8000, 8101, 8102, 8103, 8104):
        assert not port_open("127.0.0.1", port + OFFSET), f"port {port + OFFSET} still open"
