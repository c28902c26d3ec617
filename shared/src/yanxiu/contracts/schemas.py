"""JSON Schema of every event, committed snapshots, and the AsyncAPI document.

`python -m yanxiu.contracts.schemas` rewrites the snapshots in `schemas/` and
`docs/asyncapi.json`; a test fails when a model stops accepting what its snapshot accepted.
The rule they check is in docs/events.md: within a version fields are only added, optional,
and readers ignore what they do not know, so every published object is open (no
`additionalProperties: false`, though the models refuse unknown fields when a producer builds
an event).
"""

from __future__ import annotations

import json
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


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for cls in all_events():
        name = f"{cls.TYPE}.v{cls.VERSION}"
        messages[name] = {
            "name": name,
            "title": cls.TYPE,
            "summary": (cls.__doc__ or "").strip() or None,
            "contentType": "application/json",
            "payload": {
                **envelope_schema(),
                "properties": {
                    **envelope_schema()["properties"],
                    "data": event_schema(cls),
                },
            },
        }
        channel = channels.setdefault(cls.TOPIC, {"address": cls.TOPIC, "messages": {}})
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Yanxiu events",
            "version": "1.0.0",
            "description": "Every event the Yanxiu services publish, in its envelope.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
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
        doc.write_text(json.dumps(asyncapi_document(), indent=2, ensure_ascii=False) + "\n")
        written.append(doc)
    return written


if __name__ == "__main__":
    from yanxiu.devstack.paths import repo_root

    for p in write_all(repo_root() / "docs"):
        print(f"wrote {p}")
