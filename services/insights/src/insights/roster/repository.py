"""Where insights' roster lives: the registered teachers of a project as the dashboards count
them (a standing counts while its registration is there; `withdrawn` otherwise, as learning's
plans say it), compared by `yanxiu reconcile` with enrollment's registrations."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, case, literal

from insights.models import Standing
from yanxiu.kit.roster import RosterColumns

STANDINGS = RosterColumns(
    source=cast(Table, Standing.__table__),
    teacher_id=Standing.teacher_id,
    province_id=Standing.province_id,
    city_id=Standing.city_id,
    county_id=Standing.county_id,
    school_id=Standing.school_id,
    status=case(
        (Standing.registered_at.is_(None), literal("withdrawn")), else_=Standing.employment
    ),
    project_id=Standing.project_id,
)
