"""Routes of the roster (名册核对): read by enrollment's reconciliation with the admin's token."""

from __future__ import annotations

from learning.roster.repository import PLANS
from yanxiu.kit.roster_api import project_roster_router

router = project_roster_router(PLANS, name_zh="学习计划", noun_en="plans")
