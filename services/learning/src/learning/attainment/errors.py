"""Attainment's domain errors: when a completion may count, and admins' decisions on held ones."""

from __future__ import annotations

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class CompletedInFuture(DomainError):
    status = 422
    code = "completed_in_future"
    title_zh = "完成时间晚于当前时间"
    title_en = "The completion time is in the future"


class CompletionOutsideWindow(DomainError):
    """A completion dated outside the project's year or the rule set's learning window (e.g.
    1900-01-01): refused, or held for an admin where the rule set says `late_completions:
    hold` and the completion is late rather than early."""

    status = 422
    code = "completion_outside_window"
    title_zh = "完成时间不在本项目的学习时间内"
    title_en = "The completion date is outside the project's learning window"


class HeldCompletionNotFound(NotFound):
    code = "held_completion_not_found"
    title_zh = "待审的完成记录不存在"
    title_en = "Held completion not found"


class HeldCompletionDecided(Conflict):
    code = "held_completion_decided"
    title_zh = "该完成记录已处理，不再待审"
    title_en = "This completion was already decided and is no longer held"
