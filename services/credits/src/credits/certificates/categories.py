"""学分类别名称: the region's own Chinese name of each category a certificate counts (公需科目,
网络研修, 省级培训项目学分…), from credits/data/regions/*.json, in the region's order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from credits.ledger.regions import regions

# Names of category codes no region file lists (certificates issued before a region renamed
# or dropped a category); a code found nowhere prints as itself.
LEGACY_NAMES = {
    "public": "公需科目",
    "professional": "专业科目",
    "elective": "个人选修",
    "personal_elective": "个人选修",
}


@dataclass(frozen=True)
class CategoryLine:
    code: str
    category_name: str
    hours: Decimal


def category_name(region: str, code: str) -> str:
    found = regions().get(region)
    named = next((c.name for c in found.categories if c.code == code), None) if found else None
    return named or LEGACY_NAMES.get(code, code)


def category_lines(region: str, hours_by_category: Mapping[str, Any]) -> list[CategoryLine]:
    """The certificate's hours by category, named, in the order the region lists them."""
    found = regions().get(region)
    order = {c.code: i for i, c in enumerate(found.categories)} if found else {}
    codes = sorted(hours_by_category, key=lambda c: (order.get(c, len(order)), c))
    return [
        CategoryLine(c, category_name(region, c), Decimal(str(hours_by_category[c]))) for c in codes
    ]
