"""The platform's OpenAPI conventions, one rule for every service: short camelCase operation
ids, errors as problem+json (the `Problem` schema) with the codes each operation can answer,
the security each operation really requires, and the catalogue of every problem code."""

from __future__ import annotations

import http
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from yanxiu.kit import raises
from yanxiu.kit.admission import Overloaded
from yanxiu.kit.auth import UnknownSigningKey
from yanxiu.kit.deps import current_principal, principal_dependency
from yanxiu.kit.errors import (
    PROBLEM_JSON,
    BodyTooDeep,
    BodyUnreadable,
    DatabaseUnavailable,
    DomainError,
    Forbidden,
    NotFound,
    TransactionConflict,
    Unauthorized,
    ValueOutOfRange,
)

Doc = dict[str, Any]
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

# ---------------------------------------------------------------------------------- ids
MAX_OPERATION_ID = 40
# An endpoint named after what it does keeps its name (`list_teachers` → `listTeachers`);
# one named after what it returns gets its method's verb (`transcript` → `getTranscript`).
VERBS = frozenset(
    {
        *("list", "get", "create", "update", "delete", "set", "put", "post", "open", "issue"),
        *("submit", "register", "withdraw", "join", "activate", "recommend", "repair"),
        *("transfer", "depart", "verify", "lookup", "find", "import", "export", "select"),
        *("unselect", "suggest", "decide", "assess", "reverse", "correct", "review", "approve"),
        *("resubmit", "revoke", "promote", "award", "allocate", "flag", "retract", "replay"),
        *("drop", "refresh", "logout"),
    }
)
METHOD_VERBS = {"GET": "get", "POST": "create", "PUT": "set", "PATCH": "update", "DELETE": "delete"}


def operation_id(route: Any) -> str:
    """FastAPI's `generate_unique_id_function` for every router of the platform: the
    endpoint's name in camelCase, led by a verb. Where that reads poorly a route names itself
    (`operation_id="registerTeacher"`); the ids are checked unique and short in the tests."""
    words = [w for w in route.name.split("_") if w]
    if not words or words[0] not in VERBS:
        method = min(route.methods or {"GET"})
        words.insert(0, METHOD_VERBS.get(method, method.lower()))
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


# ------------------------------------------------------------------------------ Problem
PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_CODES = "x-problem-codes"  # on a response: the codes it may carry
SCHEMAS: Doc = {
    "Problem": {
        "title": "Problem",
        "type": "object",
        "description": (
            "错误 (RFC 9457 problem details), served as application/problem+json. `code` is "
            "stable and names the rule; the titles and messages are Chinese with English. "
            "Every code is listed under `x-problem-codes` of the platform's document."
        ),
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri", "description": "…/problems/<code>"},
            "title": {"type": "string", "description": "中文 (English), of the code"},
            "status": {"type": "integer", "description": "The HTTP status"},
            "detail": {"type": "string", "description": "中文 (English), of this occurrence"},
            "instance": {"type": "string", "description": "The path as the caller sent it"},
            "code": {"type": "string", "description": "Stable machine-readable code"},
            "message_zh": {"type": "string"},
            "message_en": {"type": "string"},
            "trace_id": {"type": "string", "description": "The request id (X-Request-ID)"},
            "retry_after": {"type": "integer", "description": "Seconds, as Retry-After says"},
            "errors": {
                "type": "array",
                "description": "The offending fields (code `validation_failed`)",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            },
        },
        "additionalProperties": True,
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "required": ["field", "location", "message", "type"],
        "properties": {
            "field": {"type": "string", "description": "Dotted path, e.g. `org.school_id`"},
            "location": {"type": "string", "description": "body, query, path or header"},
            "message": {"type": "string"},
            "type": {"type": "string", "description": "The validator's error type"},
        },
    },
}
SHARED_SCHEMAS = frozenset(SCHEMAS)
"""Components every service's document defines alike; a merge keeps one of each."""


@dataclass(frozen=True)
class ProblemType:
    """One code as the catalogue (and docs/problems.md) lists it."""

    code: str
    status: int
    title_zh: str
    title_en: str
    raised_in: tuple[str, ...] = ()


# Answered by the error handlers (kit.errors) rather than raised as a DomainError.
HANDLER_PROBLEMS = (
    ProblemType("validation_failed", 422, "请求参数校验失败", "Validation failed", ("kit",)),
    ProblemType("method_not_allowed", 405, "不支持的请求方法", "Method not allowed", ("kit",)),
    ProblemType("internal_error", 500, "服务器内部错误", "Internal error", ("kit",)),
)
PLATFORM_PACKAGES = raises.PLATFORM_PACKAGES


