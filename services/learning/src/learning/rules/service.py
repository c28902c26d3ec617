"""学习规则: per-project rule sets and windows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from learning.audit import AUDIT
from learning.errors import (
    LearningWindowClosed,
    ProjectRulesMissing,
    RuleSetInvalid,
    RuleSetUnknown,
    SelectionWindowClosed,
    SubjectRequiredWindowClosed,
    WindowClosed,
)
from learning.rules import owners
from learning.rules import repository as repo
from learning.rules.catalogue import shipped
from learning.rules.models import ProjectRules
from learning.rules.ruleset import WINDOW_NAMES_ZH, RuleSet
from learning.rules.schemas import ProjectRulesPut, ProjectRulesRead, WindowRead
from yanxiu.kit.auth import Principal
from yanxiu.kit.reads import Db, DriverReads, Reader
from yanxiu.kit.writes import SessionReads

Window = Literal["selection", "learning", "subject_required"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
_CLOSED: dict[str, type[WindowClosed]] = {
    "selection": SelectionWindowClosed,
    "learning": LearningWindowClosed,
    "subject_required": SubjectRequiredWindowClosed,
}


def today_in_shanghai() -> date:
    return datetime.now(SHANGHAI).date()


def resolve(body: ProjectRulesPut) -> RuleSet:
    """The rule set a PUT asks for: a shipped one (with window overrides) or the document."""
    if body.document is not None:
        return body.document
    base = shipped().get(body.rule_set or "")
    if base is None:
        known = ", ".join(shipped())
        raise RuleSetUnknown(
            f"没有学习规则 {body.rule_set}（可选：{known}）",
            f"No rule set {body.rule_set} (known: {known})",
        )
    if not body.windows and body.late_completions is None:
        return base
    doc = base.model_dump(mode="json")
    windows = body.windows or {}
    doc["windows"] = {**doc["windows"], **{k: w.model_dump() for k, w in windows.items()}}
    if body.late_completions is not None:
        doc["late_completions"] = body.late_completions
    try:
        return RuleSet.model_validate(doc)
    except ValidationError as exc:  # pragma: no cover - windows are validated on the way in
        raise RuleSetInvalid(detail_en=str(exc.errors()[:2])) from exc


async def assign(
    session: AsyncSession, *, actor: Principal, project_id: uuid.UUID, body: ProjectRulesPut
) -> ProjectRulesRead:
    """The project's owner (its province's project office, or the city that runs it) sets or
    replaces its rule set (`owners.ensure_may_assign`); teachers with hours in the project are
    re-evaluated against it."""
    await owners.ensure_may_assign(session, actor=actor, project_id=project_id)
    rules = resolve(body)
    old = await repo.get(session, project_id)
    before = {"rule_set": old.ruleset_code, "year": old.year} if old is not None else None
    row = await repo.put(
        session,
        project_id=project_id,
        year=body.year,
        code=rules.code,
        ruleset=rules.model_dump(mode="json"),
        assigned_by=actor.user_id,
    )
    forget_rulesets(session)
    await AUDIT.record(
        session,
        actor=actor,
        action="rules.assign",
        target_type="project",
        target_id=str(project_id),
        before=before,
        after={"rule_set": rules.code, "year": body.year, "windows": row.ruleset.get("windows")},
    )
    # Teachers who already have hours are judged by the new rules now, not at their next
    # completion. (Imported here: attainment reads rules, so rules cannot import it at the top.)
    from learning.attainment.service import reevaluate_project

    await reevaluate_project(session, project_id=project_id)
    return read(row)


async def project_rules(
    reader: Reader, *, actor: Principal, project_id: uuid.UUID
) -> ProjectRulesRead:
    """Any signed-in user may read a project's rules (they are the published notice), except
    an admin outside the project's owner (`owners.ensure_may_read`: 404)."""
    await owners.ensure_may_read(reader, actor=actor, project_id=project_id)
    row = await repo.get(reader, project_id)
    if row is None:
        raise ProjectRulesMissing()
    return read(row)


