"""Who may open and manage which accounts (账号开通规则): for each role, the levels of the org
tree its account may sit at and the admins that open it, always inside their own subtree.

- Admins are opened by the levels above (a province admin by a province admin: nobody stands
  above the province, and a peer gains no more reach than its opener has).
- A teacher sits at a school and is opened by that school's admin or any admin above it.
- A training institution (培训机构) serves a city or a county: opened by the admins of that
  unit or above.
- Workshop hosts (工作坊主持人) and experts (专家) work for the province, a city or a county,
  as workshops are run (enrollment's workshops exist at those three levels): opened by the
  admins of that unit or above, never by a school.
- A provider (a third-party training platform) works for the whole province: opened by a
  province admin only, at the province.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.accounts.errors import (
    AdminsOnly,
    OrgLevelNotAllowed,
    RoleNotAllowed,
    TeacherIdNotAllowed,
    TeacherIdRequired,
)
from yanxiu.kit.auth import ADMIN_LEVEL, Principal, Role
from yanxiu.kit.errors import OutOfScope

PROVINCE, CITY, COUNTY, SCHOOL = 1, 2, 3, 4
LEVEL_NAMES = {PROVINCE: "province", CITY: "city", COUNTY: "county", SCHOOL: "school"}
_ABOVE_SCHOOL = frozenset({Role.province_admin, Role.city_admin, Role.county_admin})


@dataclass(frozen=True)
class RoleRule:
    levels: frozenset[int]
    """Depths of the org path an account of the role may have (1 = province)."""
    openers: frozenset[Role]
    """The admin roles that open and manage it, inside their own subtree."""


RULES: dict[Role, RoleRule] = {
    Role.province_admin: RoleRule(frozenset({PROVINCE}), frozenset({Role.province_admin})),
    Role.city_admin: RoleRule(frozenset({CITY}), frozenset({Role.province_admin})),
    Role.county_admin: RoleRule(
        frozenset({COUNTY}), frozenset({Role.province_admin, Role.city_admin})
    ),
    Role.school_admin: RoleRule(frozenset({SCHOOL}), _ABOVE_SCHOOL),
    Role.teacher: RoleRule(frozenset({SCHOOL}), frozenset(ADMIN_LEVEL)),
    Role.training_institution: RoleRule(frozenset({CITY, COUNTY}), _ABOVE_SCHOOL),
    Role.workshop_host: RoleRule(frozenset({PROVINCE, CITY, COUNTY}), _ABOVE_SCHOOL),
    Role.expert: RoleRule(frozenset({PROVINCE, CITY, COUNTY}), _ABOVE_SCHOOL),
    Role.provider: RoleRule(frozenset({PROVINCE}), frozenset({Role.province_admin})),
}


def ensure_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise AdminsOnly()


def ensure_may_manage(actor: Principal, role: Role) -> None:
    """The caller's level opens and manages accounts of this role (scope checked apart)."""
    ensure_admin(actor)
    if actor.role not in RULES[role].openers:
        raise RoleNotAllowed(role.value)


def ensure_may_open(
    actor: Principal, *, role: Role, org_path: list[str], teacher_id: object | None
) -> None:
    """Everything about a new account that needs no lookup: the caller's level, the org's
    level for the role, the caller's subtree, and a teacher id exactly for teachers."""
    ensure_may_manage(actor, role)
    rule = RULES[role]
    if len(org_path) not in rule.levels:
        raise OrgLevelNotAllowed(role.value, [LEVEL_NAMES[n] for n in sorted(rule.levels)])
    if not actor.covers(org_path):
        raise OutOfScope()
    if role is Role.teacher and teacher_id is None:
        raise TeacherIdRequired()
    if role is not Role.teacher and teacher_id is not None:
        raise TeacherIdNotAllowed()


def may_see(actor: Principal, *, account_id: str, org_path: list[str]) -> bool:
    """An admin sees the accounts in its subtree (its peers included); anyone sees their own."""
    return account_id == actor.user_id or (actor.is_admin and actor.covers(org_path))
