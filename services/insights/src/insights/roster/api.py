"""Routes of the roster (名册核对): read by enrollment's reconciliation with the admin's token."""

from __future__ import annotations

from insights.roster.repository import STANDINGS
from yanxiu.kit.roster_api import project_roster_router

router = project_roster_router(STANDINGS, name_zh="看板报名", noun_en="registered teachers")
