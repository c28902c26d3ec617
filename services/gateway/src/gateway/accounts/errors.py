"""The account rules' errors, one per rule. Whatever names another org's data (an org or a
teacher the caller cannot see) answers exactly as if it did not exist."""

from __future__ import annotations

from yanxiu.kit.errors import Conflict, DomainError, Forbidden, NotFound


class AdminsOnly(Forbidden):
    code = "admins_only"
    title_zh = "只有管理员可以管理账号"
    title_en = "Only admins manage accounts"


class RoleNotAllowed(Forbidden):
    """The caller's level may not open (or manage) accounts of this role."""

    code = "role_not_allowed"
    title_zh = "您的级别不能开通或管理此类账号"
    title_en = "Your level cannot open or manage accounts of this role"

    def __init__(self, role: str) -> None:
        super().__init__(
            f"您的级别不能开通或管理{role}账号",
            f"Your level cannot open or manage {role} accounts",
            role=role,
        )


class OwnAccount(Forbidden):
    code = "own_account"
    title_zh = "不能在此修改自己的账号"
    title_en = "Your own account is not changed here"


class OrgLevelNotAllowed(DomainError):
    status = 422
    code = "org_level_not_allowed"
    title_zh = "机构层级与角色不符"
    title_en = "The org's level does not fit the role"

    def __init__(self, role: str, levels: list[str]) -> None:
        super().__init__(
            f"{role}账号只能开通在以下层级：{'、'.join(levels)}",
            f"A {role} account belongs to one of these levels: {', '.join(levels)}",
            role=role,
            levels=levels,
        )


class OrgNotFound(DomainError):
    status = 422
    code = "org_not_found"
    title_zh = "机构不存在"
    title_en = "No such org"

    def __init__(self) -> None:
        super().__init__(
            "机构不存在或不在您的管理范围内", "The org does not exist or is outside your scope"
        )


class OrgPathMismatch(DomainError):
    status = 422
    code = "org_path_mismatch"
    title_zh = "机构路径与信息采集系统中的不一致"
    title_en = "The org path differs from the one enrollment stores"


class TeacherIdRequired(DomainError):
    status = 422
    code = "teacher_id_required"
    title_zh = "教师账号须指定教师编号"
    title_en = "A teacher account needs a teacher id"


class TeacherIdNotAllowed(DomainError):
    status = 422
    code = "teacher_id_not_allowed"
    title_zh = "只有教师账号可以绑定教师"
    title_en = "Only teacher accounts are bound to a teacher"


class TeacherNotFound(DomainError):
    status = 422
    code = "teacher_not_found"
    title_zh = "教师不存在"
    title_en = "No such teacher"

    def __init__(self) -> None:
        super().__init__(
            "教师不存在或不在您的管理范围内",
            "The teacher does not exist or is outside your scope",
        )


class TeacherNotActive(DomainError):
    status = 422
    code = "teacher_not_active"
    title_zh = "该教师已离职"
    title_en = "The teacher has left (departed pool)"


class TeacherNotAtOrg(DomainError):
    status = 422
    code = "teacher_not_at_org"
    title_zh = "该教师不在此学校"
    title_en = "The teacher does not teach at this school"


class TeacherHasAccount(Conflict):
    code = "teacher_has_account"
    title_zh = "该教师已有账号"
    title_en = "The teacher already has an account"


class AccountNotFound(NotFound):
    code = "account_not_found"
    title_zh = "账号不存在"
    title_en = "No such account"
