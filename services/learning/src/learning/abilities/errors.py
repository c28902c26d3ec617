"""Errors of IT 2.0 certification, one per rule (rendered as problem+json with a stable code)."""

from yanxiu.kit.errors import Conflict, DomainError, Forbidden, NotFound


class CertificationNotFound(NotFound):
    code = "certification_not_found"
    title_zh = "认证材料不存在"
    title_en = "Certification not found"


class OnlyTeachersSubmit(Forbidden):
    code = "only_teachers_submit"
    title_zh = "只有参训教师本人可以提交认证材料"
    title_en = "Only the teacher themself submits certification material"


class AbilitiesNotInProject(DomainError):
    status = 422
    code = "abilities_not_in_project"
    title_zh = "该项目的学习规则不含能力点认证"
    title_en = "The project's rules have no ability-point certification"


class RolesNotInProject(DomainError):
    status = 422
    code = "roles_not_in_project"
    title_zh = "该项目的学习规则不分角色"
    title_en = "The project's rules have no roles"


class RoleUnknown(DomainError):
    status = 422
    code = "role_unknown"
    title_zh = "该项目没有这个角色"
    title_en = "The project has no such role"


class AbilityPointUnknown(DomainError):
    status = 422
    code = "ability_point_unknown"
    title_zh = "没有这个能力点"
    title_en = "No such ability point"


class TaskNotForRole(DomainError):
    status = 422
    code = "task_not_for_role"
    title_zh = "该任务不属于教师在本项目中的角色"
    title_en = "The task is not one of the teacher's role in this project"


class CertificationPassed(Conflict):
    code = "certification_passed"
    title_zh = "该项已通过考核，不能再提交"
    title_en = "This item has passed; it cannot be submitted again"


class CertificationChanged(Conflict):
    code = "certification_changed"
    title_zh = "教师已重新提交，请查看最新材料后再考核"
    title_en = "The teacher has resubmitted: assess the latest attempt"
