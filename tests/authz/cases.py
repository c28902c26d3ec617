"""How to ask each operation about the world's record, as any actor.

An operation is named as the merged OpenAPI names it: "METHOD /api/v1/<service>/<path>". Its
path parameters come from `PARAMS` (the world's records, all of teacher T1, school A1);
operations that need a query, a body or a record of their own have a builder below. A builder
that makes a fresh record for each call keeps one actor's allowed change (a transfer, a
withdrawal, a revoked key) from changing what the next actor is asked about."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.province.world import (
    CITY_A,
    COUNTY_A,
    PROVINCE,
    World,
    lesson_body,
    new_id_number,
    record_body,
)


@dataclass
class Req:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    files: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Sent without the actor's credentials (signing out must not end the actor's own session).
    bare: bool = False


Builder = Callable[[World, str], Awaitable[Req]]
CASES: dict[str, Builder] = {}
LATE: set[str] = set()
"""Operations asked last: an allowed call changes the world for everything after it."""

_n = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_n)}-{uuid.uuid4().hex[:6]}"


def case(key: str, *, late: bool = False) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        CASES[key] = fn
        if late:
            LATE.add(key)
        return fn

    return register


def params(w: World) -> dict[str, str]:
    """Path parameters by name: the record each operation is asked about."""
    own = w.providers["provider_own"]
    return {
        "teacher_id": w.teachers["T1"],
        "project_id": w.ids["project"],
        "registration_id": w.ids["registration_T1"],
        "workshop_id": w.ids["workshop"],
        "case_id": w.ids["case"],
        "course_id": w.ids["course_general"],
        "code": w.ids.get("certificate", "NOSUCHCODE"),
        "school_id": w.schools["A1"],
        "org_id": w.schools["A1"],
        "selection_id": w.ids["selection"],
        "provider_id": own.id,
        "key_id": own.key_id,
        "event_id": w.ids["completion_event"],
        "record_id": w.ids["record"],
        "lesson_id": w.ids["lesson"],
        "run_id": w.ids["allocation"],
        "review_id": w.ids.get("review", str(uuid.uuid4())),
        "account_id": w.ids.get("account", str(uuid.uuid4())),
        "partition": "0",
        "offset": "0",
    }


def fill(template: str, w: World, **over: str) -> str:
    values = {**params(w), **over}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


async def default(key: str, w: World) -> Req:
    method, template = key.split(" ", 1)
    return Req(method, fill(template, w))


async def build(key: str, w: World, actor: str) -> Req:
    fn = CASES.get(key)
    return await fn(w, actor) if fn is not None else await default(key, w)


def _today() -> str:
    return date.today().isoformat()


def _year() -> int:
    return date.today().year


# --- enrollment ------------------------------------------------------------------------------


@case("POST /api/v1/enrollment/teachers/import")
async def _import(w: World, actor: str) -> Req:
    header = "姓名,身份证号,学校,学段,学科,是否乡村教师\n"
    row = f"导入教师,{new_id_number()},{w.schools['A1']},小学,语文,否\n"
    data = (header + row).encode("utf-8")
    return Req(
        "POST",
        "/api/v1/enrollment/teachers/import",
        files={"file": ("teachers.csv", data, "text/csv")},
    )


@case("GET /api/v1/enrollment/teachers/export.xlsx")
async def _export(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/enrollment/teachers/export.xlsx", params={"org_id": w.schools["A1"]})


@case("GET /api/v1/enrollment/projects/{project_id}/registrations/export.xlsx")
async def _reg_export(w: World, actor: str) -> Req:
    return Req(
        "GET",
        fill("/api/v1/enrollment/projects/{project_id}/registrations/export.xlsx", w),
        params={"org_id": w.schools["A1"]},
    )


@case("GET /api/v1/enrollment/orgs")
async def _orgs(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/enrollment/orgs", params={"parent_id": COUNTY_A})


@case("POST /api/v1/enrollment/orgs")
async def _new_school(w: World, actor: str) -> Req:
    return Req(
        "POST", "/api/v1/enrollment/orgs", json={"parent_id": COUNTY_A, "name": unique("新学校")}
    )


@case("POST /api/v1/enrollment/teachers")
async def _new_teacher(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/enrollment/teachers",
        json={
            "name": "新采集",
            "id_number": new_id_number(),
            "school_id": w.schools["A1"],
            "stage": "primary",
            "subject": "语文",
            "is_rural": False,
        },
    )


@case("GET /api/v1/enrollment/teachers")
async def _teachers(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/enrollment/teachers", params={"school_id": w.schools["A1"]})


@case("POST /api/v1/enrollment/teachers/lookup")
async def _lookup(w: World, actor: str) -> Req:
    return Req("POST", "/api/v1/enrollment/teachers/lookup", json={"ids": [w.teachers["T1"]]})


@case("GET /api/v1/enrollment/teachers/departed")
async def _departed(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/enrollment/teachers/departed", params={"id_number": new_id_number()})


@case("GET /api/v1/enrollment/teachers/{teacher_id}")
async def _teacher(w: World, actor: str) -> Req:
    return Req("GET", fill("/api/v1/enrollment/teachers/{teacher_id}", w))


@case("PATCH /api/v1/enrollment/teachers/{teacher_id}")
async def _patch_teacher(w: World, actor: str) -> Req:
    return Req(
        "PATCH", fill("/api/v1/enrollment/teachers/{teacher_id}", w), json={"phone": "13900139000"}
    )


@case("POST /api/v1/enrollment/teachers/{teacher_id}/transfer")
async def _transfer(w: World, actor: str) -> Req:
    teacher = await w.new_teacher()
    return Req(
        "POST",
        f"/api/v1/enrollment/teachers/{teacher}/transfer",
        json={"to_school_id": w.schools["A2"]},
    )


@case("POST /api/v1/enrollment/teachers/{teacher_id}/depart")
async def _depart(w: World, actor: str) -> Req:
    teacher = await w.new_teacher()
    return Req("POST", f"/api/v1/enrollment/teachers/{teacher}/depart")


@case("POST /api/v1/enrollment/projects")
async def _project(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/enrollment/projects",
        json={
            "year": _year(),
            "stage": "junior_high",
            "name": unique("矩阵初中项目"),
            "registration_opens_on": _today(),
            "registration_closes_on": f"{_year()}-12-31",
        },
    )


@case("POST /api/v1/enrollment/projects/{project_id}/counties")
async def _open_counties(w: World, actor: str) -> Req:
    return Req(
        "POST",
        fill("/api/v1/enrollment/projects/{project_id}/counties", w),
        json={"org_ids": [COUNTY_A]},
    )


@case("POST /api/v1/enrollment/projects/{project_id}/schools")
async def _open_schools(w: World, actor: str) -> Req:
    return Req(
        "POST",
        fill("/api/v1/enrollment/projects/{project_id}/schools", w),
        json={"org_ids": [w.schools["A1"]]},
    )


@case("POST /api/v1/enrollment/projects/{project_id}/registrations")
async def _register(w: World, actor: str) -> Req:
    return Req(
        "POST",
        fill("/api/v1/enrollment/projects/{project_id}/registrations", w),
        json={"teacher_id": w.teachers["T1"], "subject": "语文"},
    )


@case("DELETE /api/v1/enrollment/projects/{project_id}/registrations/{registration_id}")
async def _withdraw(w: World, actor: str) -> Req:
    registration = await w.new_registration()
    return Req(
        "DELETE",
        fill(
            "/api/v1/enrollment/projects/{project_id}/registrations/{registration_id}",
            w,
            registration_id=registration,
        ),
    )


@case("POST /api/v1/enrollment/projects/{project_id}/submissions", late=True)
async def _submit(w: World, actor: str) -> Req:
    return Req("POST", fill("/api/v1/enrollment/projects/{project_id}/submissions", w))


@case("POST /api/v1/enrollment/workshops")
async def _workshop(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/enrollment/workshops",
        json={"project_id": w.ids["project"], "subject": "数学", "name": unique("数学工作坊")},
    )


@case("GET /api/v1/enrollment/workshops")
async def _workshops(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/enrollment/workshops", params={"project_id": w.ids["project"]})


@case("PUT /api/v1/enrollment/workshops/{workshop_id}/hosts")
async def _hosts(w: World, actor: str) -> Req:
    hosts = [{"user_id": f"host-{i}", "name": f"主持人{i}"} for i in range(3)]
    return Req(
        "PUT", fill("/api/v1/enrollment/workshops/{workshop_id}/hosts", w), json={"hosts": hosts}
    )


@case("POST /api/v1/enrollment/workshops/{workshop_id}/members")
async def _join(w: World, actor: str) -> Req:
    body = {} if actor.startswith("teacher") else {"teacher_id": w.teachers["T1"]}
    return Req("POST", fill("/api/v1/enrollment/workshops/{workshop_id}/members", w), json=body)


@case("POST /api/v1/enrollment/workshops/{workshop_id}/cases")
async def _case(w: World, actor: str) -> Req:
    return Req(
        "POST", fill("/api/v1/enrollment/workshops/{workshop_id}/cases", w), json={"title": "案例"}
    )


# --- learning --------------------------------------------------------------------------------


@case("POST /api/v1/learning/courses")
async def _course(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/learning/courses",
        json={
            "code": unique("MX-NEW-").upper(),
            "title": "新课程",
            "kind": "elective",
            "scope": "subject",
            "hours": "0.5",
            "stages": ["primary"],
            "subjects": ["语文"],
            "video_seconds": 300,
        },
    )


@case("GET /api/v1/learning/rule-sets/{code}")
async def _rule_set(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/learning/rule-sets/shandong-2023")


@case("PUT /api/v1/learning/projects/{project_id}/rules")
async def _rules(w: World, actor: str) -> Req:
    from tests.province.world import around_today

    windows = {name: around_today() for name in ("selection", "learning", "subject_required")}
    return Req(
        "PUT",
        fill("/api/v1/learning/projects/{project_id}/rules", w),
        json={"year": _year(), "rule_set": "shandong-2023", "windows": windows},
    )


@case("PUT /api/v1/learning/schools/{school_id}/topics")
async def _put_topics(w: World, actor: str) -> Req:
    return Req(
        "PUT",
        fill("/api/v1/learning/schools/{school_id}/topics", w),
        json={"project_id": w.ids["project"], "topic_ids": ["class_management"]},
    )


@case("GET /api/v1/learning/schools/{school_id}/topics")
async def _topics(w: World, actor: str) -> Req:
    return Req(
        "GET",
        fill("/api/v1/learning/schools/{school_id}/topics", w),
        params={"project_id": w.ids["project"]},
    )


@case("POST /api/v1/learning/selections")
async def _select(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/learning/selections",
        json={"project_id": w.ids["project"], "course_id": w.ids["course_general"]},
    )


@case("GET /api/v1/learning/selections")
async def _selections(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/learning/selections", params={"project_id": w.ids["project"]})


@case("DELETE /api/v1/learning/selections/{selection_id}")
async def _drop(w: World, actor: str) -> Req:
    course = await w.call(
        "province", "POST", "/api/v1/learning/courses", json=(await _course(w, actor)).json
    )
    made = await w.call(
        "teacher_self",
        "POST",
        "/api/v1/learning/selections",
        json={"project_id": w.ids["project"], "course_id": course["id"]},
    )
    return Req("DELETE", f"/api/v1/learning/selections/{made['id']}")


@case("GET /api/v1/learning/plans/{teacher_id}/suggestions")
async def _suggestions(w: World, actor: str) -> Req:
    return Req(
        "GET",
        fill("/api/v1/learning/plans/{teacher_id}/suggestions", w),
        params={"project_id": w.ids["project"]},
    )


@case("POST /api/v1/learning/plans/{teacher_id}/school-based-hours")
async def _school_based(w: World, actor: str) -> Req:
    return Req(
        "POST",
        fill("/api/v1/learning/plans/{teacher_id}/school-based-hours", w),
        json={
            "project_id": w.ids["project"],
            "record_id": unique("sb-"),
            "title": "校本研修",
            "hours": "1.0",
        },
    )


def heartbeat(w: World) -> dict[str, Any]:
    return {
        "course_id": w.ids["course_subject"],
        "project_id": w.ids["project"],
        "device_session_id": "matrix-device",
        "position": 1,
    }


@case("POST /api/v1/learning/progress")
async def _heartbeat(w: World, actor: str) -> Req:
    return Req("POST", "/api/v1/learning/progress", json=heartbeat(w))


@case("POST /api/v1/learning/progress/batch")
async def _heartbeats(w: World, actor: str) -> Req:
    return Req("POST", "/api/v1/learning/progress/batch", json={"heartbeats": [heartbeat(w)]})


@case("POST /api/v1/learning/assessments")
async def _assessment(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/learning/assessments",
        json={
            "course_id": w.ids["course_subject"],
            "project_id": w.ids["project"],
            "answers": {"q1": "A"},
        },
    )


@case("GET /api/v1/learning/progress/refusals")
async def _refusals(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/learning/progress/refusals", params={"school_id": w.schools["A1"]})


@case("GET /api/v1/learning/abilities/plans/{teacher_id}")
async def _ability_standing(w: World, actor: str) -> Req:
    return Req(
        "GET",
        fill("/api/v1/learning/abilities/plans/{teacher_id}", w),
        params={"project_id": w.ids["project"]},
    )


@case("PUT /api/v1/learning/abilities/plans/{teacher_id}/role")
async def _ability_role(w: World, actor: str) -> Req:
    return Req(
        "PUT",
        fill("/api/v1/learning/abilities/plans/{teacher_id}/role", w),
        json={"project_id": w.ids["project"], "role": "workshop_leader"},
    )


@case("POST /api/v1/learning/abilities/certifications")
async def _certify(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/learning/abilities/certifications",
        json={
            "project_id": w.ids["project"],
            "item_kind": "point",
            "item_code": "A3",
            "description": "演示文稿设计与制作",
            "materials": [{"kind": "link", "url": "https://v.example.cn/lesson/1"}],
        },
    )


@case("GET /api/v1/learning/abilities/certifications")
async def _certifications(w: World, actor: str) -> Req:
    return Req(
        "GET", "/api/v1/learning/abilities/certifications", params={"project_id": w.ids["project"]}
    )


@case("GET /api/v1/learning/abilities/certifications/{certification_id}")
async def _certification(w: World, actor: str) -> Req:
    return Req("GET", f"/api/v1/learning/abilities/certifications/{uuid.uuid4()}")


@case("POST /api/v1/learning/abilities/certifications/{certification_id}/assessment")
async def _assess(w: World, actor: str) -> Req:
    return Req(
        "POST",
        f"/api/v1/learning/abilities/certifications/{uuid.uuid4()}/assessment",
        json={"attempt": 1, "outcome": "pass"},
    )


@case("POST /api/v1/learning/providers")
async def _provider(w: World, actor: str) -> Req:
    return Req(
        "POST", "/api/v1/learning/providers", json={"code": unique("mxp-"), "name": "新平台"}
    )


@case("DELETE /api/v1/learning/providers/{provider_id}/keys/{key_id}")
async def _revoke_key(w: World, actor: str) -> Req:
    # A provider of its own: a provider holds only a few live keys at a time.
    made = await w.call(
        "province", "POST", "/api/v1/learning/providers", json=(await _provider(w, actor)).json
    )
    key = await w.call("province", "POST", f"/api/v1/learning/providers/{made['id']}/keys")
    return Req("DELETE", f"/api/v1/learning/providers/{made['id']}/keys/{key['key_id']}")


def completion(w: World) -> dict[str, Any]:
    return {
        "event_id": unique("matrix-evt-"),
        "teacher_id": w.teachers["T1"],
        "project_id": w.ids["project"],
        "course": {"code": w.ids["course_subject_code"]},
        # an hour ago: a fixed time of today is still in the future early in Beijing's morning
        "completed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    }


@case("POST /api/v1/learning/providers/{provider_id}/completions")
async def _completion(w: World, actor: str) -> Req:
    return Req(
        "POST", fill("/api/v1/learning/providers/{provider_id}/completions", w), json=completion(w)
    )


@case("POST /api/v1/learning/providers/{provider_id}/completions/batch")
async def _completions(w: World, actor: str) -> Req:
    return Req(
        "POST",
        fill("/api/v1/learning/providers/{provider_id}/completions/batch", w),
        json={"completions": [completion(w)]},
    )


@case("DELETE /api/v1/learning/providers/{provider_id}/completions/{event_id}")
async def _withdraw_completion(w: World, actor: str) -> Req:
    body = completion(w)
    own = w.providers["provider_own"]
    r = await w.signed(
        "provider_own", "POST", f"/api/v1/learning/providers/{own.id}/completions", body
    )
    assert r.status_code in (200, 201), r.text
    return Req(
        "DELETE",
        fill(
            "/api/v1/learning/providers/{provider_id}/completions/{event_id}",
            w,
            event_id=body["event_id"],
        ),
    )


def statement(w: World, statement_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://yanxiu.example", "name": w.teachers["T1"]},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"zh-CN": "完成"}},
        "object": {
            "objectType": "Activity",
            "id": f"https://yanxiu.example/courses/{w.ids['course_subject_code']}",
        },
        "timestamp": datetime.now(UTC).isoformat(),
    }
    if statement_id:
        body["id"] = statement_id
    return body


@case("POST /api/v1/learning/xapi/statements")
async def _xapi_post(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/learning/xapi/statements",
        json=statement(w),
        headers={"X-Experience-API-Version": "1.0.3"},
    )


@case("PUT /api/v1/learning/xapi/statements")
async def _xapi_put(w: World, actor: str) -> Req:
    sid = str(uuid.uuid4())
    return Req(
        "PUT",
        f"/api/v1/learning/xapi/statements?statementId={sid}",
        json=statement(w, sid),
        headers={"X-Experience-API-Version": "1.0.3"},
    )


@case("GET /api/v1/learning/xapi/statements")
async def _xapi_get(w: World, actor: str) -> Req:
    return Req(
        "GET", "/api/v1/learning/xapi/statements", headers={"X-Experience-API-Version": "1.0.3"}
    )


@case("GET /api/v1/learning/xapi/mappings")
async def _xapi_mappings(w: World, actor: str) -> Req:
    return Req(
        "GET", "/api/v1/learning/xapi/mappings", headers={"X-Experience-API-Version": "1.0.3"}
    )


def account_link(w: World, actor: str) -> dict[str, Any]:
    """A link of a fresh agent to T1: a write's signature covers its body (no replay)."""
    return {"agent": {"mbox": f"mailto:{unique(actor)}@school.cn"}, "teacher_id": w.teachers["T1"]}


