"""The expected-outcome table (`matrix.yaml`): for each operation of the merged OpenAPI, what
each actor gets. Read by the matrix test and rendered into docs/authorization.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.province.world import ACTOR_ZH, ACTORS

TABLE = Path(__file__).with_name("matrix.yaml")
DOC = Path(__file__).parents[2] / "docs" / "authorization.md"
PROVIDERS = ("provider_own", "provider_other")
SEES_T1 = frozenset({"teacher_self", "school_admin", "county_admin", "city_admin", "province"})
"""Who may read T1's name, unless a row says otherwise: T1 and the admins over school A1."""
BUSINESS_REFUSALS = frozenset({400, 409, 410, 412, 413, 422})
"""Answers that mean the caller was let in and the request itself was refused."""


@dataclass(frozen=True)
class Row:
    key: str
    auth: str  # bearer | signed | public
    ok: frozenset[str]
    deny: str
    overrides: dict[str, str]
    note: str
    sees: frozenset[str] = SEES_T1
    reveals: frozenset[str] = frozenset()

    def may_see_t1(self, actor: str) -> bool:
        """Whether T1's name may appear in what this actor gets back."""
        return actor in self.sees

    def expected(self, actor: str) -> str:
        """'ok', or the status an actor must get."""
        if actor in self.overrides:
            return self.overrides[actor]
        if self.auth == "public" or actor in self.ok:
            return "ok"
        if self.auth == "signed" and actor == "provider_own":
            return "ok"
        if self.auth == "signed":
            return self.deny if actor in PROVIDERS else "401"
        if actor == "anon" or actor in PROVIDERS:
            return "401"
        return self.deny


def load() -> dict[str, Row]:
    raw: dict[str, Any] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))["operations"]
    rows = {}
    for key, spec in raw.items():
        spec = spec or {}
        ok = frozenset(spec.get("ok", []))
        unknown = ok - set(ACTORS) | set(spec.get("overrides", {})) - set(ACTORS)
        assert not unknown, f"{key}: unknown actors {sorted(unknown)}"
        rows[key] = Row(
            key=key,
            auth=spec.get("auth", "bearer"),
            ok=ok,
            deny=str(spec.get("deny", 403)),
            overrides={k: str(v) for k, v in spec.get("overrides", {}).items()},
            note=spec.get("note", ""),
            sees=frozenset(spec["sees"]) if "sees" in spec else SEES_T1,
            reveals=frozenset(spec.get("reveals", [])),
        )
    return rows


def outcome(status: int, expected: str = "ok") -> str:
    """How an answer reads in the table: 'ok' when the caller was let in (or the exact status
    where the table names a business refusal, e.g. 422 for an org that is not the caller's)."""
    if expected.isdigit() and int(expected) in BUSINESS_REFUSALS:
        return str(status)
    if status < 400 or status in BUSINESS_REFUSALS:
        return "ok"
    return str(status)


_CELL = {"ok": "✅", "401": "401", "403": "403", "404": "404"}


def render(rows: dict[str, Row]) -> str:
    """docs/authorization.md: the table as people read it."""
    head = "| operation | " + " | ".join(ACTOR_ZH[a] for a in ACTORS) + " | note |"
    lines = [
        "# Authorization matrix (权限矩阵)",
        "",
        "Generated from `tests/authz/matrix.yaml` by `python -m tests.authz.render`; the test",
        "`tests/authz/test_authorization_matrix.py` asks every operation of the merged OpenAPI",
        "as every actor below, against a province built through the public API, and fails on any",
        "cell that differs (or on an operation without a row).",
        "",
        "Every record asked about belongs to teacher T1 of school A1, county A, city A. Actors:",
        "",
        *(f"- **{ACTOR_ZH[a]}** (`{a}`): {_ACTOR_TEXT[a]}" for a in ACTORS),
        "",
        "✅ = let in (answered, or refused on its merits: 400/409/422); 401 = no valid",
        "credentials; 403 = role or scope refused; 404 = out of scope, answered as not found (a",
        "read never confirms that another org's record exists).",
        "",
        head,
        "|" + "---|" * (len(ACTORS) + 2),
    ]
    for key in sorted(rows, key=lambda k: (k.split(" ", 1)[1], k)):
        row = rows[key]
        cells = [_CELL.get(row.expected(a), row.expected(a)) for a in ACTORS]
        lines.append(f"| `{key}` | " + " | ".join(cells) + f" | {row.note} |")
    return "\n".join(lines) + "\n"


_ACTOR_TEXT = {
    "anon": "no token",
    "teacher_self": "T1, signed in as themself",
    "teacher_colleague": "another teacher of school A1",
    "teacher_other": "a teacher of school A2 (same county)",
    "school_admin": "the admin of school A1",
    "school_admin_other": "the admin of school A2",
    "county_admin": "the admin of county A",
    "county_admin_other": "the admin of another county of city A",
    "city_admin": "the admin of city A",
    "city_admin_other": "the admin of city B",
    "province": "the province's admin",
    "institution_own": "a training institution serving county A",
    "institution_other": "a training institution serving city B",
    "provider_own": "provider P1's signing key (the routes asked about are P1's)",
    "provider_other": "provider P2's signing key",
}
