"""The comparison itself, pure: which teacher-id ranges to read (their buckets' digests differ),
and what differs for each teacher when the source's roster and a consumer's are merged in
teacher-id order.

No I/O here: rosters arrive as async iterators of `RosterEntry`, already sorted by teacher id,
so two rosters of a million rows merge in one pass and in constant memory."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from yanxiu.kit.roster import WITHDRAWN, Digest, RosterEntry


class DriftKind(StrEnum):
    missing = "missing"
    extra = "extra"
    wrong_org = "wrong_org"
    wrong_status = "wrong_status"


KIND_LABELS: dict[DriftKind, tuple[str, str]] = {
    DriftKind.missing: ("缺失", "missing"),
    DriftKind.extra: ("多余", "extra"),
    DriftKind.wrong_org: ("机构不符", "wrong org"),
    DriftKind.wrong_status: ("状态不符", "wrong status"),
}
"""How an admin reads each kind: (Chinese, English)."""


@dataclass(frozen=True)
class Drift:
    """One teacher whose row in a consumer differs from what the source says it should be."""

    teacher_id: uuid.UUID
    kind: DriftKind
    expected: RosterEntry | None
    found: RosterEntry | None

    @property
    def org_path(self) -> tuple[str, str, str, str]:
        """Where the drift is counted: where the teacher belongs, or, for a row the source
        does not have, where the consumer holds it."""
        entry = self.expected or self.found
        assert entry is not None
        return entry.org_path


def classify(expected: RosterEntry | None, found: RosterEntry | None) -> DriftKind | None:
    """What is wrong with one teacher's row, or None when nothing is. A withdrawn row the source
    no longer has is history, not drift; a row held elsewhere than the teacher belongs is the
    wrong org, whatever its status."""
    if expected is None:
        return None if found is None or found.status == WITHDRAWN else DriftKind.extra
    if found is None:
        return DriftKind.missing
    if found.org_path != expected.org_path:
        return DriftKind.wrong_org
    if found.status != expected.status:
        return DriftKind.wrong_status
    return None


IdRange = tuple[uuid.UUID, uuid.UUID | None]
"""Teacher ids from the first (inclusive) to the second (exclusive; None: to the end)."""


def bucket_range(bucket: str) -> IdRange:
    """The teacher ids whose text starts with these hex digits."""
    shift = 4 * (32 - len(bucket))
    n = int(bucket, 16)
    end = (n + 1) << shift
    return uuid.UUID(int=n << shift), (uuid.UUID(int=end) if end < 1 << 128 else None)


def differing_buckets(expected: Iterable[Digest], found: Iterable[Digest]) -> list[str]:
    """Buckets whose member count or digest differ, in order (a bucket only one side has
    differs too)."""
    ours = {d.bucket: (d.teachers, d.digest) for d in expected}
    theirs = {d.bucket: (d.teachers, d.digest) for d in found}
    return sorted(b for b in ours.keys() | theirs.keys() if ours.get(b) != theirs.get(b))


def ranges(buckets: Sequence[str]) -> list[IdRange]:
    """The id ranges of these buckets (sorted, of one length), adjacent ones joined: what is
    read row by row."""
    out: list[IdRange] = []
    for bucket in buckets:
        lo, hi = bucket_range(bucket)
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


async def merge(
    expected: AsyncGenerator[RosterEntry, None], found: AsyncGenerator[RosterEntry, None]
) -> AsyncGenerator[Drift, None]:
    """Both rosters in teacher-id order → the drifts, in teacher-id order."""
    try:
        e = await anext(expected, None)
        f = await anext(found, None)
        while e is not None or f is not None:
            if f is None or (e is not None and e.teacher_id < f.teacher_id):
                pair: tuple[RosterEntry | None, RosterEntry | None] = (e, None)
                e = await anext(expected, None)
            elif e is None or f.teacher_id < e.teacher_id:
                pair = (None, f)
                f = await anext(found, None)
            else:
                pair = (e, f)
                e, f = await anext(expected, None), await anext(found, None)
            kind = classify(*pair)
            if kind is not None:
                one = pair[0] or pair[1]
                assert one is not None
                yield Drift(teacher_id=one.teacher_id, kind=kind, expected=pair[0], found=pair[1])
    finally:
        await expected.aclose()
        await found.aclose()


def org_at(path: Sequence[str], depth: int) -> str:
    """The org of `path` at `depth` (0 province … 3 school): where a drift is counted for a
    reader whose scope is `depth` levels deep (its own children)."""
    return path[min(depth, len(path) - 1)]


@dataclass
class Tally:
    """Counts of one service's drifts, in all and per org one level below the reader."""

    depth: int
    total: Counter[DriftKind]
    by_org: dict[str, Counter[DriftKind]]

    @classmethod
    def below(cls, scope: Sequence[str]) -> Tally:
        return cls(depth=len(scope), total=Counter(), by_org={})

    def add(self, drift: Drift) -> None:
        self.total[drift.kind] += 1
        self.by_org.setdefault(org_at(drift.org_path, self.depth), Counter())[drift.kind] += 1


def first_teachers(
    found: Iterable[Iterable[uuid.UUID]], limit: int
) -> tuple[list[uuid.UUID], bool]:
    """The first `limit` teachers of the union of several services' drifted teachers (each
    list sorted, holding at most `limit + 1`), and whether more remain beyond them. Taking each
    service's first `limit + 1` is enough: a teacher among the union's first `limit` is among
    the first `limit` of every service that lists them."""
    union = sorted({t for ids in found for t in ids})
    return union[:limit], len(union) > limit


async def by_teacher(
    streams: Sequence[AsyncGenerator[Drift, None]],
) -> AsyncGenerator[tuple[uuid.UUID, list[Drift | None]], None]:
    """Several services' drifts (each in teacher-id order) → per teacher, in teacher-id order,
    the drift of each service (None where that service holds the teacher right)."""
    try:
        heads = [await anext(s, None) for s in streams]
        while True:
            present = [h.teacher_id for h in heads if h is not None]
            if not present:
                return
            teacher = min(present)
            row: list[Drift | None] = []
            for i, head in enumerate(heads):
                if head is not None and head.teacher_id == teacher:
                    row.append(head)
                    heads[i] = await anext(streams[i], None)
                else:
                    row.append(None)
            yield teacher, row
    finally:
        for s in streams:
            await s.aclose()
