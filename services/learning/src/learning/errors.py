"""Learning's domain errors, one per rule."""

from yanxiu.kit.errors import NotFound


class PlanNotFound(NotFound):
    code = "plan_not_found"
    title_zh = "学习计划不存在"
    title_en = "Learning plan not found"
