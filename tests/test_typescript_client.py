"""A front-end's view of the contract: TypeScript types generated from docs/openapi.json by
openapi-typescript, and a small program calling a few operations through openapi-fetch, type-
check with tsc. The tools are the versions clients/typescript/package-lock.json pins, installed
by `npm ci` (its download cache kept in clients/typescript/.npm-cache, so that a machine that
has run it once needs no network). Node 20+ with npm must be installed: without it this test
fails, it does not skip."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.openapi import DOCUMENT
from yanxiu.devstack.paths import repo_root

CLIENT = repo_root() / "clients" / "typescript"


def run(*command: str, cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


def test_the_typescript_client_generates_from_the_document_and_type_checks(
    tmp_path: Path,
) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed: install Node.js 20+ with npm to check the TS client")
    work = tmp_path / "typescript"
    shutil.copytree(
        CLIENT, work, ignore=shutil.ignore_patterns("node_modules", ".npm-cache", "schema.d.ts")
    )
    cache = CLIENT / ".npm-cache"
    run(npm, "ci", "--cache", str(cache), "--prefer-offline", "--no-audit", "--no-fund", cwd=work)
    bin_dir = work / "node_modules" / ".bin"
    schema = work / "src" / "schema.d.ts"
    run(
        str(bin_dir / "openapi-typescript"),
        str(repo_root() / DOCUMENT),
        "--output",
        str(schema),
        cwd=work,
    )
    assert "listTeachers: {" in schema.read_text(encoding="utf-8")
    run(str(bin_dir / "tsc"), "--noEmit", "--project", str(work / "tsconfig.json"), cwd=work)
