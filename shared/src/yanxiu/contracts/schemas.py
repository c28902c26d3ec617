"""JSON Schema of every event, committed snapshots, and the AsyncAPI document.

`python -m yanxiu.contracts.schemas` rewrites the snapshots in `schemas/` and
`docs/asyncapi.json`; a test fails when a model stops accepting what its snapshot accepted.
The rule they check is in docs/events.md: within a version fields are only added, optional,
and readers ignore what they do not know, so every published object is open (no
`additionalProperties: false`, though the models refuse unknown fields when a producer builds
an event).
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yanxiu.contracts.envelope import Envelope, Event
from yanxiu.contracts.registry import all_events

SNAPSHOT_DIR = Path(__file__).parent / "schemas"


def snapshot_name(cls: type[Event]) -> str:
    return f"{cls.TYPE}.v{cls.VERSION}.json"


def open_objects(schema: Any) -> Any:
    """`schema` without `additionalProperties: false` anywhere: a reader generated from it
    must accept the fields a later producer of the same version adds."""
    if isinstance(schema, dict):
        return {
            k: open_objects(v)
            for k, v in schema.items()
            if not (k == "additionalProperties" and v is False)
        }
    if isinstance(schema, list):
        return [open_objects(v) for v in schema]
    return schema


def closed_objects(schema: Any, path: str = "") -> list[str]:
    """Where `schema` refuses unknown fields (what `open_objects` removes)."""
    found: list[str] = []
    if isinstance(schema, dict):
        if schema.get("additionalProperties") is False:
            found.append(path or "(root)")
        for k, v in schema.items():
            found.extend(closed_objects(v, f"{path}.{k}" if path else k))
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            found.extend(closed_objects(v, f"{path}[{i}]"))
    return found


def envelope_schema() -> dict[str, Any]:
    schema: dict[str, Any] = open_objects(Envelope.model_json_schema())
    return schema


def event_schema(cls: type[Event]) -> dict[str, Any]:
    schema: dict[str, Any] = open_objects(cls.model_json_schema(mode="serialization"))
    schema["title"] = cls.TYPE
    schema["x-version"] = cls.VERSION
    schema["x-topic"] = cls.TOPIC
    schema["x-key"] = cls.KEY_FIELD
    return schema


def incompatibilities(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """What a consumer of `old` would trip over in `new`: removed or retyped fields (a new
    enum value is a retyping: an older reader refuses it), fields that became required (a
    newer reader would refuse older events, still in the broker or replayed from an outbox),
    and objects that became closed to unknown fields. Adding optional fields is fine: readers
    ignore what they do not know."""
    problems: list[str] = []
    if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
        problems.append(f"{path or '(root)'}: closed to unknown fields")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, spec in old_props.items():
        if name not in new_props:
            problems.append(f"{path}{name}: removed")
            continue
        for key in ("type", "format", "$ref", "enum", "const"):
            if spec.get(key) != new_props[name].get(key):
                problems.append(
                    f"{path}{name}: {key} {spec.get(key)!r} -> {new_props[name].get(key)!r}"
                )
    added_required = set(new.get("required", [])) - set(old.get("required", []))
    problems.extend(f"{path}{n}: now required" for n in sorted(added_required))
    for name, sub in old.get("$defs", {}).items():
        if name in new.get("$defs", {}):
            problems.extend(incompatibilities(sub, new["$defs"][name], f"{path}{name}."))
        else:
            problems.append(f"{path}$defs.{name}: removed")
    return problems


# AsyncAPI ---------------------------------------------------------------------------------
KAFKA_BINDING = "0.5.0"
SERVICES = ("enrollment", "learning", "credits", "lessons", "insights")


@dataclass(frozen=True)
class Producer:
    """A service publishing a topic (its ServiceSpec's `produces`; the outbox relay sends)."""

    service: str
    topic: str


@dataclass(frozen=True)
class Consumer:
    """A consumer group reading a topic, with the event types and versions it handles."""

    service: str
    group: str
    topic: str
    events: tuple[tuple[str, int], ...]


def platform_roles() -> tuple[list[Producer], list[Consumer]]:
    """Who publishes and who consumes each topic, read from each service's ServiceSpec and the
    gateway's subscribers. Imported by name: the contracts do not depend on the services."""
    from yanxiu.kit.consumer import Subscriber

    declared: list[tuple[str, list[str], list[Subscriber]]] = []
    for service in SERVICES:
        spec = importlib.import_module(f"{service}.main").SPEC
        declared.append((service, list(spec.produces), list(spec.subscribers)))
    gateway = importlib.import_module("gateway.consumers")
    subscribers = [v for v in vars(gateway).values() if isinstance(v, Subscriber)]
    declared.append(("gateway", [], subscribers))
    producers = [Producer(service, topic) for service, topics, _ in declared for topic in topics]
    consumers = [
        Consumer(service, sub.group, topic, tuple(sorted(sub.handlers)))
        for service, _, subs in declared
        for sub in subs
        for topic in sub.topics
    ]
    return producers, consumers


def message_name(cls: type[Event]) -> str:
    return f"{cls.TYPE}.v{cls.VERSION}"


def described(cls: type[Event]) -> str:
    """What the fact is, as its declaration says: its docstring, else the comment block above
    the class (`# type: …  key: …` then the description, as every contract is declared)."""
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    if doc:
        return doc
    lines = [
        line.removeprefix("#").strip() for line in (inspect.getcomments(cls) or "").splitlines()
    ]
    lines = [line for line in lines if line and not line.startswith("type:")]
    return " ".join(lines)


def _summary(text: str) -> str:
    """The first sentence."""
    for end in (". ", "。"):
        if end in text:
            return text.split(end, 1)[0] + end.strip()
    return text


def _key_schema(cls: type[Event]) -> dict[str, Any]:
    field = event_schema(cls).get("properties", {}).get(cls.KEY_FIELD, {})
    schema = {k: v for k, v in field.items() if k in ("type", "format")} or {"type": "string"}
    schema["description"] = (
        f"The partition key: data.{cls.KEY_FIELD} (also the envelope's `key`), so that the "
        f"events of one {cls.KEY_FIELD.removesuffix('_id')} stay in order"
    )
    return schema


def _message(cls: type[Event]) -> dict[str, Any]:
    text = described(cls)
    message: dict[str, Any] = {
        "name": message_name(cls),
        "title": cls.TYPE,
        "summary": _summary(text),
        "description": text,
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "const": cls.TYPE, "description": "The event type"},
                "traceparent": {
                    "type": "string",
                    "description": "W3C trace context of the request that wrote the event",
                },
            },
        },
        "correlationId": {
            "description": "The trace id of the request that wrote the event",
            "location": "$message.payload#/trace_id",
        },
        "payload": {
            **envelope_schema(),
            "properties": {**envelope_schema()["properties"], "data": event_schema(cls)},
        },
        "bindings": {"kafka": {"key": _key_schema(cls), "bindingVersion": KAFKA_BINDING}},
        "x-key-field": cls.KEY_FIELD,
    }
    return message


