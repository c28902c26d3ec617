"""Enrollment's domain errors, one per rule."""

from yanxiu.kit.errors import Conflict, DomainError, NotFound


class OrgNotFound(NotFound):
    code = "org_not_found"
    title_zh = "组织机构不存在"
    title_en = "Organisation not found"


class TeacherNotFound(NotFound):
    code = "teacher_not_found"
    title_zh = "教师不存在"
    title_en = "Teacher not found"


class ProjectNotFound(NotFound):
    code = "project_not_found"
    title_zh = "培训项目不存在"
    title_en = "Training project not found"


class NotASchool(DomainError):
    status = 422
    code = "not_a_school"
    title_zh = "教师只能归属于学校"
    title_en = "A teacher belongs to a school"


class ProjectExists(Conflict):
    code = "project_exists"
    title_zh = "该年度该学段的培训项目已存在"
    title_en = "A project for this year and stage exists already"


class AlreadyRegistered(Conflict):
    code = "already_registered"
    title_zh = "该教师已报名本项目（每个项目只能报一个学科）"
    title_en = "The teacher is registered in this project already (one subject per project)"


class RegistrationClosed(DomainError):
    status = 409
    code = "registration_closed"
    title_zh = "不在报名时间内"
    title_en = "Registration is not open"


class StageMismatch(DomainError):
    status = 422
    code = "stage_mismatch"
    title_zh = "教师学段与项目学段不一致"
    title_en = "The teacher's stage differs from the project's"


class TeacherDeparted(DomainError):
    status = 409
    code = "teacher_departed"
    title_zh = "离职教师不能报名"
    title_en = "A departed teacher cannot register"


class InvalidIdNumber(DomainError):
    status = 422
    code = "invalid_id_number"
    title_zh = "身份证号无效"
    title_en = "Invalid ID number"


class DuplicateIdNumber(Conflict):
    code = "duplicate_id_number"
    title_zh = "该身份证号已登记（全省唯一）"
    title_en = "This ID number is registered already (unique across the province)"


class UnknownSubject(DomainError):
    status = 422
    code = "unknown_subject"
    title_zh = "学科不在该学段的学科目录中"
    title_en = "Subject not in the stage's catalogue"
