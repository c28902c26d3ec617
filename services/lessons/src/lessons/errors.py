"""The lessons service's domain errors, one per rule; each refusal names its rule."""

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class LessonNotFound(NotFound):
    code = "lesson_not_found"
    title_zh = "课例不存在"
    title_en = "Lesson not found"


class NotATeacher(DomainError):
    status = 403
    code = "not_a_teacher"
    title_zh = "只有教师本人可以创课"
    title_en = "Only a teacher creates lessons (their token must carry a teacher id and school)"


class LocalCurriculumShowcaseOnly(DomainError):
    status = 422
    code = "local_curriculum_showcase_only"
    title_zh = "地方课程、校本课程只参加省级晒课，不参与赛课、省级观评课和省级优课评选"
    title_en = (
        "Local and school-based curricula take part in the provincial showcase only, never in "
        "competition, provincial review or selection"
    )


class PromotionOutOfOrder(Conflict):
    code = "promotion_out_of_order"
    title_zh = "课例须逐级遴选：学校 → 县(市、区) → 市 → 省"
    title_en = "Lessons are selected level by level: school → county → city → province"


class NotSelectedByCountyAndCity(Conflict):
    code = "not_selected_by_county_and_city"
    title_zh = "未经县(市、区)、市两级遴选的课例，不得推送至省级优课平台"
    title_en = "A lesson not selected by both county and city cannot reach the province"


class WrongLevelAdmin(DomainError):
    status = 403
    code = "wrong_level_admin"
    title_zh = "只有该级管理员可以遴选到该级"
    title_en = "Only the admin of that level selects lessons to it"


class CityLessonTaken(Conflict):
    code = "city_lesson_taken"
    title_zh = "本市该年级、学科、版本的这堂课已推荐了优秀课例（每市每堂课限推1个）"
    title_en = (
        "The city has already recommended a lesson for this grade, subject, textbook version "
        "and lesson (one per city)"
    )


class TeacherLessonTaken(Conflict):
    code = "teacher_lesson_taken"
    title_zh = "该教师本年度已有推荐的优秀课例（每位教师限推1个）"
    title_en = "The teacher already has a recommended lesson this year (one per teacher)"


class CityDeadlinePassed(Conflict):
    code = "city_deadline_passed"
    title_zh = "已过省级规定的市级优课提交截止日期"
    title_en = "The province's deadline for city-level lessons has passed"


class NotCityLevel(Conflict):
    code = "not_city_level"
    title_zh = "只有市级优课可以评奖或参加省级评选"
    title_en = "Only city-level lessons can be awarded or enter the provincial selection"


class AlreadyAwarded(Conflict):
    code = "already_awarded"
    title_zh = "该课例已评定奖级"
    title_en = "The lesson has an award already"


class QuotaExceeded(Conflict):
    code = "quota_exceeded"
    title_zh = "超出本市该奖级的优课名额（一等奖不超过20%，二等奖不超过30%）"
    title_en = "Beyond the city's quota for this award level (first ≤ 20%, second ≤ 30%)"


class NoQuotaTable(NotFound):
    code = "no_quota_table"
    title_zh = "该年度没有市级优课名额分配表"
    title_en = "No city quota table for this year"


class NoCityQuota(DomainError):
    status = 422
    code = "no_city_quota"
    title_zh = "该市没有优课名额"
    title_en = "This city has no lesson quota"


class AlreadyProvincial(Conflict):
    code = "already_provincial"
    title_zh = "该课例已入选省级优课"
    title_en = "The lesson is a provincial lesson already"


class EnrollmentUnavailable(DomainError):
    status = 503
    code = "enrollment_unavailable"
    title_zh = "教师信息服务暂不可用，请稍后重试"
    title_en = "The enrollment service is unavailable; please retry"


class CityLevelQuotaFull(Conflict):
    code = "city_level_quota_full"
    title_zh = "本市市级优课名额已满（附件2 名额分配表合计）"
    title_en = "The city's places for city-level lessons are all taken (Annex 2 total)"


class LessonLocked(Conflict):
    code = "lesson_locked"
    title_zh = "课例已被遴选，内容不能再修改（国家平台课例号除外）"
    title_en = "The lesson has been selected; its content is locked (except the platform number)"
