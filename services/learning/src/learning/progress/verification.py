"""Verifying heartbeats (pure logic, no I/O): played segments, the real-time speed limit, skips
and the one-device rule. The batch calls `verify` once per heartbeat, in arrival order, on state
it holds in memory, so two heartbeats of one teacher in one batch see each other.

The rules:
- Only the teacher's current device session counts. A session never seen before takes over;
  heartbeats of a session that was taken over are refused (`device_session_superseded`).
- Real time: each teacher has one clock (for all courses, so two videos played at once cannot
  earn twice). Playback a heartbeat claims (its segments merged and clipped to the video) is
  paid from the server time elapsed since the clock's mark × `max_rate`, plus `tolerance`;
  paying moves the mark forward by what was claimed (it may run ahead of now by at most the
  tolerance, which is then owed). Unplayed time banks up to `max_bank` seconds, so the app's
  batched heartbeats, which arrive together, are paid by the minute that passed before them,
  while an idle hour cannot be cashed in. A new session starts with an empty bank. More than
  the clock allows is `playback_too_fast` and empties the bank: a 16× replay earns nothing.
  Over any interval a teacher is credited at most elapsed × max_rate + max_bank + tolerance.
- Skips: the playhead may only move forward by what the heartbeat's segments played (plus the
  tolerance). A jump beyond that (same session and course) is `seek_ahead`: the heartbeat
  earns nothing. The playhead still moves, so playing on from there counts again.
- Credit is the union of verified segments: re-watching adds nothing, skipping adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Segment = tuple[float, float]

ACCEPTED = "accepted"
SUPERSEDED = "device_session_superseded"
TOO_FAST = "playback_too_fast"
SEEK_AHEAD = "seek_ahead"
REFUSAL_REASONS = (SUPERSEDED, TOO_FAST, SEEK_AHEAD)
RETIRED_KEPT = 20


@dataclass(frozen=True)
class Limits:
    """The speed rule as data (settings): real time × `max_rate` + `tolerance` seconds."""

    max_rate: float = 1.0
    tolerance: float = 3.0
    max_bank: float = 120.0


@dataclass
class ViewerState:
    """Per teacher: the counting device session and the clock's mark (see the module doc)."""

    session_id: str | None = None
    retired: list[str] = field(default_factory=list)
    last_at: datetime | None = None


@dataclass
class CourseState:
    """Per teacher, course and project: verified segments and the playhead."""

    video_seconds: int
    segments: list[Segment] = field(default_factory=list)
    position: float = 0.0
    last_session: str | None = None
    last_at: datetime | None = None

    @property
    def watched_seconds(self) -> float:
        return covered(self.segments)


@dataclass(frozen=True)
class Verdict:
    outcome: str  # ACCEPTED or a refusal reason
    credited: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.outcome == ACCEPTED


def merge(segments: Iterable[Sequence[float]], *, length: float | None = None) -> list[Segment]:
    """Sorted, non-overlapping segments; clipped to [0, length] when given; empty ones dropped.
    Touching segments are joined."""
    clean: list[Segment] = []
    for seg in segments:
        start, end = float(seg[0]), float(seg[1])
        if length is not None:
            start, end = max(0.0, start), min(float(length), end)
        if end > start:
            clean.append((start, end))
    clean.sort()
    out: list[Segment] = []
    for start, end in clean:
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def covered(segments: Iterable[Segment]) -> float:
    """Total length of already merged segments."""
    return sum(end - start for start, end in segments)


def take_session(viewer: ViewerState, session_id: str) -> bool:
    """Applies the one-device rule; False when `session_id` was taken over by a newer one."""
    if viewer.session_id == session_id:
        return True
    if session_id in viewer.retired:
        return False
    if viewer.session_id is not None:
        viewer.retired = [viewer.session_id, *viewer.retired][:RETIRED_KEPT]
    viewer.session_id = session_id
    viewer.last_at = None  # a new device starts with an empty bank
    return True


def verify(
    viewer: ViewerState,
    course: CourseState,
    *,
    session_id: str,
    position: float,
    segments: Sequence[Sequence[float]],
    now: datetime,
    limits: Limits,
) -> Verdict:
    """Judges one heartbeat and updates both states in place."""
    if not take_session(viewer, session_id):
        return Verdict(SUPERSEDED)
    claimed = merge(segments, length=course.video_seconds)
    played = covered(claimed)
    earliest = now - timedelta(seconds=limits.max_bank)
    mark = now if viewer.last_at is None else max(viewer.last_at, earliest)
    allowed = (now - mark).total_seconds() * limits.max_rate + limits.tolerance
    position = min(max(0.0, float(position)), float(course.video_seconds))
    continuing = course.last_session == session_id

    if played > allowed:
        outcome = TOO_FAST
        viewer.last_at = max(mark, now)
    else:
        viewer.last_at = mark + timedelta(seconds=played / limits.max_rate)
        jump = position - course.position - played
        outcome = SEEK_AHEAD if continuing and jump > limits.tolerance else ACCEPTED
    course.position = position
    course.last_session = session_id
    course.last_at = now
    if outcome != ACCEPTED:
        return Verdict(outcome)
    before = course.watched_seconds
    course.segments = merge([*course.segments, *claimed])
    return Verdict(ACCEPTED, credited=course.watched_seconds - before)


def watched_enough(course: CourseState, ratio: float) -> bool:
    return (
        course.video_seconds > 0 and course.watched_seconds >= ratio * course.video_seconds - 1e-6
    )


def score(questions: Sequence[Mapping[str, object]], answers: Mapping[str, str]) -> int:
    """考核 score in percent (0–100), rounded down: correct answers over all questions."""
    if not questions:
        return 100
    right = sum(1 for q in questions if answers.get(str(q.get("id"))) == q.get("answer"))
    return right * 100 // len(questions)
