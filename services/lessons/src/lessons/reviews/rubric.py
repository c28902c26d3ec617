"""The review rubric (评课量表) as data: criteria and their maximum points, 100 in all."""

from __future__ import annotations

RUBRIC: dict[str, tuple[str, int]] = {
    "objectives": ("教学目标", 20),
    "content": ("教学内容", 25),
    "methods": ("教学方法", 25),
    "effect": ("教学效果", 20),
    "technology": ("信息技术应用", 10),
}
