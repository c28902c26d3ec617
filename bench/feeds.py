"""What the wrk runs of bench.api_paths and bench.deadline_day send: a feed gives one wrk run
its script and arguments, directly on a service (`prefix` "") or through the gateway
(`prefix` "/api/v1/<service>"), and learns afterwards how many requests the run generated.

Reads rotate through a fixed set of requests (every sampled teacher with their own token, say).
Writes must not repeat what the platform refuses twice (a course selected, an assignment
reviewed, a provider's signature, an ID number), so a write pool hands each run the next unused
items, sized for the run (`room`), and moves past every item the run generated. Provider
completions are signed when their run is prepared (the signature's timestamp must be within
the server's replay window, five minutes)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from bench.loadgen import Request, bearer, write_requests
from bench.platform import Platform
from bench.seeding import VIDEO_SECONDS
from learning.providers.signing import sign_headers


class Feed(Protocol):
    script: str

    def options(self, prefix: str, room: int) -> dict[str, str]: ...

    def used(self, items: int) -> None: ...

    def left(self) -> int | None:
        """Items left (None: no end)."""
        ...


def _file(work: Path, name: str) -> Path:
    return work / f"{name}-{uuid.uuid4().hex[:8]}.tsv"


@dataclass
class Rotation:
    """The same requests, round and round (reads; the floor)."""

    name: str
    work: Path
    make: Callable[[str], list[Request]]
    script: str = "lines.lua"
    _files: dict[str, Path] = field(default_factory=dict)

    def options(self, prefix: str, room: int) -> dict[str, str]:
        if prefix not in self._files:
            self._files[prefix] = write_requests(_file(self.work, self.name), self.make(prefix))
        return {"file": str(self._files[prefix])}

    def used(self, items: int) -> None:
        pass

    def left(self) -> int | None:
        return None


@dataclass
class Pool:
    """Items 0 … total-1 (or without end), each sent at most once over the whole benchmark."""

    name: str
    work: Path
    make: Callable[[int, str], Request]  # item number, prefix
    total: int | None
    script: str = "lines.lua"
    cursor: int = 0

    def options(self, prefix: str, room: int) -> dict[str, str]:
        if self.total == 0:
            raise RuntimeError(f"{self.name}: nothing to send (an empty pool)")
        end = self.cursor + room if self.total is None else min(self.total, self.cursor + room)
        # An exhausted pool still sends (its last item, refused): the report shows non-2xx.
        items = range(self.cursor, end) if end > self.cursor else range(end - 1, end)
        requests = [self.make(k, prefix) for k in items]
        return {"file": str(write_requests(_file(self.work, self.name), requests))}

    def used(self, items: int) -> None:
        self.cursor += items

    def left(self) -> int | None:
        return None if self.total is None else max(0, self.total - self.cursor)


@dataclass
class NewTeachers:
    """教师信息采集 by the school admin (bench/wrk/teacher.lua makes the ID numbers)."""

    token: str
    school_id: str
    region: str = "370199"  # not a region of the seeded teachers' ID numbers
    script: str = "teacher.lua"
    cursor: int = 0

    def options(self, prefix: str, room: int) -> dict[str, str]:
        return {
            "token": self.token,
            "school": self.school_id,
            "path": f"{prefix}/teachers",
            "start": str(self.cursor),
            "region": self.region,
        }

    def used(self, items: int) -> None:
        self.cursor += items

    def left(self) -> int | None:
        return None


@dataclass
class Heartbeats:
    """Every sampled teacher plays the video at real speed (bench/wrk/heartbeat.lua), with a
    device session of its own per run."""

    tokens: Path
    course_id: uuid.UUID
    project_id: uuid.UUID
    script: str = "heartbeat.lua"

    def options(self, prefix: str, room: int) -> dict[str, str]:
        return {
            "file": str(self.tokens),
            "run": f"wrk-{uuid.uuid4().hex[:10]}",
            "course": str(self.course_id),
            "project": str(self.project_id),
            "path": f"{prefix}/progress",
            "video": str(VIDEO_SECONDS),
        }

    def used(self, items: int) -> None:
        pass

    def left(self) -> int | None:
        return None


# --- the feeds both benchmarks use --------------------------------------------------------------


def floor_read(p: Platform) -> Rotation:
    return Rotation("floor-read", p.work, lambda _: [Request("GET", "/heartbeat/1")])


def floor_write(p: Platform) -> Rotation:
    # The body of the floor's own write.lua.
    body = '{"teacher_id": 1, "course_id": 2, "position": 30}'
    return Rotation("floor-write", p.work, lambda _: [Request("POST", "/heartbeat", body=body)])


def heartbeats(p: Platform) -> Heartbeats:
    tokens = p.work / "heartbeat-tokens.txt"
    tokens.write_text("".join(f"{t.token}\n" for t in p.sample))
    return Heartbeats(tokens, p.seeded.video_course, p.seeded.project_id)


def completions(p: Platform) -> Pool:
    """第三方机构回传课程完成: event k is the sampled teacher k % n completing elective k // n
    (once each counts; later ones are answered `already_counted`), signed with the provider's
    key when its run is prepared."""
    s = p.seeded
    run = uuid.uuid4().hex[:8]
    n = len(p.sample)

    def make(k: int, prefix: str) -> Request:
        body = json.dumps(
            {
                "event_id": f"bench-{run}-{k}",
                "teacher_id": str(p.sample[k % n].id),
                "project_id": str(s.project_id),
                "course": {"id": str(s.electives[(k // n) % len(s.electives)])},
                "completed_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
                "score": 90,
            },
            separators=(",", ":"),
        )
        now = int(datetime.now(UTC).timestamp())
        headers = sign_headers(s.provider_key_id, s.provider_secret, body.encode(), timestamp=now)
        return Request("POST", f"{prefix}/providers/{s.provider_id}/completions", headers, body)

    return Pool("completions", p.work, make, total=None)


def sign_ins(p: Platform) -> Rotation:
    """Sampled teachers signing in with their password (argon2id on the gateway)."""

    def make(_: str) -> list[Request]:
        return [
            Request(
                "POST",
                "/api/v1/auth/token",
                body=json.dumps({"username": t.username, "password": p.password}),
            )
            for t in p.sample
        ]

    return Rotation("sign-in", p.work, make)


def as_teachers(
    p: Platform, name: str, path: Callable[[uuid.UUID], str], *, limit: int | None = None
) -> Rotation:
    """GET `path(teacher)` by each sampled teacher with their own token."""
    teachers = p.sample[:limit] if limit else p.sample
    return Rotation(
        name,
        p.work,
        lambda prefix: [Request("GET", prefix + path(t.id), bearer(t.token)) for t in teachers],
    )
