"""区划数据: a region's org tree as a file (province → cities → counties, official administrative
division codes and names), read and checked line by line, and the plan of what importing it adds
to the stored tree. Pure: no database here (`orgs.importer` applies a plan).

The file has the shape of `enrollment/data/shandong_orgs.json`:

    {"source": "...", "province": {"id": "440000", "name": "广东省"},
     "cities": [{"id": "441200", "name": "肇庆市",
                 "counties": [{"id": "441202", "name": "端州区", "kind": "district"}]}]}
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from enrollment.orgs.errors import LineError, OrgTreeInvalid

Level = Literal["province", "city", "county"]

KINDS = {
    "district": "市辖区",
    "county": "县",
    "county_city": "县级市",
    "autonomous_county": "自治县",
    "banner": "旗",
    "autonomous_banner": "自治旗",
    "forestry_district": "林区",
    "special_district": "特区",
}
"""县级行政区的类别 (the `kind` of a county-level division)."""

NAME_MAX = 100  # orgs.name
_CODE = re.compile(r"^\d{6}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KEY = re.compile(r'(?<!\\)"((?:[^"\\\n]|\\.)*)"\s*:')
_TOP_KEYS = {"source", "province", "cities"}
_PROVINCE_KEYS = {"id", "name"}
_CITY_KEYS = {"id", "name", "counties"}
_COUNTY_KEYS = {"id", "name", "kind"}
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Division:
    """A province, city or county of the file, with its place in the tree."""

    id: str
    name: str
    level: Level
    parent_id: str | None
    province_id: str
    city_id: str | None
    county_id: str | None
    line: int
    path: str

    def row(self) -> dict[str, Any]:
        """The `enrollment.orgs` row."""
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "level": self.level,
            "name": self.name,
            "province_id": self.province_id,
            "city_id": self.city_id,
            "county_id": self.county_id,
        }


@dataclass(frozen=True)
class OrgTree:
    """A checked tree: its divisions, parents before children."""

    source: str | None
    divisions: tuple[Division, ...]

    @property
    def province(self) -> Division:
        return self.divisions[0]

    def count(self, level: Level) -> int:
        return sum(1 for d in self.divisions if d.level == level)


@dataclass(frozen=True)
class StoredOrg:
    """What the database holds for an id or a (parent, name) of the file."""

    id: str
    parent_id: str | None
    level: str
    name: str


@dataclass
class ImportPlan:
    new: list[Division] = field(default_factory=list)
    unchanged: list[Division] = field(default_factory=list)
    conflicts: list[LineError] = field(default_factory=list)


# --- reading JSON with the line of every object and key ----------------------------------------


# The pure-Python object parser, wrapped below to note offsets (not in the type stubs).
_JSON_OBJECT: Callable[..., tuple[dict[str, Any], int]] = json.decoder.JSONObject  # type: ignore[attr-defined]


class _Node(dict[str, Any]):
    """A JSON object that remembers where it stands in the text."""

    start: int = 0
    keys_at: dict[str, int]


def _reader(text: str) -> json.JSONDecoder:
    """A decoder whose objects are `_Node`s with the offset of the object and of each key."""
    decoder = json.JSONDecoder()
    done: list[tuple[int, int]] = []  # spans of the objects parsed so far, innermost pruned

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[_Node, int]:
        s, begin = s_and_end
        value, end = _JSON_OBJECT(s_and_end, *args)
        node = _Node(value)
        node.start = begin - 1
        inner = [span for span in done if span[0] > node.start]
        node.keys_at = {}
        for m in _KEY.finditer(s, node.start, end):
            if not any(a <= m.start() < b for a, b in inner):
                node.keys_at.setdefault(m.group(1), m.start())
        done[:] = [span for span in done if span[0] < node.start] + [(node.start, end)]
        return node, end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder


class _Lines:
    def __init__(self, text: str) -> None:
        self.breaks = [i for i, c in enumerate(text) if c == "\n"]

    def at(self, offset: int) -> int:
        return bisect.bisect_left(self.breaks, offset) + 1


# --- checking ----------------------------------------------------------------------------------


class _Checker:
    def __init__(self, text: str) -> None:
        self.lines = _Lines(text)
        self.errors: list[LineError] = []
        self.seen: dict[str, Division] = {}

    def error(self, line: int, path: str, zh: str, en: str) -> None:
        self.errors.append(LineError(line, path, zh, en))

    def line_of(self, node: _Node, key: str | None = None) -> int:
        offset = node.keys_at.get(key, node.start) if key else node.start
        return self.lines.at(offset)

    def node(
        self, value: Any, path: str, line: int, keys: set[str], optional: frozenset[str] = _NONE
    ) -> _Node | None:
        """`value` as an object with `keys` and perhaps `optional` ones, nothing else (each
        problem reported where it shows)."""
        if not isinstance(value, _Node):
            self.error(line, path, "应为对象 {…}", "must be an object {…}")
            return None
        for key in sorted(keys - optional - value.keys()):
            self.error(self.line_of(value), path, f"缺少“{key}”", f"{key!r} is missing")
        for key in sorted(value.keys() - keys):
            self.error(
                self.line_of(value, key),
                f"{path}.{key}",
                f"未知字段（可用：{'、'.join(sorted(keys))}）",
                f"unknown field (known: {', '.join(sorted(keys))})",
            )
        return value

    def text(self, node: _Node, key: str, path: str) -> str | None:
        value = node.get(key)
        line = self.line_of(node, key)
        if not isinstance(value, str):
            if key in node:
                self.error(line, f"{path}.{key}", "应为字符串", "must be a string")
            return None
        if not value.strip() or value != value.strip() or _CONTROL.search(value):
            self.error(
                line,
                f"{path}.{key}",
                "不能为空，首尾不能有空白，不能含控制字符",
                "must be non-empty, without surrounding blanks or control characters",
            )
            return None
        if len(value) > NAME_MAX:
            self.error(line, f"{path}.{key}", f"超过 {NAME_MAX} 个字符", f"longer than {NAME_MAX}")
            return None
        return value

    def code(
        self,
        node: _Node,
        path: str,
        rule: Callable[[str], bool],
        rule_zh: str,
        rule_en: str,
    ) -> str | None:
        value = node.get("id")
        line = self.line_of(node, "id")
        if not isinstance(value, str) or not _CODE.match(value):
            if "id" in node:
                self.error(
                    line,
                    f"{path}.id",
                    "行政区划代码应为 6 位数字的字符串",
                    "a division code is a string of 6 digits",
                )
            return None
        if not rule(value):
            self.error(line, f"{path}.id", f"{value}：{rule_zh}", f"{value}: {rule_en}")
            return None
        return value

    def add(self, division: Division, siblings: dict[str, Division]) -> None:
        first = self.seen.get(division.id)
        if first is not None:
            self.error(
                division.line,
                f"{division.path}.id",
                f"代码 {division.id} 重复（第{first.line}行已有）",
                f"code {division.id} appears twice (first on line {first.line})",
            )
            return
        same_name = siblings.get(division.name)
        if same_name is not None:
            self.error(
                division.line,
                f"{division.path}.name",
                f"同一上级下名称“{division.name}”重复（第{same_name.line}行已有）",
                f"name {division.name!r} appears twice under one parent "
                f"(first on line {same_name.line})",
            )
            return
        self.seen[division.id] = division
        siblings[division.name] = division


def _province_code(code: str) -> bool:
    return code.endswith("0000") and not code.startswith("00")


def _city_code(province_prefix: str | None) -> Callable[[str], bool]:
    def ok(code: str) -> bool:
        inside = province_prefix is None or code[:2] == province_prefix
        return inside and code.endswith("00") and code[2:4] != "00"

    return ok


def _county_code(city_prefix: str | None) -> Callable[[str], bool]:
    def ok(code: str) -> bool:
        return (city_prefix is None or code[:4] == city_prefix) and not code.endswith("00")

    return ok


def parse_tree(text: str) -> OrgTree:
    """The tree in `text`; `OrgTreeInvalid` lists every problem found (line, path, message)."""
    try:
        top = _reader(text).decode(text)
    except json.JSONDecodeError as exc:
        raise OrgTreeInvalid(
            [LineError(exc.lineno, "$", f"不是合法的 JSON：{exc.msg}", f"invalid JSON: {exc.msg}")]
        ) from exc
    except RecursionError as exc:
        raise OrgTreeInvalid([LineError(1, "$", "JSON 嵌套过深", "JSON nested too deep")]) from exc
    c = _Checker(text)
    root = c.node(top, "$", 1, _TOP_KEYS, optional=frozenset({"source"}))
    if root is None:
        raise OrgTreeInvalid(c.errors)
    source = root.get("source")
    if source is not None and not isinstance(source, str):
        c.error(c.line_of(root, "source"), "$.source", "应为字符串", "must be a string")
    divisions: list[Division] = []
    province = _province(c, root)
    cities = root.get("cities")
    if "cities" in root and (not isinstance(cities, list) or not cities):
        c.error(
            c.line_of(root, "cities"),
            "$.cities",
            "应为非空数组 […]",
            "must be a non-empty array […]",
        )
        cities = []
    if province is not None:
        divisions.append(province)
    city_names: dict[str, Division] = {}
    for i, raw in enumerate(cities or []):
        path = f"$.cities[{i}]"
        node = c.node(raw, path, c.line_of(root, "cities"), _CITY_KEYS)
        if node is None:
            continue
        prefix = province.id[:2] if province else None
        code = c.code(
            node,
            path,
            _city_code(prefix),
            f"地级代码应以省代码前两位（{prefix}）开头、以 00 结尾",
            f"a city code starts with the province's two digits ({prefix}) and ends in 00",
        )
        name = c.text(node, "name", path)
        city = None
        if province is not None and code and name:
            city = Division(
                code,
                name,
                "city",
                province.id,
                province.id,
                code,
                None,
                c.line_of(node, "id"),
                path,
            )
            c.add(city, city_names)
            divisions.append(city)
        _counties(c, node, path, city, divisions)
    if c.errors:
        raise OrgTreeInvalid(c.errors)
    return OrgTree(source=source, divisions=tuple(divisions))


def _province(c: _Checker, root: _Node) -> Division | None:
    node = c.node(root.get("province"), "$.province", c.line_of(root, "province"), _PROVINCE_KEYS)
    if node is None:
        return None
    code = c.code(
        node,
        "$.province",
        _province_code,
        "省级代码以 0000 结尾",
        "a province code ends in 0000",
    )
    name = c.text(node, "name", "$.province")
    if code is None or name is None:
        return None
    line = c.line_of(node, "id")
    return Division(code, name, "province", None, code, None, None, line, "$.province")


def _counties(
    c: _Checker, city_node: _Node, city_path: str, city: Division | None, out: list[Division]
) -> None:
    counties = city_node.get("counties")
    if "counties" in city_node and not isinstance(counties, list):
        c.error(
            c.line_of(city_node, "counties"),
            f"{city_path}.counties",
            "应为数组 […]（不设县级的城市写 []）",
            "must be an array […] (a city without counties has [])",
        )
        return
    names: dict[str, Division] = {}
    for j, raw in enumerate(counties or []):
        path = f"{city_path}.counties[{j}]"
        node = c.node(raw, path, c.line_of(city_node, "counties"), _COUNTY_KEYS)
        if node is None:
            continue
        prefix = city.id[:4] if city else None
        code = c.code(
            node,
            path,
            _county_code(prefix),
            f"县级代码应以地级代码前四位（{prefix}）开头，且不以 00 结尾",
            f"a county code starts with its city's four digits ({prefix}), not ending in 00",
        )
        name = c.text(node, "name", path)
        kind = node.get("kind")
        if "kind" in node and kind not in KINDS:
            c.error(
                c.line_of(node, "kind"),
                f"{path}.kind",
                f"类别应为 {'、'.join(KINDS)} 之一",
                f"kind is one of {', '.join(KINDS)}",
            )
        if city is not None and code and name:
            county = Division(
                code,
                name,
                "county",
                city.id,
                city.province_id,
                city.id,
                code,
                c.line_of(node, "id"),
                path,
            )
            c.add(county, names)
            out.append(county)


def read_tree(path: Path) -> OrgTree:
    return parse_tree(path.read_text(encoding="utf-8"))


# --- planning an import ------------------------------------------------------------------------


def plan(
    tree: OrgTree,
    stored: Mapping[str, StoredOrg],
    stored_names: Mapping[tuple[str | None, str], StoredOrg],
) -> ImportPlan:
    """What importing `tree` does, given the stored orgs with the file's ids (`stored`) and
    with the file's (parent, name) pairs (`stored_names`): new divisions are added, identical
    ones are left alone, and anything that would move, rename or shadow a stored org is a
    conflict (an import never moves, renames or deletes what exists)."""
    out = ImportPlan()
    for d in tree.divisions:
        s = stored.get(d.id)
        if s is not None:
            if (s.level, s.parent_id) != (d.level, d.parent_id):
                out.conflicts.append(
                    LineError(
                        d.line,
                        d.path,
                        f"{d.id} 已存在（{s.level}，上级 {s.parent_id or '无'}），"
                        "导入不会移动已有机构",
                        f"{d.id} exists already ({s.level} under {s.parent_id or 'nothing'}); "
                        "an import never moves an org",
                    )
                )
            elif s.name != d.name:
                out.conflicts.append(
                    LineError(
                        d.line,
                        f"{d.path}.name",
                        f"{d.id} 已存在，名称为“{s.name}”，文件中为“{d.name}”；导入不会改名",
                        f"{d.id} exists as {s.name!r}, the file says {d.name!r}; "
                        "an import never renames an org",
                    )
                )
            else:
                out.unchanged.append(d)
            continue
        twin = stored_names.get((d.parent_id, d.name))
        if twin is not None:
            out.conflicts.append(
                LineError(
                    d.line,
                    f"{d.path}.name",
                    f"同一上级下已有同名机构 {twin.id}“{twin.name}”",
                    f"{twin.id} {twin.name!r} has this name under the same parent already",
                )
            )
            continue
        out.new.append(d)
    return out


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    province_id: str
    province_name: str
    created: dict[str, int]
    unchanged: int

    def summary(self) -> str:
        c = self.created
        return (
            f"{self.province_name}（{self.province_id}）：新增 省 {c.get('province', 0)}、"
            f"市 {c.get('city', 0)}、县 {c.get('county', 0)}，已存在且一致 {self.unchanged} "
            f"(created province {c.get('province', 0)}, cities {c.get('city', 0)}, "
            f"counties {c.get('county', 0)}; {self.unchanged} unchanged)"
        )


def report_of(tree: OrgTree, p: ImportPlan) -> ImportReport:
    created: dict[str, int] = {"province": 0, "city": 0, "county": 0}
    for d in p.new:
        created[d.level] += 1
    return ImportReport(
        province_id=tree.province.id,
        province_name=tree.province.name,
        created=created,
        unchanged=len(p.unchanged),
    )
