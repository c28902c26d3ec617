"""One error per rule of the schools read model."""

from __future__ import annotations

from yanxiu.kit.errors import NotFound


class SchoolNotFound(NotFound):
    code = "school_not_found"
    title_zh = "学校不存在或不在您的管理范围内"
    title_en = "No such school in your scope"
