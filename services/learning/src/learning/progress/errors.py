"""Progress's domain errors, one per rule (not registered, unknown course and closed windows are
learning.errors'). Refused heartbeats carry the refusal reason as their code."""

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class ProgressNotFound(NotFound):
    code = "progress_not_found"
    title_zh = "学习进度不存在"
    title_en = "Progress not found"


class DeviceSessionSuperseded(Conflict):
    code = "device_session_superseded"
    title_zh = "已在其他设备上学习，本设备的进度不再计入"
    title_en = "A newer device session took over; this one no longer counts"


class PlaybackTooFast(Conflict):
    code = "playback_too_fast"
    title_zh = "播放进度快于实际时间，本次不计入"
    title_en = "Progress faster than real playback; not counted"


class SeekAhead(Conflict):
    code = "seek_ahead"
    title_zh = "拖动进度条跳过的内容不计入"
    title_en = "Skipped-ahead content does not count"


class NoAssessment(Conflict):
    code = "no_assessment"
    title_zh = "该课程没有考核"
    title_en = "This course has no assessment"


class AnswersInvalid(DomainError):
    status = 422
    code = "answers_invalid"
    title_zh = "答案与考核题目不符"
    title_en = "The answers do not match the assessment's questions"


REFUSALS: dict[str, type[DomainError]] = {
    DeviceSessionSuperseded.code: DeviceSessionSuperseded,
    PlaybackTooFast.code: PlaybackTooFast,
    SeekAhead.code: SeekAhead,
}