def asyncapi_document(
    producers: Sequence[Producer] = (), consumers: Sequence[Consumer] = ()
) -> dict[str, Any]:
    """Every event in its envelope, by topic, with who publishes and who consumes each
    (`platform_roles()` for the platform's own)."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    known: dict[tuple[str, int], str] = {}
    for cls in all_events():
        name = message_name(cls)
        messages[name] = _message(cls)
        known[(cls.TYPE, cls.VERSION)] = name
        channel = channels.setdefault(
            cls.TOPIC,
            {
                "address": cls.TOPIC,
                "title": cls.TOPIC,
                "messages": {},
                "bindings": {"kafka": {"topic": cls.TOPIC, "bindingVersion": KAFKA_BINDING}},
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}

    def ref(topic: str, name: str) -> dict[str, str]:
        return {"$ref": f"#/channels/{topic}/messages/{name}"}

    operations: dict[str, Any] = {}
    for p in producers:
        if p.topic not in channels:
            continue  # a topic no event is declared on yet
        operations[f"{p.service}.publish.{p.topic}"] = {
            "action": "send",
            "title": f"{p.service} publishes {p.topic}",
            "summary": f"The {p.service} service's outbox relay, keyed by each event's key field",
            "channel": {"$ref": f"#/channels/{p.topic}"},
            "messages": [ref(p.topic, name) for name in channels[p.topic]["messages"]],
            "x-service": p.service,
        }
    for c in consumers:
        on_topic = channels.get(c.topic, {}).get("messages", {})
        handled = [known[e] for e in c.events if known.get(e) in on_topic]
        if not handled:
            continue
        operations[f"{c.group}.receive.{c.topic}"] = {
            "action": "receive",
            "title": f"{c.service} consumes {c.topic} (group {c.group})",
            "summary": "Other types on the topic are skipped; unknown versions are dead-lettered "
            f"to {c.service}.dlq.v1",
            "channel": {"$ref": f"#/channels/{c.topic}"},
            "messages": [ref(c.topic, name) for name in handled],
            "bindings": {
                "kafka": {
                    "groupId": {"type": "string", "enum": [c.group]},
                    "bindingVersion": KAFKA_BINDING,
                }
            },
            "x-service": c.service,
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Yanxiu events",
            "version": "1.0.0",
            "description": "Every event the Yanxiu services publish, in its envelope, with the "
            "services that publish and the consumer groups that read each topic. One topic per "
            "producing service and stream; the message key is the event's key field.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "Apache Kafka (KRaft), as docker-compose.yml and deploy/ run it; "
                "processes are told KAFKA_BOOTSTRAP_SERVERS, and KAFKA_TOPIC_PREFIX prefixes "
                "every topic",
            },
            "development": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The embedded Kafka-protocol broker of `make run` (Tansu)",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def write_all(repo_docs: Path | None = None) -> list[Path]:
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    written = []
    for cls in all_events():
        path = SNAPSHOT_DIR / snapshot_name(cls)
        if not path.exists():  # snapshots are history: never overwritten
            path.write_text(json.dumps(event_schema(cls), indent=2, ensure_ascii=False) + "\n")
            written.append(path)
    if repo_docs is not None:
        doc = repo_docs / "asyncapi.json"
        text = json.dumps(asyncapi_document(*platform_roles()), indent=2, ensure_ascii=False)
        doc.write_text(text + "\n")
        written.append(doc)
    return written


if __name__ == "__main__":
    from yanxiu.devstack.paths import repo_root

    for p in write_all(repo_root() / "docs"):
        print(f"wrote {p}")
