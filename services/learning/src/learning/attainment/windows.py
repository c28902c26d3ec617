"""When a completion may count (pure): not in the future, and on a day (Asia/Shanghai) inside
the rule set's window for its category — the subject-required window for subject required
courses and peer reviews where the rule set has one, else the learning window — or, where the
rule set names no window, inside the project's year. A window written with its year
("2027-01-15") may reach past the project's year; one written "MM-DD" lies inside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from learning.attainment.errors import CompletedInFuture, CompletionOutsideWindow
from learning.rules.ruleset import WINDOW_NAMES_ZH, RuleSet, WindowName

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Clocks differ a little; a completion later than this is a mistake, not a clock skew.
FUTURE_TOLERANCE = timedelta(minutes=5)
SUBJECT_REQUIRED = frozenset({"subject_required", "review"})
PROJECT_YEAR = "project_year"
NAMES_ZH = {**WINDOW_NAMES_ZH, PROJECT_YEAR: "项目年度"}
NAMES_EN = {
    "learning": "learning window",
    "subject_required": "subject-required learning window",
    "selection": "course-selection window",
    PROJECT_YEAR: "project year",
}


@dataclass(frozen=True)
class Window:
    name: str
    opens: date
    closes: date


@dataclass(frozen=True)
class Verdict:
    """Where a completion's day falls: inside, early (before the window opens) or late."""

    window: Window
    day: date
    where: Literal["inside", "early", "late"]

    def error(self) -> CompletionOutsideWindow:
        w = self.window
        name_zh, name_en = NAMES_ZH[w.name], NAMES_EN[w.name]
        return CompletionOutsideWindow(
            f"完成日期 {self.day} 不在{name_zh}（{w.opens} 至 {w.closes}，北京时间）内",
            f"The completion date {self.day} is outside the {name_en} "
            f"({w.opens} to {w.closes}, Asia/Shanghai)",
            window=w.name,
            opens_on=str(w.opens),
            closes_on=str(w.closes),
            completed_on=str(self.day),
        )


def ensure_not_future(completed_at: datetime, now: datetime | None = None) -> None:
    if completed_at > (now or datetime.now(UTC)) + FUTURE_TOLERANCE:
        raise CompletedInFuture(completed_at=completed_at.isoformat())


def window_for(
    rules: RuleSet | None, rules_year: int | None, project_year: int, category: str
) -> Window:
    """The window a completion of `category` must fall in."""
    if rules is not None and rules_year is not None:
        names: list[WindowName] = (
            ["subject_required", "learning"] if category in SUBJECT_REQUIRED else ["learning"]
        )
        for name in names:
            spec = rules.windows.get(name)
            if spec is not None:
                opens, closes = spec.resolve(rules_year)
                return Window(name, opens, closes)
        project_year = rules_year
    return Window(PROJECT_YEAR, date(project_year, 1, 1), date(project_year, 12, 31))


def judge(window: Window, completed_at: datetime) -> Verdict:
    day = completed_at.astimezone(SHANGHAI).date()
    where: Literal["inside", "early", "late"] = (
        "early" if day < window.opens else "late" if day > window.closes else "inside"
    )
    return Verdict(window, day, where)
