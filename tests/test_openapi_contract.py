"""The platform's OpenAPI contract, built in-process from every app (no network): committed as
docs/openapi.json and docs/problems.md and current, with ids, errors, media types and security
a client generator can rely on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.openapi import DOCUMENT, PROBLEMS, platform_document, render
from yanxiu.devstack.paths import repo_root
from yanxiu.kit.openapi import MAX_OPERATION_ID, XLSX, problem_catalogue, problems_markdown

METHODS = ("get", "put", "post", "delete", "patch")
REGENERATE = "run `yanxiu openapi --write` (or python -m gateway.openapi --write)"
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def doc() -> Doc:
    return platform_document()


def operations(doc: Doc) -> Iterator[tuple[str, str, Doc]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method.upper(), path, op


def test_the_committed_document_is_current(doc: Doc) -> None:
    committed = (repo_root() / DOCUMENT).read_text(encoding="utf-8")
    assert committed == render(doc), f"docs/openapi.json is stale: {REGENERATE}"


def test_the_problem_codes_table_is_current() -> None:
    committed = (repo_root() / PROBLEMS).read_text(encoding="utf-8")
    assert committed == problems_markdown(problem_catalogue()), (
        f"docs/problems.md is stale: {REGENERATE}"
    )


def test_operation_ids_are_unique_short_camel_case_verbs(doc: Doc) -> None:
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    wrong = [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z0-9][a-z0-9]*)*", i)]
    assert wrong == [], "not camelCase (a router without generate_unique_id_function?)"
    assert [i for i in ids if len(i) > MAX_OPERATION_ID] == []


def test_every_error_is_a_problem_with_its_codes(doc: Doc) -> None:
    wrong = []
    for method, path, op in operations(doc):
        for status, answer in op["responses"].items():
            if status[0] in "45":
                content = answer.get("content", {})
                if content != {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }:
                    wrong.append(f"{method} {path} {status}")
                if status not in ("413",) and not answer.get("x-problem-codes"):
                    wrong.append(f"{method} {path} {status}: no codes")
    assert wrong == []
    assert "HTTPValidationError" not in str(doc)
    known = {p["code"] for p in doc["x-problem-codes"]}
    listed = {
        code
        for _, _, op in operations(doc)
        for answer in op["responses"].values()
        for code in answer.get("x-problem-codes", ())
    }
    assert listed <= known


def test_each_operation_answers_what_any_request_can_get(doc: Doc) -> None:
    for method, path, op in operations(doc):
        responses, where = op["responses"], f"{method} {path}"
        assert "503" in responses, where
        if path.startswith("/api/"):
            assert "429" in responses, where  # the probes are not rate limited
        if op["security"]:
            assert "401" in responses, where
        if op["security"] and {} not in op["security"]:
            assert "403" in responses, where
        if "{" in path:
            assert "404" in responses, where
        if op.get("parameters") or op.get("requestBody"):
            assert "validation_failed" in responses["422"]["x-problem-codes"], where


def test_public_routes_are_marked_public_and_the_rest_say_how_to_authenticate(doc: Doc) -> None:
    public = {f"{m} {p}" for m, p, op in operations(doc) if op["security"] == []}
    assert public == {
        "GET /healthz",
        "GET /readyz",
        "POST /api/v1/auth/token",
        "POST /api/v1/auth/refresh",
        "GET /api/v1/auth/jwks",
        "GET /api/v1/credits/certificates/verify/{code}",
        "GET /api/v1/learning/xapi/about",
    }
    assert "security" not in doc
    schemes = doc["components"]["securitySchemes"]
    for method, path, op in operations(doc):
        for requirement in op["security"]:
            assert set(requirement) <= set(schemes), f"{method} {path}"
    signed = {"providerKey": [], "providerTimestamp": [], "providerSignature": []}
    completions = doc["paths"]["/api/v1/learning/providers/{provider_id}/completions"]["post"]
    assert completions["security"] == [signed]
    statements = doc["paths"]["/api/v1/learning/xapi/statements"]["post"]
    assert statements["security"] == [signed, {"xapiBasic": []}]
    assert {schemes[name]["name"] for name in signed} == {
        "X-Provider-Key",
        "X-Provider-Timestamp",
        "X-Provider-Signature",
    }
    assert schemes["xapiBasic"] == {**schemes["xapiBasic"], "type": "http", "scheme": "basic"}
    teacher = doc["paths"]["/api/v1/enrollment/teachers/{teacher_id}"]["get"]
    assert teacher["security"] == [{"bearerAuth": []}, {"OAuth2Password": []}]
    logout = doc["paths"]["/api/v1/auth/logout"]["post"]
    assert {} in logout["security"]  # the refresh token in the body will do


def test_files_are_declared_as_files(doc: Doc) -> None:
    binary = {"schema": {"type": "string", "format": "binary"}}
    for path in (
        "/api/v1/enrollment/teachers/export.xlsx",
        "/api/v1/enrollment/projects/{project_id}/registrations/export.xlsx",
        "/api/v1/credits/reports/totals.xlsx",
        "/api/v1/lessons/exports/city-summary",
    ):
        assert doc["paths"][path]["get"]["responses"]["200"]["content"] == {XLSX: binary}, path
    pdf = doc["paths"]["/api/v1/credits/certificates/{code}.pdf"]["get"]["responses"]["200"]
    assert pdf["content"] == {"application/pdf": binary}
    upload = doc["paths"]["/api/v1/enrollment/teachers/import"]["post"]["requestBody"]
    form = upload["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    file = doc["components"]["schemas"][form]["properties"]["file"]
    assert (file["type"], file["format"]) == ("string", "binary")
    xapi = doc["paths"]["/api/v1/learning/xapi/statements"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/mixed"} <= set(xapi)
