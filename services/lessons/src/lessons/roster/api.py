"""Routes of the roster (名册核对): read by enrollment's reconciliation with the admin's token."""

from __future__ import annotations

from lessons.roster.repository import REVIEWERS
from yanxiu.kit.roster_api import project_roster_router

router = project_roster_router(REVIEWERS, name_zh="观评课评审库", noun_en="pool members")
