"""Errors of rules: who may set or read a project's rules."""

from yanxiu.kit.errors import Forbidden, NotFound


class ProjectNotFound(NotFound):
    """An admin outside the project's owner asks for its rules: answered as not found."""

    code = "project_not_found"
    title_zh = "项目不存在"
    title_en = "Project not found"


class NotProjectOwner(Forbidden):
    code = "not_project_owner"
    title_zh = "只有项目所属省、市的管理员可以设置该项目的学习规则"
    title_en = "Only an admin of the province or city that runs the project may set its rules"
