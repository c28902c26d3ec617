"""Event contracts: frozen payloads, committed schema snapshots that only grow."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from yanxiu.contracts.enrollment import TeacherRegistered
from yanxiu.contracts.envelope import Envelope, OrgPath
from yanxiu.contracts.registry import REGISTRY, all_events
from yanxiu.contracts.schemas import (
    SNAPSHOT_DIR,
    asyncapi_document,
    event_schema,
    incompatibilities,
    platform_roles,
    snapshot_name,
)
from yanxiu.devstack.paths import repo_root


def registered() -> TeacherRegistered:
    return TeacherRegistered(
        registration_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        project_year=2023,
        teacher_id=uuid.uuid4(),
        teacher_name="张老师",
        stage="primary",
        subject="语文",
        is_rural=True,
        org=OrgPath(province_id="370000", city_id="370100", county_id="370102", school_id="s1"),
        registered_at=datetime.now(UTC),
    )


@pytest.mark.parametrize("cls", all_events(), ids=lambda c: c.TYPE)
def test_every_event_matches_its_committed_schema_snapshot(cls: type) -> None:
    path = SNAPSHOT_DIR / snapshot_name(cls)
    assert path.exists(), f"no snapshot for {cls}: run python -m yanxiu.contracts.schemas"
    old = json.loads(path.read_text())
    assert incompatibilities(old, event_schema(cls)) == []


def test_removing_a_field_or_adding_a_required_one_is_incompatible() -> None:
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}, "c": {"type": "string"}}, "required": ["a", "c"]}
    assert incompatibilities(old, new) == ["b: removed", "c: now required"]


def test_adding_an_optional_field_is_compatible() -> None:
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    assert incompatibilities(old, new) == []


def test_event_payloads_are_frozen() -> None:
    event = registered()
    with pytest.raises(ValidationError):
        event.subject = "数学"  # type: ignore[misc]


def test_envelope_round_trips_and_carries_the_teachers_org_path() -> None:
    event = registered()
    env = event.envelope(producer="enrollment", trace_id="abc")
    back = Envelope.model_validate_json(env.model_dump_json())
    assert back.key == str(event.teacher_id)
    assert TeacherRegistered.model_validate(back.data) == event
    assert back.data["org"]["county_id"] == "370102"


def test_event_types_are_registered_once_per_version() -> None:
    assert len(REGISTRY) == len(all_events())


def test_published_asyncapi_document_is_current() -> None:
    doc = json.loads((repo_root() / "docs" / "asyncapi.json").read_text())
    assert doc == json.loads(json.dumps(asyncapi_document(*platform_roles()))), (
        "docs/asyncapi.json is stale: run python -m yanxiu.contracts.schemas"
    )


def test_asyncapi_says_who_publishes_and_who_consumes_each_topic() -> None:
    doc = asyncapi_document(*platform_roles())
    ops = doc["operations"]
    sends = {
        op["channel"]["$ref"].rsplit("/", 1)[1]: op["x-service"]
        for op in ops.values()
        if op["action"] == "send"
    }
    assert sends == {
        "credits.events.v1": "credits",
        "enrollment.events.v1": "enrollment",
        "learning.events.v1": "learning",
        "lessons.events.v1": "lessons",
    }
    groups = {
        op["bindings"]["kafka"]["groupId"]["enum"][0]
        for op in ops.values()
        if op["action"] == "receive"
    }
    assert {
        "learning.enrollment",
        "lessons.enrollment",
        "credits.upstream",
        "gateway.accounts",
    } <= groups
    accounts = ops["gateway.accounts.receive.enrollment.events.v1"]
    assert [m["$ref"].rsplit("/", 1)[1] for m in accounts["messages"]] == [
        "enrollment.teacher_departed.v1",
        "enrollment.teacher_transferred.v1",
    ]
    for op in ops.values():  # every message an operation names is on its channel
        channel = doc["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]
        for m in op["messages"]:
            assert m["$ref"].rsplit("/", 1)[1] in channel["messages"]
    assert {s["protocol"] for s in doc["servers"].values()} == {"kafka"}


def test_every_message_has_its_description_and_kafka_key() -> None:
    doc = asyncapi_document()
    for cls in all_events():
        message = doc["components"]["messages"][f"{cls.TYPE}.v{cls.VERSION}"]
        assert len(message["description"]) > 20 and message["summary"], cls.TYPE
        assert not message["description"].startswith("type:"), cls.TYPE
        key = message["bindings"]["kafka"]["key"]
        assert key["type"] == "string" and f"data.{cls.KEY_FIELD}" in key["description"]
    registered = doc["components"]["messages"]["enrollment.teacher_registered.v1"]
    assert registered["bindings"]["kafka"]["key"]["format"] == "uuid"
    assert "项目报名" in registered["description"]
