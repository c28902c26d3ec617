"""Problems the dashboards answer (application/problem+json, Chinese and English)."""

from __future__ import annotations

from yanxiu.kit.errors import Forbidden, NotFound


class DashboardNotAllowed(Forbidden):
    code = "dashboard_not_allowed"
    title_zh = "仅管理员可查看看板"
    title_en = "Only administrators may read the dashboards"


class ProjectNotFound(NotFound):
    code = "project_not_found"
    title_zh = "培训项目不存在"
    title_en = "No such project"


class OrgNotFound(NotFound):
    code = "org_not_found"
    title_zh = "该机构暂无数据"
    title_en = "No such org, or nothing counted there yet"
