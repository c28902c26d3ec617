"""Who may see or change a teacher's record, decided from the org path the service stores for
it (from enrollment's events), never from names or org fields a request carries.

The rule every service applies to a teacher's own records (plans, progress, ledger, lessons):
the teacher themself, by the teacher id bound to a *teacher* token, and the administrators whose
subtree holds the record's stored org path. No other role reads them unless a service states a
rule of its own (a training institution its own records, a reviewer its assignments)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from yanxiu.kit.auth import Principal, Role


def is_self(actor: Principal, teacher_id: uuid.UUID | str) -> bool:
    """The caller is this teacher. Only a teacher token speaks for a teacher: a teacher id on
    any other role is ignored, so a mis-opened account cannot borrow a teacher's records."""
    return (
        actor.role == Role.teacher
        and actor.teacher_id is not None
        and actor.teacher_id == str(teacher_id)
    )


def own_teacher_id(actor: Principal) -> uuid.UUID | None:
    """The teacher a teacher token speaks for, or None (another role, or a malformed id)."""
    if actor.role != Role.teacher or not actor.teacher_id:
        return None
    try:
        return uuid.UUID(actor.teacher_id)
    except ValueError:
        return None


def admin_covers(actor: Principal, org_path: Sequence[str]) -> bool:
    """An administrator whose subtree holds the stored org path. A teacher's or a staff role's
    token carries an org path too (a teacher's is their school), which grants nothing."""
    return actor.is_admin and actor.covers(org_path)


def may_read_teacher_record(
    actor: Principal, *, teacher_id: uuid.UUID | str, org_path: Sequence[str]
) -> bool:
    """The teacher themself, or an admin covering the record's stored org path."""
    return is_self(actor, teacher_id) or admin_covers(actor, org_path)