def _subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# Not part of any service: local tooling and test helpers.
NOT_SERVED = ("yanxiu.devstack", "yanxiu.testing")


def import_platform() -> None:
    """Imports every module of the platform's packages that are installed, so that the
    catalogue does not depend on what the caller happened to import first."""
    for name in PLATFORM_PACKAGES:
        try:
            package = importlib.import_module(name)
        except ImportError:
            continue  # a process with part of the platform installed
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not module.name.startswith(NOT_SERVED) and not module.name.endswith("__main__"):
                importlib.import_module(module.name)


def _qualified(cls: type[DomainError]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def problem_catalogue() -> list[ProblemType]:
    """Every code of the platform, by code then status."""
    import_platform()
    found: dict[tuple[str, int], ProblemType] = {}
    # In a fixed order, so that a code two types share takes the same titles every time.
    every: set[type[DomainError]] = {DomainError, *_subclasses(DomainError)}
    for cls in sorted(every, key=_qualified):
        package = cls.__module__.split(".", 1)[0]
        if package not in PLATFORM_PACKAGES:
            continue  # a test's own error type
        package = "kit" if package == "yanxiu" else package
        key = (cls.code, cls.status)
        known = found.get(key)
        where = tuple(sorted({*(known.raised_in if known else ()), package}))
        found[key] = ProblemType(
            cls.code,
            cls.status,
            known.title_zh if known else cls.title_zh,
            known.title_en if known else cls.title_en,
            where,
        )
    for generic in HANDLER_PROBLEMS:
        found.setdefault((generic.code, generic.status), generic)
    return [found[k] for k in sorted(found)]


def problems_markdown(catalogue: Iterable[ProblemType]) -> str:
    """docs/problems.md: every code, its status and titles (generated; see gateway.openapi)."""
    lines = [
        "# Problem codes (错误码)",
        "",
        "Every error the platform answers is `application/problem+json` (RFC 9457) with a stable",
        "`code`; this table lists them all, as `x-problem-codes` of docs/openapi.json does, and",
        "each operation there lists the codes it can answer under each status. Generated from",
        "the `DomainError` types: `python -m gateway.openapi --write`; a test keeps it current.",
        "",
        "| code | status | 中文 | English | raised in |",
        "|---|---|---|---|---|",
    ]
    for p in catalogue:
        cells = [f"`{p.code}`", str(p.status), p.title_zh, p.title_en, ", ".join(p.raised_in)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- security
@dataclass(frozen=True, eq=False)
class Auth:
    """How a dependency authenticates its caller, as OpenAPI says it: alternative
    `security` requirements, the schemes they name, and the errors the check answers."""

    security: tuple[Mapping[str, Sequence[str]], ...]
    schemes: Mapping[str, Doc]
    errors: tuple[type[DomainError], ...] = ()


BEARER = Auth(
    security=({"bearerAuth": []},),
    schemes={
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "令牌来自 /api/v1/auth/token (token from /api/v1/auth/token)",
        }
    },
    errors=(Unauthorized, UnknownSigningKey),
)
_AUTH: dict[Callable[..., Any], Auth] = {}


def document_auth(auth: Auth, *dependencies: Callable[..., Any]) -> None:
    """Declares that an operation reaching any of `dependencies` (as a dependency, or called
    on its way) requires `auth`. An operation reaching none is public (`security: []`)."""
    for dependency in dependencies:
        _AUTH[getattr(dependency, "__func__", dependency)] = auth


document_auth(BEARER, principal_dependency, current_principal)


# -------------------------------------------------------------------------------- media
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def file_response(media_type: str, description: str) -> dict[int | str, Doc]:
    """`responses=` of a route answering a file (its `response_class` being a plain
    `Response`, so that no JSON body is declared beside it)."""
    schema = {"type": "string", "format": "binary"}
    return {200: {"description": description, "content": {media_type: {"schema": schema}}}}


# ----------------------------------------------------------------------------- document
# What any operation may answer: the service over its in-flight limit, its database away,
# a lost race with a concurrent request (kit.admission, kit.errors).
UNAVAILABLE_CODES = (Overloaded.code, DatabaseUnavailable.code, TransactionConflict.code)
BODY_CODES = (BodyUnreadable.code, BodyTooDeep.code)


@dataclass
class Responses:
    """The error codes of one operation, by status."""

    codes: dict[int, set[str]] = field(default_factory=dict)

    def add(self, status: int, *codes: str) -> None:
        self.codes.setdefault(status, set()).update(codes)

    def has(self, status: int) -> bool:
        return bool(self.codes.get(status))


def install_openapi(app: FastAPI) -> None:
    """Makes `app.openapi()` FastAPI's document with the platform's conventions applied."""

    def openapi() -> Doc:
        if app.openapi_schema is None:
            app.openapi_schema = apply_conventions(FastAPI.openapi(app), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _dependency_calls(dependant: Dependant | None) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies if dependant is not None else ():
        if sub.call is not None:
            yield sub.call
        yield from _dependency_calls(sub)


def _api_routes(routes: Sequence[Any]) -> Iterator[Any]:
    for context in routing.iter_route_contexts(routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def _auth_of(functions: Iterable[Any]) -> list[Auth]:
    """The Auths the functions reach, in the order they were declared (a stable document)."""
    reached = set(functions)
    return list(dict.fromkeys(auth for fn, auth in _AUTH.items() if fn in reached))


def apply_conventions(doc: Doc, routes: Sequence[Any]) -> Doc:
    """`doc` (FastAPI's) with every operation's security and error responses made explicit,
    FastAPI's HTTPValidationError replaced by the Problem schema."""
    components = doc.setdefault("components", {})
    schemes: Doc = {}
    for route in _api_routes(routes):
        own = route.endpoint.__module__.split(".", 1)[0]
        reached = raises.reach(
            [route.endpoint, *_dependency_calls(route.dependant)], packages=[own]
        )
        auths = _auth_of([*reached.functions, *_dependency_calls(route.dependant)])
        for method in sorted(route.methods):
            op = doc["paths"].get(route.path_format, {}).get(method.lower())
            if op is None:
                continue
            if "security" not in op:
                op["security"] = [dict(r) for auth in auths for r in auth.security]
            elif any("bearerAuth" in r for r in op["security"]) and BEARER not in auths:
                auths.append(BEARER)  # declared by the route itself
            for auth in auths:
                schemes.update(auth.schemes)
            _error_responses(op, reached.errors, auths)
    if schemes:
        components.setdefault("securitySchemes", {}).update(
            {k: schemes[k] for k in sorted(schemes)}
        )
    named = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        named.pop(name, None)
    named.update(SCHEMAS)
    components["schemas"] = {k: named[k] for k in sorted(named)}
    return doc


def _error_responses(op: Doc, errors: Iterable[type[DomainError]], auths: Sequence[Auth]) -> None:
    answers = Responses()
    for error in errors:
        answers.add(error.status, error.code)
    responses: Doc = op.setdefault("responses", {})
    security = op.get("security") or []
    if any(security):
        for auth in auths:
            for error in auth.errors:
                answers.add(error.status, error.code)
        answers.add(401, Unauthorized.code)
        if {} not in security and not answers.has(403):  # unless a caller may stay anonymous
            answers.add(403, Forbidden.code)
    if any(p.get("in") == "path" for p in op.get("parameters", [])) and not answers.has(404):
        answers.add(404, NotFound.code)
    body = op.get("requestBody", {}).get("content", {})
    if "422" in responses or op.get("parameters") or body:
        answers.add(422, "validation_failed", ValueOutOfRange.code)
    if "application/json" in body:
        answers.add(422, *BODY_CODES)
    answers.add(503, *UNAVAILABLE_CODES)
    for key, given in list(responses.items()):
        if given and key.isdigit() and key[:1] in "45":
            answers.add(int(key), *given.get(PROBLEM_CODES, ()))
    for status in sorted(answers.codes):
        add_problems(op, status, *answers.codes[status])


def add_problems(op: Doc, status: int, *codes: str) -> None:
    """Declares that `op` may answer `status` as a Problem with these codes (added to those
    already declared). A description the route gave is kept; else it lists the codes."""
    responses: Doc = op.setdefault("responses", {})
    key = str(status)
    given = responses.get(key) or {}
    listed = sorted({*given.get(PROBLEM_CODES, ()), *codes})
    phrase = http.HTTPStatus(status).phrase
    described = given.get("description") or phrase
    if described in (phrase, "Validation Error") or described.startswith(f"{phrase}: "):
        described = f"{phrase}: " + ", ".join(f"`{c}`" for c in listed) if listed else phrase
    responses[key] = {
        **{k: v for k, v in given.items() if k not in ("content", "description", PROBLEM_CODES)},
        "description": described,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
        PROBLEM_CODES: listed,
    }
    op["responses"] = {k: responses[k] for k in sorted(responses)}
