"""Every write of the platform is audited or says why not: each non-GET operation in a
service's OpenAPI declares the audit action its use case records (`x-audit-action`, set with
`yanxiu.kit.audit_api.audited`) or is listed below with the reason it is not audited. A write
added without either fails here, so the audit trail cannot fall behind the API silently."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

from yanxiu.kit.audit_api import AUDIT_ACTION

SERVICES = ("enrollment", "learning", "credits", "lessons", "insights", "gateway")

# (service, METHOD, path) → why the operation writes no audit entry.
EXEMPT: dict[tuple[str, str, str], str] = {
    ("learning", "POST", "/selections"): "a teacher's own course selection (study, not admin)",
    ("learning", "DELETE", "/selections/{selection_id}"): "a teacher's own course selection",
    ("learning", "POST", "/progress"): "a teacher's heartbeat (study; the hot path)",
    ("learning", "POST", "/progress/batch"): "a teacher's heartbeats (study; the hot path)",
    ("learning", "POST", "/assessments"): "a teacher's own assessment attempt (study)",
    ("learning", "POST", "/providers/{provider_id}/completions"): (
        "a provider's signed completion: kept whole, with its signature, as the learning record"
    ),
    ("learning", "POST", "/providers/{provider_id}/completions/batch"): (
        "a provider's signed completions: kept whole, with their signatures"
    ),
    ("learning", "DELETE", "/providers/{provider_id}/completions/{event_id}"): (
        "a provider's signed retraction: kept as an event of the provider's record"
    ),
    ("learning", "POST", "/xapi/statements"): "a provider's xAPI statements: the LRS keeps them",
    ("learning", "PUT", "/xapi/statements"): "a provider's xAPI statement: the LRS keeps it",
    (
        "learning",
        "PUT",
        "/xapi/activities/state",
    ): "a learner's state document: an LRS document the provider keeps (ETags guard it)",
    (
        "learning",
        "POST",
        "/xapi/activities/state",
    ): "a learner's state document: an LRS document the provider keeps (ETags guard it)",
    (
        "learning",
        "DELETE",
        "/xapi/activities/state",
    ): "a learner's state document: an LRS document the provider keeps (ETags guard it)",
    (
        "learning",
        "PUT",
        "/xapi/activities/profile",
    ): "an activity profile document: an LRS document the provider keeps (ETags guard it)",
    (
        "learning",
        "POST",
        "/xapi/activities/profile",
    ): "an activity profile document: an LRS document the provider keeps (ETags guard it)",
    (
        "learning",
        "DELETE",
        "/xapi/activities/profile",
    ): "an activity profile document: an LRS document the provider keeps (ETags guard it)",
    (
        "learning",
        "PUT",
        "/xapi/agents/profile",
    ): "an agent profile document: an LRS document the provider keeps (ETags guard it)",
    (
        "learning",
        "POST",
        "/xapi/agents/profile",
    ): "an agent profile document: an LRS document the provider keeps (ETags guard it)",
    (
        "learning",
        "DELETE",
        "/xapi/agents/profile",
    ): "an agent profile document: an LRS document the provider keeps (ETags guard it)",
    ("lessons", "POST", "/lessons"): "a teacher creating their own lesson (创课)",
    ("lessons", "POST", "/reviews"): "a teacher's peer review (观评课), a study action",
    ("lessons", "POST", "/lessons/{lesson_id}/flags"): "a reviewer's flag on an assigned lesson",
    ("gateway", "POST", "/api/v1/auth/token"): "signing in changes no data (throttled instead)",
    ("gateway", "POST", "/api/v1/auth/refresh"): "a session renewing its own token (rotation)",
    ("gateway", "POST", "/api/v1/auth/logout"): "a user ending their own session",
}
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _openapi(service: str) -> dict[str, Any]:
    module = importlib.import_module(f"{service}.main")
    spec: dict[str, Any] = module.create_app().openapi()
    return spec


def _writes(service: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in _openapi(service)["paths"].items()
        for method, op in ops.items()
        if method in ("post", "put", "patch", "delete")
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_every_write_declares_its_audit_action_or_why_not(service: str) -> None:
    missing, malformed = [], []
    for method, path, op in _writes(service):
        action = op.get(AUDIT_ACTION)
        if action is None:
            if (service, method, path) not in EXEMPT:
                missing.append(f"{method} {path}")
        elif not ACTION.match(action):
            malformed.append(f"{method} {path}: {action!r}")
    assert not missing, f"{service}: writes with no x-audit-action and no exemption: {missing}"
    assert not malformed, f"{service}: actions not named <type>.<verb>: {malformed}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_exemption_names_an_existing_write(service: str) -> None:
    writes = {(method, path) for method, path, _ in _writes(service)}
    stale = [(m, p) for s, m, p in EXEMPT if s == service and (m, p) not in writes]
    assert not stale, f"{service}: exemptions for operations that no longer exist: {stale}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_lists_its_audit_trail(service: str) -> None:
    path = "/api/v1/auth/audit" if service == "gateway" else "/audit"
    assert "get" in _openapi(service)["paths"].get(path, {})
