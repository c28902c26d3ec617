"""ADL's LRS conformance test suite (adlnet/lrs-conformance-test-suite), fetched and installed for
the conformance test, never committed: cloned at a pinned commit into the data dir (from
$XAPI_CONFORMANCE_SUITE, a local mirror next to the repository, or GitHub, in that order), its
npm packages installed from the registry, then run with Node.js against an endpoint; the result
is read from the JSON log the runner writes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from yanxiu.devstack.paths import data_dir, repo_root

COMMIT = "2ec25f2eb8ccfcb7cb63ec2679dbd965f9f6ffdc"
UPSTREAM = "https://github.com/adlnet/lrs-conformance-test-suite.git"
MIRROR = repo_root().parent / ".mirror" / "adlnet+lrs-conformance-test-suite" / "repo"
RUN_TIMEOUT = 900


class SuiteUnavailable(RuntimeError):
    """The suite could not be fetched or installed here (no source reachable, no Node.js)."""


def sources() -> list[str]:
    given = os.environ.get("XAPI_CONFORMANCE_SUITE")
    found = [given] if given else []
    if MIRROR.is_dir():
        found.append(str(MIRROR))
    return [*found, UPSTREAM]


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def suite_dir() -> Path:
    """The suite at COMMIT with its packages installed (done once per data dir)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SuiteUnavailable("Node.js and npm are needed to run the suite")
    target = data_dir() / "conformance" / "lrs-conformance-test-suite"
    current = _git("rev-parse", "HEAD", cwd=target).stdout.strip() if target.is_dir() else ""
    if current != COMMIT:
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        tried = []
        for source in sources():
            cloned = _git("clone", "--quiet", source, str(target))
            if (
                cloned.returncode == 0
                and _git("checkout", "-q", COMMIT, cwd=target).returncode == 0
            ):
                break
            tried.append(f"{source}: {(cloned.stderr or '').strip()[:200]}")
            shutil.rmtree(target, ignore_errors=True)
        else:
            raise SuiteUnavailable("could not fetch the suite: " + "; ".join(tried))
    if not (target / "node_modules").is_dir():
        installed = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if installed.returncode != 0:
            shutil.rmtree(target / "node_modules", ignore_errors=True)
            raise SuiteUnavailable(f"npm install failed: {installed.stderr.strip()[-400:]}")
    return target


@dataclass(frozen=True)
class SuiteResult:
    total: int
    passed: int
    failed: frozenset[str]  # "describe > … > it" titles
    log: Path


async def run(
    suite: Path, *, endpoint: str, key: str, secret: str, version: str = "1.0.3"
) -> SuiteResult:
    """A battery (1.0.3 by default) against `endpoint` with HTTP Basic; logs only failing
    tests (-z)."""
    logs = suite / "logs"
    before = set(logs.glob("*.log")) if logs.is_dir() else set()
    proc = await asyncio.create_subprocess_exec(
        "node",
        "bin/console_runner.js",
        "-x",
        version,
        "-e",
        endpoint,
        "-a",
        "-u",
        key,
        "-p",
        secret,
        "-z",
        cwd=suite,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    text = output.decode("utf-8", "replace")
    new = sorted(set(logs.glob("*.log")) - before, key=lambda p: p.stat().st_mtime)
    if not new:
        raise RuntimeError(f"the suite wrote no log:\n{text[-2000:]}")
    summary = [json.loads(line) for line in text.splitlines() if line.startswith('{"total"')]
    data = json.loads(new[-1].read_text(encoding="utf-8"))
    failed: set[str] = set()

    def walk(node: dict[str, object], path: list[str]) -> None:
        children = node.get("tests") or []
        assert isinstance(children, list)
        title = str(node.get("title", ""))
        if children:
            for child in children:
                walk(child, [*path, title])
        elif node.get("status") == "failed":
            failed.add(" > ".join([p for p in path[1:] if p] + [title]))

    if "log" in data:  # with -z the runner logs failing tests only: none, no log at all
        walk(data["log"], [])
    last = summary[-1] if summary else {"total": 0, "passed": 0}
    return SuiteResult(int(last["total"]), int(last["passed"]), frozenset(failed), new[-1])
