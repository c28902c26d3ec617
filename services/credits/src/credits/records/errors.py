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
