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
    title_zh = "该身份证号已登记（全平台唯一）"
    title_en = "This ID number is registered already (unique across the platform)"


class UnknownSubject(DomainError):
    status = 422
    code = "unknown_subject"
    title_zh = "学科不在该学段的学科目录中"
    title_en = "Subject not in the stage's catalogue"


class NotACounty(DomainError):
    status = 422
    code = "not_a_county"
    title_zh = "学校只能建在县（市、区）下"
    title_en = "A school is created under a county"


class SchoolNameTaken(Conflict):
    code = "school_name_taken"
    title_zh = "该县（市、区）已有同名学校"
    title_en = "A school of this name exists in the county already"


class TransferNotAllowed(DomainError):
    """调动: a departed teacher may be taken in by any school admin; otherwise the admin of the
    level that covers both schools moves the teacher."""

    status = 403
    code = "transfer_not_allowed"
    title_zh = "无权办理该教师的调动"
    title_en = "You may not transfer this teacher"


class SameSchool(DomainError):
    status = 422
    code = "same_school"
    title_zh = "调入学校与当前学校相同"
    title_en = "The teacher is in that school already"


class AlreadyDeparted(Conflict):
    code = "already_departed"
    title_zh = "该教师已在离职教师库"
    title_en = "The teacher is in the departed pool already"


class RevealNotAllowed(DomainError):
    status = 403
    code = "reveal_not_allowed"
    title_zh = "仅教师所在学校和县（市、区）管理员可查看完整身份证号"
    title_en = "Only the teacher's school and county admins may see the full ID number"


class NothingToChange(DomainError):
    status = 422
    code = "nothing_to_change"
    title_zh = "没有需要修改的字段"
    title_en = "No field to change"


# 报名流程 the registration cascade ------------------------------------------------------------


class StepOutsideWindow(DomainError):
    """A cascade step (开放参训区域 / 开放参训单位 / 提交) tried outside its date window; the detail
    names the step and its window."""

    status = 409
    code = "step_outside_window"
    title_zh = "不在该环节的办理时间内"
    title_en = "This step is outside its date window"


class NotACountyOfYourCity(DomainError):
    status = 422
    code = "not_a_county_of_your_city"
    title_zh = "只能开放本市的县（市、区）为参训区域"
    title_en = "Only counties of your own city can be opened"


class NotASchoolOfYourCounty(DomainError):
    status = 422
    code = "not_a_school_of_your_county"
    title_zh = "只能开放本县（市、区）的学校为参训单位"
    title_en = "Only schools of your own county can be opened"


class CountyNotOpened(DomainError):
    status = 409
    code = "county_not_opened"
    title_zh = "市级管理员尚未开放该县（市、区）为参训区域"
    title_en = "The city has not opened this county for the project"


class SchoolNotOpened(DomainError):
    status = 409
    code = "school_not_opened"
    title_zh = "县（市、区）管理员尚未开放该学校为参训单位"
    title_en = "The county has not opened this school for the project"


class TeacherNotVerified(DomainError):
    status = 409
    code = "teacher_not_verified"
    title_zh = "教师信息未完善或未经核实，不能报名"
    title_en = "The teacher's record is not complete and verified"


class UnitListLocked(DomainError):
    status = 409
    code = "unit_list_locked"
    title_zh = "该单位的报名名单已提交，已锁定"
    title_en = "This unit's registration list is submitted and locked"


class UnitAlreadySubmitted(Conflict):
    code = "unit_already_submitted"
    title_zh = "该单位已提交培训报名管理任务"
    title_en = "This unit has submitted already"


class CountiesNotAllSubmitted(DomainError):
    status = 409
    code = "counties_not_all_submitted"
    title_zh = "本市尚有已开放的县（市、区）未提交，市级暂不能提交"
    title_en = "Some opened counties of the city have not submitted yet"


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    title_zh = "报名记录不存在"
    title_en = "Registration not found"


# 工作坊 workshops ----------------------------------------------------------------------------


class WorkshopNotFound(NotFound):
    code = "workshop_not_found"
    title_zh = "工作坊不存在"
    title_en = "Workshop not found"


class WorkshopExists(Conflict):
    code = "workshop_exists"
    title_zh = "本单位在该项目中已有同名工作坊"
    title_en = "A workshop of this name exists in this unit and project already"


class WorkshopKindNotAllowed(DomainError):
    status = 403
    code = "workshop_kind_not_allowed"
    title_zh = "学科工作坊由市、县管理员创建，专题工作坊由省项目办创建"
    title_en = "Subject workshops are created by city and county admins, topic ones by the province"


class WorkshopHostCount(DomainError):
    status = 422
    code = "workshop_host_count"
    title_zh = "每个工作坊须配 3-6 名主持人"
    title_en = "A workshop has 3 to 6 hosts"


class WorkshopNotActive(DomainError):
    status = 409
    code = "workshop_not_active"
    title_zh = "工作坊尚未启用"
    title_en = "The workshop is not active yet"


class NotRegisteredForWorkshop(DomainError):
    status = 409
    code = "not_registered_for_workshop"
    title_zh = "教师须已报名本项目且学段、学科与工作坊一致"
    title_en = "The teacher must be registered in the project with the workshop's stage and subject"


class AlreadyMember(Conflict):
    code = "already_member"
    title_zh = "该教师已加入此工作坊"
    title_en = "The teacher has joined this workshop already"


class NotAWorkshopMember(DomainError):
    status = 409
    code = "not_a_workshop_member"
    title_zh = "案例作者须为本工作坊学员"
    title_en = "The case's author must be a member of the workshop"


class CaseNotFound(NotFound):
    code = "case_not_found"
    title_zh = "案例不存在"
    title_en = "Case not found"


class CaseNotAtYourLevel(DomainError):
    status = 409
    code = "case_not_at_your_level"
    title_zh = "该案例不在本级待推荐的案例中"
    title_en = "The case is not among the cases your level recommends"


class RecommendationQuotaReached(DomainError):
    status = 409
    code = "recommendation_quota_reached"
    title_zh = "推荐数量已达本级案例数的 5%（向下取整）"
    title_en = "Your level has recommended 5% of its cases (rounded down) already"
