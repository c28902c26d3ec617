"""One error per rule of offline records."""

from __future__ import annotations

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class RecordNotFound(NotFound):
    code = "record_not_found"
    title_zh = "学时记录不存在"
    title_en = "Offline record not found"


class InvalidTransition(Conflict):
    code = "record_invalid_transition"
    title_zh = "当前状态不允许此操作"
    title_en = "The record's status does not allow this step"


class NotCorrectable(Conflict):
    code = "record_not_correctable"
    title_zh = "只有被退回的记录可以修改"
    title_en = "Only a rejected record can be corrected"


class DuplicateTraining(Conflict):
    """One teacher attends one training on given dates once: a second record of it would count
    its hours twice. A rejected record is corrected and resubmitted, not entered again."""

    code = "record_duplicate"
    title_zh = "该教师此次培训（同名称、同日期）的学时已登记"
    title_en = "This teacher already has a record of this training on these dates"


class NoHours(DomainError):
    status = 422
    code = "record_no_hours"
    title_zh = "培训时长必须大于零"
    title_en = "A record needs at least a half day"


class BadDates(DomainError):
    status = 422
    code = "record_bad_dates"
    title_zh = "结束日期早于开始日期"
    title_en = "The end date is before the start date"


class ReasonRequired(DomainError):
    status = 422
    code = "record_reason_required"
    title_zh = "退回必须填写原因"
    title_en = "A rejection needs a reason"


class DaysExceedDates(DomainError):
    """More training days than the dates hold: the hours would be more than were taught."""

    status = 422
    code = "record_days_exceed_dates"
    title_zh = "培训天数超过起止日期的天数"
    title_en = "More training days than the dates span"


class UnknownCategory(DomainError):
    """A category the teacher's region does not count in (e.g. Zhaoqing has 公需, 专业 and
    个人选修 only): its hours would escape the region's caps."""

    status = 422
    code = "record_unknown_category"
    title_zh = "该地区没有此学时类别"
    title_en = "The teacher's region has no such category"

    def __init__(self, category: str, *, region: str, allowed: list[str], **extra: object) -> None:
        super().__init__(
            f"「{category}」不是本地区（{region}）的学时类别，可选：{'、'.join(allowed)}",
            f"{category!r} is not a category of {region}; use one of: {', '.join(allowed)}",
            category=category,
            region=region,
            allowed=allowed,
            **extra,
        )
