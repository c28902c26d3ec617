"""Where the repository and its git-ignored data folder are."""

from __future__ import annotations

import os
from pathlib import Path

SERVICES = ("enrollment", "learning", "credits", "lessons", "insights")
"""Domain services, in start order; the gateway starts after them."""

_DEFAULT_PORTS = {
    "gateway": 8000,
    "enrollment": 8101,
    "learning": 8102,
    "credits": 8103,
    "lessons": 8104,
    "insights": 8105,
}
PORTS = {
    name: port + int(os.environ.get("YANXIU_PORT_OFFSET", "0"))
    for name, port in _DEFAULT_PORTS.items()
}
"""Where `make run` serves each process; YANXIU_PORT_OFFSET shifts them all."""


def repo_root() -> Path:
    env = os.environ.get("YANXIU_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in [Path.cwd(), *Path.cwd().parents, *here.parents]:
        if (parent / "services").is_dir() and (parent / "shared" / "pyproject.toml").is_file():
            return parent
    raise RuntimeError("cannot find the Yanxiu repository; set YANXIU_HOME")


def data_dir() -> Path:
    path = Path(os.environ.get("YANXIU_DATA", repo_root() / ".data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def service_dir(name: str) -> Path:
    return repo_root() / "services" / name
