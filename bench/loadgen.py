"""wrk as the one load generator of the side-by-side benchmarks (bench.api_paths,
bench.deadline_day): the floor and the platform's routes are driven by the same program, the
same Lua (bench/wrk/*.lua) and the same connection counts.

Every script ends with bench/wrk/report.lua's `done()`, which prints one JSON line: latency
percentiles in µs, requests, socket errors, non-2xx answers, how many requests the script
generated (write pools advance by it) and the first non-2xx answer. A "load" run is wrk with
-t1 -cN -dS; an "alone" run is -t1 -c1 stopped after N answers (the median of N sequential
requests on one keep-alive connection): the script says when, and wrk is interrupted then
(wrk itself only stops at the end of -d)."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().with_name("wrk")
ALONE_CAP_SECONDS = 60  # an alone run ends after its N answers, or after this
WRK_TIMEOUT = "30s"  # a request slower than this counts as a timeout (exports take seconds)


class WrkMissing(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "wrk is not installed: it is the load generator of these benchmarks, from Debian's "
            "packages (apt-get install wrk)"
        )


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing()
    return found


def require_wrk() -> None:
    """For the command lines: without wrk, say so and exit 2."""
    try:
        wrk_binary()
    except WrkMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


@dataclass(frozen=True)
class Request:
    """One line of a request file (bench/wrk/lines.lua)."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def line(self) -> str:
        headers = "|".join(f"{k}: {v}" for k, v in self.headers.items())
        for part in (self.method, self.path, headers, self.body):
            if "\t" in part or "\n" in part:
                raise ValueError(f"a request file field holds a tab or newline: {part[:60]!r}")
        return f"{self.method}\t{self.path}\t{headers}\t{self.body}\n"


def write_requests(path: Path, requests: list[Request]) -> Path:
    if not requests:
        raise ValueError(f"no requests for {path.name}")
    path.write_text("".join(r.line() for r in requests), encoding="utf-8")
    return path


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Result:
    """What report.lua's done() printed, with the run's shape."""

    connections: int
    requests: int
    seconds: float
    latency_us: dict[str, float]
    statuses: dict[str, int]
    non2xx: int
    errors: dict[str, int]
    items: int
    sample: str

    @classmethod
    def parse(cls, raw: dict[str, Any], connections: int) -> Result:
        return cls(
            connections=connections,
            requests=int(raw["requests"]),
            seconds=raw["duration_us"] / 1e6,
            latency_us={k: float(v) for k, v in raw["latency_us"].items()},
            statuses={str(k): int(v) for k, v in raw["statuses"].items()},
            non2xx=int(raw["non2xx"]),
            errors={k: int(v) for k, v in raw["errors"].items()},
            items=int(raw["items"]),
            sample=str(raw["sample"]),
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return self.latency_us["p50"] / 1000

    @property
    def p99_ms(self) -> float:
        return self.latency_us["p99"] / 1000

    @property
    def socket_errors(self) -> int:
        """Connect, read, write errors and timeouts (`status` is wrk's count of ≥ 400)."""
        return sum(n for k, n in self.errors.items() if k != "status")

    @property
    def clean(self) -> bool:
        return self.requests > 0 and self.non2xx == 0 and self.socket_errors == 0

    def summary(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.latency_us["p90"] / 1000, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.latency_us["max"] / 1000, 3),
            "statuses": dict(sorted(self.statuses.items())),
            "non2xx": self.non2xx,
            "socket_errors": self.socket_errors,
            **({"first_non2xx": self.sample} if self.sample else {}),
        }


async def wrk(
    url: str,
    script: str,
    options: dict[str, str],
    *,
    connections: int,
    seconds: float,
    stop_after: int | None = None,
) -> Result:
    """One wrk process (one thread): `script` from bench/wrk with `options` as key=value
    arguments. With `stop_after`, one connection and N answers (see the module doc)."""
    args = dict(options)
    if stop_after is not None:
        connections, args["stop"] = 1, str(stop_after)
        duration = ALONE_CAP_SECONDS
    else:
        duration = max(1, math.ceil(seconds))
    proc = await asyncio.create_subprocess_exec(
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        script,
        url,
        "--",
        *(f"{k}={v}" for k, v in args.items()),
        cwd=SCRIPTS,  # the scripts dofile("report.lua") from here
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    found: dict[str, Any] | None = None
    try:
        async for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            if line.startswith("WRKSTOP") and proc.returncode is None:
                proc.send_signal(signal.SIGINT)  # wrk stops, then prints its report
            elif line.startswith("WRKJSON "):
                found = json.loads(line[len("WRKJSON ") :])
        err = (await proc.stderr.read()).decode("utf-8", "replace")
        code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if found is None:
        raise RuntimeError(f"wrk ({script}) printed no report (exit {code}): {err.strip()[:500]}")
    return Result.parse(found, connections)
