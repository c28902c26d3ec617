"""The reconciliation's comparison (enrollment.reconcile.compare), pure: what counts as drift for
one teacher, which teacher-id ranges are read, the merge of two rosters in teacher-id order,
counts one level below the reader, paging across services, and a repair's walk. No I/O."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass

from enrollment.reconcile.compare import (
    Drift,
    DriftKind,
    Tally,
    bucket_range,
    by_teacher,
    classify,
    differing_buckets,
    first_teachers,
    merge,
    ranges,
)
from enrollment.reconcile.repair import repair_drift
from enrollment.reconcile.schemas import Resent
from enrollment.reconcile.streams import STREAMS, Check, Stream
from yanxiu.kit.roster import Digest, RosterEntry

A1 = ("370000", "370100", "370102", "370102-S001")
A2 = ("370000", "370100", "370102", "370102-S002")
B1 = ("370000", "370100", "370103", "370103-S001")


def teacher(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def entry(n: int, org: tuple[str, str, str, str] = A1, status: str = "active") -> RosterEntry:
    p, c, k, s = org
    return RosterEntry(
        teacher_id=teacher(n), province_id=p, city_id=c, county_id=k, school_id=s, status=status
    )


async def stream(rows: Iterable[RosterEntry]) -> AsyncGenerator[RosterEntry, None]:
    for row in rows:
        yield row


async def drifts(expected: list[RosterEntry], found: list[RosterEntry]) -> list[Drift]:
    return [d async for d in merge(stream(expected), stream(found))]


def test_a_registered_teacher_the_service_does_not_hold_is_missing() -> None:
    assert classify(entry(1), None) == DriftKind.missing


def test_a_member_without_a_registration_is_extra() -> None:
    assert classify(None, entry(1)) == DriftKind.extra
    assert classify(None, entry(1, status="departed")) == DriftKind.extra


def test_a_withdrawn_row_without_a_registration_is_history_not_drift() -> None:
    assert classify(None, entry(1, status="withdrawn")) is None


def test_a_row_held_at_another_school_is_the_wrong_org_whatever_its_status() -> None:
    assert classify(entry(1, A1), entry(1, A2)) == DriftKind.wrong_org
    assert classify(entry(1, A1), entry(1, B1, status="withdrawn")) == DriftKind.wrong_org


def test_a_withdrawn_or_suspended_row_of_a_registered_teacher_is_the_wrong_status() -> None:
    assert classify(entry(1), entry(1, status="withdrawn")) == DriftKind.wrong_status
    assert classify(entry(1, status="departed"), entry(1)) == DriftKind.wrong_status


def test_the_same_row_on_both_sides_is_no_drift() -> None:
    assert classify(entry(1), entry(1)) is None


def test_only_buckets_whose_count_or_digest_differ_are_read() -> None:
    ours = [
        Digest(bucket="0a", teachers=3, digest="00000000000000aa"),
        Digest(bucket="0b", teachers=2, digest="00000000000000bb"),
        Digest(bucket="0c", teachers=1, digest="00000000000000cc"),
    ]
    theirs = [
        Digest(bucket="0a", teachers=3, digest="00000000000000aa"),  # the same
        Digest(bucket="0b", teachers=2, digest="00000000000000bc"),  # another digest
        Digest(bucket="ff", teachers=1, digest="00000000000000dd"),  # theirs only
    ]
    assert differing_buckets(ours, theirs) == ["0b", "0c", "ff"]
    assert differing_buckets(ours, ours) == []


def test_a_bucket_is_the_range_of_teacher_ids_starting_with_its_digits() -> None:
    lo, hi = bucket_range("0b")
    assert str(lo) == "0b000000-0000-0000-0000-000000000000"
    assert str(hi) == "0c000000-0000-0000-0000-000000000000"
    assert bucket_range("fff") == (uuid.UUID("fff00000-0000-0000-0000-000000000000"), None)
    inside = uuid.UUID("0bffffff-ffff-ffff-ffff-ffffffffffff")
    assert lo <= inside and hi is not None and inside < hi


def test_adjacent_differing_buckets_are_read_as_one_range() -> None:
    assert ranges(["0b", "0c", "0e", "ff"]) == [
        (bucket_range("0b")[0], bucket_range("0c")[1]),
        bucket_range("0e"),
        bucket_range("ff"),
    ]
    assert ranges([]) == []


async def test_two_rosters_merge_into_each_drift_once_in_teacher_order() -> None:
    expected = [entry(1), entry(2), entry(4), entry(5), entry(7)]
    found = [
        entry(1),  # right
        entry(3),  # extra
        entry(4, A2),  # wrong org
        entry(5, status="withdrawn"),  # wrong status
        entry(6, status="withdrawn"),  # history
        entry(8),  # extra, after the source ends
    ]
    got = [(d.teacher_id.int, d.kind) for d in await drifts(expected, found)]
    assert got == [
        (2, DriftKind.missing),
        (3, DriftKind.extra),
        (4, DriftKind.wrong_org),
        (5, DriftKind.wrong_status),
        (7, DriftKind.missing),
        (8, DriftKind.extra),
    ]


async def test_a_whole_roster_missing_is_every_teacher_missing() -> None:
    got = await drifts([entry(n) for n in range(1, 6)], [])
    assert [d.kind for d in got] == [DriftKind.missing] * 5
    assert await drifts([], []) == []


async def test_drift_is_counted_one_level_below_the_reader_where_the_teacher_belongs() -> None:
    got = await drifts(
        [entry(1, A1), entry(2, A2), entry(3, B1)],
        [entry(1, A2), entry(3, B1, status="withdrawn"), entry(9, A2)],
    )
    county = Tally.below(A1[:3])  # a county admin: per school
    city = Tally.below(A1[:2])  # a city admin: per county
    for d in got:
        county.add(d)
        city.add(d)
    # T1 belongs at A1 (held at A2): counted at A1; T9, held only at A2: counted there.
    assert county.by_org == {
        A1[3]: Counter({DriftKind.wrong_org: 1}),
        A2[3]: Counter({DriftKind.missing: 1, DriftKind.extra: 1}),
        B1[3]: Counter({DriftKind.wrong_status: 1}),
    }
    assert city.by_org == {
        "370102": Counter({DriftKind.wrong_org: 1, DriftKind.missing: 1, DriftKind.extra: 1}),
        "370103": Counter({DriftKind.wrong_status: 1}),
    }
    assert sum(city.total.values()) == 4


def test_a_page_across_services_takes_the_first_teachers_of_their_union() -> None:
    learning = [teacher(n) for n in (1, 4, 6)]  # each at most limit + 1
    credits = [teacher(n) for n in (2, 4, 5)]
    page, more = first_teachers([learning, credits], limit=2)
    assert page == [teacher(1), teacher(2)] and more
    page, more = first_teachers([learning, credits], limit=5)
    assert page == [teacher(n) for n in (1, 2, 4, 5, 6)] and not more
    assert first_teachers([[], []], limit=3) == ([], False)


async def test_services_drifts_line_up_teacher_by_teacher() -> None:
    learning = await drifts([entry(1), entry(3)], [])
    credits = await drifts([entry(2), entry(3)], [entry(2)])

    async def replay(ds: list[Drift]) -> AsyncGenerator[Drift, None]:
        for d in ds:
            yield d

    rows = [
        (t.int, [d.kind if d else None for d in row])
        async for t, row in by_teacher([replay(learning), replay(credits)])
    ]
    assert rows == [
        (1, [DriftKind.missing, None]),
        (3, [DriftKind.missing, DriftKind.missing]),
    ]


@dataclass
class ListRoster:
    """A roster held in a list (pure: the comparison's input, not a stand-in for a service)."""

    rows: list[RosterEntry]

    async def digests(self, *, prefix: int) -> list[Digest]:
        return []

    async def page(
        self,
        *,
        id_from: uuid.UUID | None,
        id_to: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[RosterEntry]:
        inside = [
            r
            for r in sorted(self.rows, key=lambda r: r.teacher_id)
            if (id_from is None or r.teacher_id >= id_from)
            and (id_to is None or r.teacher_id < id_to)
            and (after is None or r.teacher_id > after)
        ]
        return inside[:limit]


def listed(stream: Stream, expected: list[RosterEntry], found: list[RosterEntry]) -> Check:
    # Every bucket differs: the whole id space is read.
    return Check(stream, ListRoster(expected), ListRoster(found), 0, 0, buckets=["0"])


async def test_a_repair_goes_teacher_by_teacher_in_chunks_and_stops_at_its_limit() -> None:
    learning, credits = STREAMS[0], STREAMS[-1]
    checks = [
        listed(learning, [entry(n) for n in range(1, 8)], [entry(2), entry(9)]),
        listed(credits, [entry(n) for n in range(1, 8)], [entry(n) for n in range(1, 6)]),
    ]
    chunks: list[list[int]] = []

    async def write(chunk: list[tuple[uuid.UUID, list[Drift | None]]]) -> tuple[Resent, int]:
        chunks.append([t.int for t, _ in chunk])
        return Resent(teacher_updated=len(chunk)), 0

    done = await repair_drift(checks, write=write, max_teachers=None, chunk_size=3)
    # Learning lacks 1, 3–7 and holds 9 extra; credits lacks 6 and 7: seven teachers, once each.
    assert chunks == [[1, 3, 4], [5, 6, 7], [9]]
    assert done.teachers == 7 and not done.more and done.resent.teacher_updated == 7
    assert done.drift["learning"] == Counter({DriftKind.missing: 6, DriftKind.extra: 1})
    assert done.drift["credits"] == Counter({DriftKind.missing: 2})

    chunks.clear()
    limited = await repair_drift(checks, write=write, max_teachers=4, chunk_size=3)
    assert chunks == [[1, 3, 4], [5]] and limited.teachers == 4 and limited.more