@case("PUT /api/v1/learning/xapi/links")
async def _xapi_link(w: World, actor: str) -> Req:
    return Req("PUT", "/api/v1/learning/xapi/links", json=account_link(w, actor))


@case("GET /api/v1/learning/xapi/links")
async def _xapi_links(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/learning/xapi/links")


@case("DELETE /api/v1/learning/xapi/links")
async def _xapi_unlink(w: World, actor: str) -> Req:
    """The caller's own link, made first (a key asked about another's agent gets a 404)."""
    body = account_link(w, actor)
    if actor in w.providers:
        r = await w.signed(actor, "PUT", "/api/v1/learning/xapi/links", body)
        assert r.status_code == 200, r.text
    return Req(
        "DELETE",
        "/api/v1/learning/xapi/links",
        params={"agent": json.dumps(body["agent"])},
    )


XAPI_DOCS = {
    "activities/state": {
        "activityId": "https://yanxiu.example/xapi/courses/SD-ETH-01",
        "agent": '{"mbox": "mailto:li@school.cn"}',
        "stateId": "bookmark",
    },
    "activities/profile": {
        "activityId": "https://yanxiu.example/xapi/courses/SD-ETH-01",
        "profileId": "notes",
    },
    "agents/profile": {"agent": '{"mbox": "mailto:li@school.cn"}', "profileId": "notes"},
}


def _xapi_document_case(method: str, resource: str) -> None:
    async def build(w: World, actor: str) -> Req:
        headers = {"X-Experience-API-Version": "1.0.3"}
        if method == "PUT":
            headers["If-None-Match"] = "*"
        # A write's signature covers its body: each case sends its own (no replay across cells).
        body = {"page": 3, "case": f"{method} {resource} {actor}"}
        params = dict(XAPI_DOCS[resource])
        if method == "GET":  # the ids of the scope (a missing document would be a 404)
            params.pop("stateId", None)
            params.pop("profileId", None)
        return Req(
            method,
            f"/api/v1/learning/xapi/{resource}",
            params=params,
            json=body if method in ("PUT", "POST") else None,
            headers=headers,
        )

    case(f"{method} /api/v1/learning/xapi/{resource}")(build)


for _resource in XAPI_DOCS:
    for _method in ("PUT", "POST", "GET", "DELETE"):
        _xapi_document_case(_method, _resource)


@case("GET /api/v1/learning/xapi/activities")
async def _xapi_activity(w: World, actor: str) -> Req:
    return Req(
        "GET",
        "/api/v1/learning/xapi/activities",
        params={"activityId": "https://yanxiu.example/xapi/courses/SD-ETH-01"},
        headers={"X-Experience-API-Version": "1.0.3"},
    )


@case("GET /api/v1/learning/xapi/agents")
async def _xapi_agent(w: World, actor: str) -> Req:
    return Req(
        "GET",
        "/api/v1/learning/xapi/agents",
        params={"agent": '{"mbox": "mailto:li@school.cn"}'},
        headers={"X-Experience-API-Version": "1.0.3"},
    )


# --- credits ---------------------------------------------------------------------------------


@case("GET /api/v1/credits/ledger/{teacher_id}/balance")
async def _balance(w: World, actor: str) -> Req:
    return Req(
        "GET", fill("/api/v1/credits/ledger/{teacher_id}/balance", w), params={"year": _year()}
    )


@case("POST /api/v1/credits/ledger/{teacher_id}/reversals")
async def _reversal(w: World, actor: str) -> Req:
    return Req(
        "POST",
        fill("/api/v1/credits/ledger/{teacher_id}/reversals", w),
        json={"entry_id": w.ids["ledger_entry"], "reason": "矩阵冲正"},
    )


def _totals(w: World, suffix: str) -> Req:
    return Req(
        "GET",
        f"/api/v1/credits/reports/totals{suffix}",
        params={"level": "school", "parent": COUNTY_A, "year": _year()},
    )


@case("GET /api/v1/credits/reports/totals")
async def _report(w: World, actor: str) -> Req:
    return _totals(w, "")


@case("GET /api/v1/credits/reports/totals.xlsx")
async def _report_xlsx(w: World, actor: str) -> Req:
    return _totals(w, ".xlsx")


@case("POST /api/v1/credits/records")
async def _record(w: World, actor: str) -> Req:
    return Req("POST", "/api/v1/credits/records", json=record_body(w))


@case("POST /api/v1/credits/records/batch")
async def _records(w: World, actor: str) -> Req:
    return Req("POST", "/api/v1/credits/records/batch", json={"records": [record_body(w)]})


@case("GET /api/v1/credits/records")
async def _record_list(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/credits/records", params={"teacher_id": w.teachers["T1"]})


@case("PATCH /api/v1/credits/records/{record_id}")
async def _correct(w: World, actor: str) -> Req:
    return Req(
        "PATCH", fill("/api/v1/credits/records/{record_id}", w), json={"training_name": "更正名称"}
    )


@case("POST /api/v1/credits/records/{record_id}/review")
async def _review_record(w: World, actor: str) -> Req:
    return Req(
        "POST", fill("/api/v1/credits/records/{record_id}/review", w), json={"decision": "pass"}
    )


@case("POST /api/v1/credits/records/{record_id}/approval")
async def _approve_record(w: World, actor: str) -> Req:
    return Req(
        "POST", fill("/api/v1/credits/records/{record_id}/approval", w), json={"decision": "pass"}
    )


@case("POST /api/v1/credits/certificates")
async def _certificate(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/credits/certificates",
        json={"year": _year(), "teacher_id": w.teachers["T1"]},
    )


@case("GET /api/v1/credits/certificates")
async def _certificates(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/credits/certificates", params={"teacher_id": w.teachers["T1"]})


# --- lessons ---------------------------------------------------------------------------------


@case("POST /api/v1/lessons/lessons")
async def _lesson(w: World, actor: str) -> Req:
    return Req("POST", "/api/v1/lessons/lessons", json=lesson_body(unique("新课例")))


@case("GET /api/v1/lessons/lessons")
async def _lessons(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/lessons/lessons", params={"school_id": w.schools["A1"]})


@case("PATCH /api/v1/lessons/lessons/{lesson_id}")
async def _patch_lesson(w: World, actor: str) -> Req:
    return Req(
        "PATCH", fill("/api/v1/lessons/lessons/{lesson_id}", w), json={"national_platform_no": "N1"}
    )


@case("POST /api/v1/lessons/lessons/{lesson_id}/promotions")
async def _promote(w: World, actor: str) -> Req:
    level = {
        "school_admin": "school",
        "school_admin_other": "school",
        "county_admin": "county",
        "county_admin_other": "county",
        "city_admin": "city",
        "city_admin_other": "city",
        "province": "province",
    }.get(actor, "school")
    return Req(
        "POST", fill("/api/v1/lessons/lessons/{lesson_id}/promotions", w), json={"level": level}
    )


@case("POST /api/v1/lessons/lessons/{lesson_id}/award")
async def _award(w: World, actor: str) -> Req:
    return Req(
        "POST", fill("/api/v1/lessons/lessons/{lesson_id}/award", w), json={"award": "first"}
    )


@case("GET /api/v1/lessons/quotas")
async def _quotas(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/lessons/quotas", params={"year": 2020})


@case("GET /api/v1/lessons/scores")
async def _scores(w: World, actor: str) -> Req:
    return Req(
        "GET",
        "/api/v1/lessons/scores",
        params={"year": _year(), "stage": "primary", "subject": "语文"},
    )


@case("GET /api/v1/lessons/exports/city-summary")
async def _city_summary(w: World, actor: str) -> Req:
    return Req(
        "GET", "/api/v1/lessons/exports/city-summary", params={"year": _year(), "city_id": CITY_A}
    )


@case("POST /api/v1/lessons/allocations", late=True)
async def _allocate(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/lessons/allocations",
        json={"project_id": w.ids["project"], "reviews_per_teacher": 1, "seed": 7},
    )


@case("GET /api/v1/lessons/assignments")
async def _assignments(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/lessons/assignments", params={"teacher_id": w.teachers["T2"]})


@case("POST /api/v1/lessons/reviews")
async def _review(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/lessons/reviews",
        json={
            "assignment_id": w.ids["assignment"],
            "scores": w.rubric,
            "comment": "很好的一节课。",
        },
    )


@case("GET /api/v1/lessons/reviews")
async def _reviews(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/lessons/reviews", params={"lesson_id": w.ids["lesson"]})


@case("POST /api/v1/lessons/reviews/{review_id}/revoke")
async def _revoke_review(w: World, actor: str) -> Req:
    return Req(
        "POST", fill("/api/v1/lessons/reviews/{review_id}/revoke", w), json={"reason": "矩阵作废"}
    )


@case("POST /api/v1/lessons/lessons/{lesson_id}/flags")
async def _flag(w: World, actor: str) -> Req:
    return Req(
        "POST", fill("/api/v1/lessons/lessons/{lesson_id}/flags", w), json={"reason": "疑似摆拍"}
    )


# --- gateway ---------------------------------------------------------------------------------


@case("POST /api/v1/auth/token")
async def _token(w: World, actor: str) -> Req:
    from tests.province.world import PASSWORD

    return Req(
        "POST",
        "/api/v1/auth/token",
        json={"username": "teacher_colleague", "password": PASSWORD},
        bare=True,
    )


@case("POST /api/v1/auth/accounts")
async def _account(w: World, actor: str) -> Req:
    return Req(
        "POST",
        "/api/v1/auth/accounts",
        json={
            "username": unique("acct-"),
            "password": "矩阵-Passw0rd-1",
            "role": "school_admin",
            "org_path": [PROVINCE, CITY_A, COUNTY_A, w.schools["A1"]],
            "name": "新校管理员",
        },
    )


async def _fresh_refresh_token(w: World) -> str:
    from tests.province.world import PASSWORD

    r = await w.client.post(
        "/api/v1/auth/token", json={"username": "teacher_colleague", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["refresh_token"])


@case("POST /api/v1/auth/refresh")
async def _refresh(w: World, actor: str) -> Req:
    token = await _fresh_refresh_token(w)
    return Req("POST", "/api/v1/auth/refresh", json={"refresh_token": token}, bare=True)


@case("POST /api/v1/auth/logout")
async def _logout(w: World, actor: str) -> Req:
    token = await _fresh_refresh_token(w)
    return Req("POST", "/api/v1/auth/logout", json={"refresh_token": token}, bare=True)


@case("GET /api/v1/auth/accounts")
async def _accounts(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/auth/accounts", params={"org": w.schools["A1"]})


@case("PATCH /api/v1/auth/accounts/{account_id}")
async def _patch_account(w: World, actor: str) -> Req:
    return Req("PATCH", fill("/api/v1/auth/accounts/{account_id}", w), json={"name": "王本人"})


# --- learning: held completions (late completions waiting for an admin) ----------------------


async def _held_completion(w: World) -> str:
    """A fresh held completion of T1: the project's rules switched (once) to hold late
    completions, the learning window closed yesterday, and a provider reports one dated now.
    Late: the rules stay changed for whatever is asked after it."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from tests.province.world import around_today

    if not w.ids.get("rules_hold"):
        yesterday = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)
        windows = {name: around_today() for name in ("selection", "subject_required")}
        windows["learning"] = {
            "opens": (yesterday - timedelta(days=30)).isoformat(),
            "closes": yesterday.isoformat(),
        }
        await w.call(
            "province",
            "PUT",
            f"/api/v1/learning/projects/{w.ids['project']}/rules",
            json={
                "year": date.today().year,
                "rule_set": "shandong-2023",
                "windows": windows,
                "late_completions": "hold",
            },
        )
        w.ids["rules_hold"] = "yes"
    own = w.providers["provider_own"]
    body = {**completion(w), "completed_at": datetime.now(UTC).isoformat()}
    r = await w.signed(
        "provider_own", "POST", f"/api/v1/learning/providers/{own.id}/completions", body
    )
    assert r.status_code == 201 and r.json()["status"] == "held", r.text
    return str(r.json()["attempt_id"])


@case("GET /api/v1/learning/completions/held")
async def _held(w: World, actor: str) -> Req:
    return Req("GET", "/api/v1/learning/completions/held", params={"project_id": w.ids["project"]})


@case("POST /api/v1/learning/completions/held/{attempt_id}/decision", late=True)
async def _decide_held(w: World, actor: str) -> Req:
    attempt = await _held_completion(w)
    return Req(
        "POST",
        f"/api/v1/learning/completions/held/{attempt}/decision",
        json={"decision": "accept", "reason": "经核实补报 verified late report"},
    )


def _dlq_case(service: str, action: str) -> None:
    """Replaying or dropping a letter the topic does not hold: answered with it as missing."""
    body: dict[str, Any] = {"items": [{"partition": 0, "offset": 0}]}
    if action == "drop":
        body["reason"] = "权限矩阵 authorization matrix"

    async def build_it(w: World, actor: str) -> Req:
        return Req("POST", f"/api/v1/{service}/dlq/{action}", json=body)

    case(f"POST /api/v1/{service}/dlq/{action}")(build_it)


for _service in ("enrollment", "learning", "credits", "lessons", "insights"):
    for _action in ("replay", "drop"):
        _dlq_case(_service, _action)
