"""The ledger's domain errors, one per rule."""

from __future__ import annotations

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class YearClosed(Conflict):
    code = "year_closed"
    title_zh = "该年度学分登记已截止"
    title_en = "Credit registration for this year is closed"


class EntryNotFound(NotFound):
    code = "ledger_entry_not_found"
    title_zh = "台账记录不存在"
    title_en = "Ledger entry not found"


class AlreadyReversed(Conflict):
    code = "already_reversed"
    title_zh = "该记录已冲正"
    title_en = "This entry has been reversed already"


class NotReversible(DomainError):
    status = 422
    code = "not_reversible"
    title_zh = "冲正记录不能再冲正"
    title_en = "A reversal cannot itself be reversed"


class TeacherUnknown(NotFound):
    code = "teacher_not_found"
    title_zh = "教师不存在或不在管理范围内"
    title_en = "No such teacher in your scope"
