"""Unit tests of heartbeat verification (pure logic): segments, the real-time clock, skips and
the one-device rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from learning.progress.verification import (
    ACCEPTED,
    SEEK_AHEAD,
    SUPERSEDED,
    TOO_FAST,
    CourseState,
    Limits,
    ViewerState,
    merge,
    score,
    verify,
    watched_enough,
)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
LIMITS = Limits(max_rate=1.0, tolerance=2.0, max_bank=60.0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def play(
    viewer: ViewerState,
    course: CourseState,
    when: float,
    segments: list[tuple[float, float]],
    position: float | None = None,
    session: str = "device-aaaa",
) -> str:
    pos = position if position is not None else (segments[-1][1] if segments else 0.0)
    return verify(
        viewer,
        course,
        session_id=session,
        position=pos,
        segments=segments,
        now=at(when),
        limits=LIMITS,
    ).outcome


def test_segments_merge_clip_and_drop_empty_ones() -> None:
    assert merge([(10, 20), (0, 5), (4, 8), (20, 25), (30, 30), (-5, 1)], length=22) == [
        (0.0, 8.0),
        (10.0, 22.0),
    ]


def test_real_time_playback_is_credited_as_the_union_of_segments() -> None:
    viewer, course = ViewerState(), CourseState(video_seconds=100)
    assert play(viewer, course, 0, []) == ACCEPTED
    assert play(viewer, course, 10, [(0, 10)]) == ACCEPTED
    assert play(viewer, course, 20, [(10, 20)]) == ACCEPTED
    # Re-watching earns nothing more.
    assert play(viewer, course, 30, [(0, 10)], position=10) == ACCEPTED
    assert course.watched_seconds == 20


def test_sixteen_times_speed_replay_earns_nothing() -> None:
    viewer, course = ViewerState(), CourseState(video_seconds=3600)
    assert play(viewer, course, 0, []) == ACCEPTED
    outcomes = [play(viewer, course, i * 10, [(160 * (i - 1), 160 * i)]) for i in range(1, 20)]
    assert set(outcomes) == {TOO_FAST}
    assert course.watched_seconds == 0


def test_the_first_heartbeat_of_a_session_has_no_time_to_spend() -> None:
    viewer, course = ViewerState(), CourseState(video_seconds=600)
    assert play(viewer, course, 0, [(0, 30)]) == TOO_FAST
    assert course.watched_seconds == 0


def test_batched_heartbeats_are_paid_from_the_time_that_passed_before_them() -> None:
    viewer, course = ViewerState(), CourseState(video_seconds=600)
    assert play(viewer, course, 0, []) == ACCEPTED
    # The app sends six 10-second heartbeats together, 60 s after starting.
    outcomes = [play(viewer, course, 60, [(i * 10, i * 10 + 10)]) for i in range(6)]
    assert outcomes == [ACCEPTED] * 6
    # A seventh claimed at the same instant has nothing left to pay with.
    assert play(viewer, course, 60, [(60, 70)]) == TOO_FAST
    assert course.watched_seconds == 60


def test_idle_time_banks_only_up_to_the_limit() -> None:
    viewer, course = ViewerState(), CourseState(video_seconds=3600)
    assert play(viewer, course, 0, []) == ACCEPTED
    # An hour idle, then a claim of 10 minutes: only max_bank (60 s) was banked.
    assert play(viewer, course, 3600, [(0, 600)]) == TOO_FAST
    assert course.watched_seconds == 0


def test_two_courses_share_one_clock() -> None:
    viewer = ViewerState()
    first, second = CourseState(video_seconds=600), CourseState(video_seconds=600)
    assert play(viewer, first, 0, []) == ACCEPTED
    assert play(viewer, first, 10, [(0, 10)]) == ACCEPTED
    assert play(viewer, second, 10.5, [(0, 10)]) == TOO_FAST
    assert second.watched_seconds == 0


def test_seeking_ahead_earns_nothing_and_playing_on_from_there_counts_again() -> None:
    viewer, course = ViewerState(), CourseState(video_seconds=3600)
    assert play(viewer, course, 0, []) == ACCEPTED
    assert play(viewer, course, 10, [(0, 10)]) == ACCEPTED
    # Jumped to 3000 and played 10 s there: the skip and that heartbeat earn nothing.
    assert play(viewer, course, 20, [(3000, 3010)], position=3010) == SEEK_AHEAD
    # Seeking to the end claiming nothing also earns nothing.
    assert play(viewer, course, 30, [], position=3600) == SEEK_AHEAD
    assert course.watched_seconds == 10
    assert play(viewer, course, 40, [(3590, 3600)], position=3600) == ACCEPTED
    assert course.watched_seconds == 20


def test_seeking_back_is_allowed() -> None:
    viewer, course = ViewerState(), CourseState(video_seconds=600)
    play(viewer, course, 0, [])
    assert play(viewer, course, 10, [(0, 10)]) == ACCEPTED
    assert play(viewer, course, 20, [(2, 12)], position=12) == ACCEPTED


def test_a_newer_device_session_takes_over_and_the_old_one_is_refused() -> None:
    viewer, course = ViewerState(), CourseState(video_seconds=600)
    assert play(viewer, course, 0, [], session="phone-0001") == ACCEPTED
    assert play(viewer, course, 10, [(0, 10)], session="phone-0001") == ACCEPTED
    assert play(viewer, course, 12, [], position=10, session="web-00001") == ACCEPTED
    assert play(viewer, course, 20, [(10, 18)], session="phone-0001") == SUPERSEDED
    assert play(viewer, course, 22, [(10, 20)], session="web-00001") == ACCEPTED
    assert course.watched_seconds == 20


def test_watched_enough_needs_the_ratio() -> None:
    course = CourseState(video_seconds=100, segments=[(0.0, 94.0)])
    assert not watched_enough(course, 0.95)
    course.segments = [(0.0, 95.0)]
    assert watched_enough(course, 0.95)


def test_assessment_score_is_percent_of_right_answers() -> None:
    questions = [{"id": f"q{i}", "answer": "A"} for i in range(4)]
    assert score(questions, {"q0": "A", "q1": "A", "q2": "B"}) == 50
    assert score(questions, {f"q{i}": "A" for i in range(4)}) == 100
