"""Learning's domain errors, one per rule."""

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class PlanNotFound(NotFound):
    code = "plan_not_found"
    title_zh = "学习计划不存在"
    title_en = "Learning plan not found"


class CourseNotFound(NotFound):
    code = "course_not_found"
    title_zh = "课程不存在"
    title_en = "Course not found"


class CourseCodeTaken(Conflict):
    code = "course_code_taken"
    title_zh = "课程编号已存在"
    title_en = "A course with this code already exists"


class TopicUnknown(DomainError):
    status = 422
    code = "topic_unknown"
    title_zh = "没有这个专题"
    title_en = "No such topic"


class CourseShapeInvalid(DomainError):
    status = 422
    code = "course_shape_invalid"
    title_zh = "课程信息不一致"
    title_en = "The course's fields do not fit together"


class RuleSetUnknown(DomainError):
    status = 422
    code = "rule_set_unknown"
    title_zh = "没有这个学习规则"
    title_en = "No such rule set"


class RuleSetInvalid(DomainError):
    status = 422
    code = "rule_set_invalid"
    title_zh = "学习规则无效"
    title_en = "The rule set is invalid"


class ProjectRulesMissing(NotFound):
    code = "project_rules_missing"
    title_zh = "该项目尚未设置学习规则"
    title_en = "The project has no learning rules yet"


class WindowClosed(Conflict):
    code = "window_closed"
    title_zh = "不在开放时间内"
    title_en = "Outside the window"


class SelectionWindowClosed(WindowClosed):
    code = "selection_window_closed"
    title_zh = "不在选课时间内"
    title_en = "Outside the course-selection window"


class LearningWindowClosed(WindowClosed):
    code = "learning_window_closed"
    title_zh = "不在课程学习时间内"
    title_en = "Outside the learning window"


class SubjectRequiredWindowClosed(WindowClosed):
    code = "subject_required_window_closed"
    title_zh = "不在学科必修课程学习时间内"
    title_en = "Outside the subject-required learning window"


class NotRegistered(DomainError):
    status = 422
    code = "not_registered"
    title_zh = "该教师未报名此项目"
    title_en = "The teacher is not registered in this project"


class PlanWithdrawn(DomainError):
    status = 409
    code = "plan_withdrawn"
    title_zh = "该教师已退出此项目，学时不再计入"
    title_en = "The teacher has withdrawn from this project; hours no longer count"


class PlanDeparted(PlanWithdrawn):
    """离职: the plan is suspended while the teacher is in the departed pool. A kind of
    PlanWithdrawn, so what already refuses a withdrawn plan quietly (a review arriving from
    the lessons service) refuses a departed one the same way, without a dead letter."""

    code = "plan_departed"
    title_zh = "该教师已离职，学习计划暂停，选课、学习和学时均不计入；调入新学校后恢复"
    title_en = (
        "The teacher has left (departed pool): the plan is suspended and no selection, "
        "learning or hours count until a school takes the teacher in"
    )


class CompletionIncomplete(DomainError):
    status = 422
    code = "completion_incomplete"
    title_zh = "完成记录缺少课程、类别或学时"
    title_en = "A completion needs a course, or a title, category and hours"


class TooManyTopics(DomainError):
    status = 422
    code = "too_many_topics"
    title_zh = "学校选择的通识专题过多"
    title_en = "The school chose too many general topics"


class NotElective(DomainError):
    status = 422
    code = "not_elective"
    title_zh = "只能选择本项目的选修课程"
    title_en = "Only the project's elective courses can be selected"


class TopicNotChosenBySchool(DomainError):
    status = 422
    code = "topic_not_chosen_by_school"
    title_zh = "通识选修课程须在学校选定的专题内"
    title_en = "General electives must belong to a topic the school chose"


class CourseNotForTeacher(DomainError):
    status = 422
    code = "course_not_for_teacher"
    title_zh = "该课程不适用于教师的学段或学科"
    title_en = "The course is not for the teacher's stage or subject"


class ElectiveHoursExceeded(Conflict):
    code = "elective_hours_exceeded"
    title_zh = "所选选修课程学时超过上限"
    title_en = "The selected electives exceed the maximum hours"


class AlreadySelected(Conflict):
    code = "already_selected"
    title_zh = "已选过该课程"
    title_en = "The course is already selected"


class SelectionNotFound(NotFound):
    code = "selection_not_found"
    title_zh = "选课记录不存在"
    title_en = "Selection not found"