def read(row: ProjectRules) -> ProjectRulesRead:
    rules = RuleSet.model_validate(row.ruleset)
    windows = []
    for name, spec in rules.windows.items():
        opens, closes = spec.resolve(row.year)
        windows.append(
            WindowRead(name=name, name_zh=WINDOW_NAMES_ZH[name], opens_on=opens, closes_on=closes)
        )
    return ProjectRulesRead(
        project_id=row.project_id,
        year=row.year,
        rule_set=rules,
        windows=windows,
        assigned_by=row.assigned_by,
        assigned_at=row.assigned_at,
    )


# Parsed rule sets by (project, version): a heartbeat batch reads only the version and parses a
# document once per change, not once per batch.
_PARSED: dict[tuple[uuid.UUID, str], tuple[RuleSet, int]] = {}
_PARSED_MAX = 512


async def ruleset_at(
    session: AsyncSession, project_id: uuid.UUID, version: str
) -> tuple[RuleSet, int] | None:
    """The project's rule set and year as of `version` (read in the caller's transaction), or
    None when it has none; parsed once per version in this process."""
    hit = _PARSED.get((project_id, version))
    if hit is not None:
        return hit
    return await _current(session, project_id)


async def _current(db: Db, project_id: uuid.UUID) -> tuple[RuleSet, int] | None:
    """The project's rule set and year as they are now, parsed once per version."""
    found = await repo.get_versioned(db, project_id)
    if found is None:
        return None
    doc, year, current = found
    hit = _PARSED.get((project_id, current))
    if hit is not None:
        return hit
    parsed = (RuleSet.model_validate(doc), year)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[(project_id, current)] = parsed
    return parsed


async def ruleset_for(db: Db, project_id: uuid.UUID) -> tuple[RuleSet, int] | None:
    """The project's rule set and year, or None when none was assigned. Through a session:
    read once per session (a completion checks its window against the rules, then
    re-evaluates the teacher by them), and again after the session changed them (`assign`
    forgets it). On the driver (a safe request): read each time, parsed once per version."""
    if isinstance(db, DriverReads):
        return await _current(db, project_id)
    memo: dict[uuid.UUID, tuple[RuleSet, int] | None] = db.info.setdefault(_RULESETS, {})
    if project_id not in memo:
        # read on the session's own connection, in its transaction (kit.writes)
        memo[project_id] = await _current(SessionReads(db), project_id)
    return memo[project_id]


_RULESETS = "learning.rulesets"


def forget_rulesets(session: AsyncSession) -> None:
    session.info.pop(_RULESETS, None)


def window_error(rules: RuleSet, year: int, window: Window, day: date) -> WindowClosed | None:
    """The error to raise when `day` is outside the window (None: inside, or no such window)."""
    spec = rules.windows.get(window)
    if spec is None:
        return None
    opens, closes = spec.resolve(year)
    if opens <= day <= closes:
        return None
    name = WINDOW_NAMES_ZH[window]
    return _CLOSED[window](
        f"{name}时间为 {opens} 至 {closes}（北京时间），今天是 {day}",
        f"The {window.replace('_', ' ')} window is {opens} to {closes} (Asia/Shanghai); "
        f"today is {day}",
        window=window,
        opens_on=str(opens),
        closes_on=str(closes),
    )


async def require_window(
    session: AsyncSession, *, project_id: uuid.UUID, window: Window, today: date | None = None
) -> None:
    """Raise a clear domain error (409, code `<window>_window_closed`, Chinese + English, with
    the window's dates) unless `today` (default: today in Asia/Shanghai) is inside the
    project's window. A project without rules, or rules without that window, is not limited."""
    found = await ruleset_for(session, project_id)
    if found is None:
        return
    error = window_error(found[0], found[1], window, today or today_in_shanghai())
    if error is not None:
        raise error
