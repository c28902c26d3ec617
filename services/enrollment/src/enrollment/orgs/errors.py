"""Errors of importing a region's org tree (区划数据导入), one per rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yanxiu.kit.errors import Conflict, DomainError

MAX_ERRORS = 200  # a longer report helps nobody; `error_count` says how many there were


@dataclass(frozen=True)
class LineError:
    """One problem of the file, at the line that shows it."""

    line: int
    path: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "path": self.path,
            "message": f"第{self.line}行 {self.path}：{self.message_zh}",
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }

    def __str__(self) -> str:
        return f"line {self.line} {self.path}: {self.message_zh} ({self.message_en})"


def _report(errors: list[LineError]) -> dict[str, Any]:
    return {
        "errors": [e.as_dict() for e in errors[:MAX_ERRORS]],
        "error_count": len(errors),
        "truncated": len(errors) > MAX_ERRORS,
    }


def _text(code: str, errors: list[LineError]) -> str:
    """The exception's text (a migration that fails shows it): the first problems, by line."""
    more = f"; … {len(errors) - 5} more" if len(errors) > 5 else ""
    return f"{code}: " + "; ".join(str(e) for e in errors[:5]) + more


class OrgTreeInvalid(DomainError):
    """Carries `errors`: one entry per problem, with its line; nothing was written."""

    status = 422
    code = "org_tree_invalid"
    title_zh = "区划数据文件有错误，未导入任何数据"
    title_en = "The org tree file has errors; nothing was imported"

    def __init__(self, errors: list[LineError]) -> None:
        errors = sorted(errors, key=lambda e: e.line)
        lines = len({e.line for e in errors})
        super().__init__(
            f"共 {lines} 行、{len(errors)} 处错误，未导入任何数据",
            f"{len(errors)} errors on {lines} lines; nothing was imported",
            **_report(errors),
        )
        self.errors = errors
        self.args = (_text(self.code, errors),)


class OrgTreeConflict(Conflict):
    """The file would move, rename or shadow stored orgs: nothing was written."""

    code = "org_tree_conflict"
    title_zh = "区划数据与已有机构冲突，未导入任何数据"
    title_en = "The org tree conflicts with stored orgs; nothing was imported"

    def __init__(self, errors: list[LineError]) -> None:
        errors = sorted(errors, key=lambda e: e.line)
        super().__init__(
            f"{len(errors)} 处与已有机构冲突（导入不会移动、改名或删除已有机构），未导入任何数据",
            f"{len(errors)} conflicts with stored orgs (an import never moves, renames or "
            "deletes an org); nothing was imported",
            **_report(errors),
        )
        self.errors = errors
        self.args = (_text(self.code, errors),)
