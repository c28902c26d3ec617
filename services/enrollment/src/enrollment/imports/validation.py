"""Row rules of a teacher import: every row and column is checked and every error reported
(row number as the spreadsheet shows it, column header, value, message in Chinese and English).
Pure functions; the database checks (schools, registered ID numbers) are the service's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from enrollment import catalog, idcard
from enrollment.imports.parsing import (
    BIRTH_DATE,
    GENDER,
    ID_NUMBER,
    NAME,
    PHONE,
    RURAL,
    SCHOOL,
    STAGE,
    SUBJECT,
    Sheet,
)
from enrollment.models import Org

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_PHONE = re.compile(r"^1\d{10}$")
_CJK_NAME = re.compile(r"^[\u3400-\u9fff\u00b7\s]+$")
_YES = {"是", "Y", "YES", "1", "TRUE"}
_NO = {"否", "N", "NO", "0", "FALSE"}
_LOOKS_NUMERIC = re.compile(r"^\d{15}000$|^\d(\.\d+)?[Ee]\+\d+$")
_GENDERS = {"男": "male", "女": "female"}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str | None
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": f"第{self.row}行「{self.column}」：{self.message_zh}",
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


@dataclass(frozen=True)
class TeacherRow:
    row: int
    name: str
    id_number: idcard.IdNumber
    school: Org
    stage: str
    subject: str
    is_rural: bool
    phone: str | None


def parse_text_date(value: str) -> date | None:
    text = value.split()[0] if " " in value and ":" in value else value
    text = text.split("T")[0] if "T" in text else text
    m = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def normalise_name(value: str) -> str:
    if _CJK_NAME.match(value):
        return "".join(value.split())
    return " ".join(value.split())


class SchoolResolver:
    """学校: a school id or an exact school name, only among schools in the caller's scope."""

    def __init__(self, schools: list[Org], in_scope: set[str]) -> None:
        self._by_id = {s.id: s for s in schools if s.id in in_scope}
        self._by_name: dict[str, list[Org]] = {}
        for s in schools:
            if s.id in in_scope:
                self._by_name.setdefault(s.name, []).append(s)

    def resolve(self, value: str) -> Org | tuple[str, str]:
        if value in self._by_id:
            return self._by_id[value]
        named = self._by_name.get(value, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            return (
                "您的管理范围内有多所同名学校，请填写学校编号",
                "Several schools in your scope have this name; use the school id",
            )
        return (
            "学校不存在或不在您的管理范围内",
            "No such school in your scope",
        )


def check_headers(sheet: Sheet) -> list[RowError]:
    from enrollment.imports.parsing import REQUIRED

    return [
        RowError(sheet.header_row, h, None, "缺少必填列", "Required column missing")
        for h in REQUIRED
        if h not in sheet.columns
    ]


def check_row(
    number: int, cells: list[str | None], columns: dict[str, int], schools: SchoolResolver
) -> tuple[TeacherRow | None, list[RowError]]:
    errors: list[RowError] = []

    def cell(header: str) -> str | None:
        i = columns.get(header)
        return cells[i] if i is not None and i < len(cells) else None

    def fail(header: str, value: str | None, zh: str, en: str) -> None:
        errors.append(RowError(number, header, value, zh, en))

    def required(header: str) -> str | None:
        value = cell(header)
        if value is None:
            fail(header, None, "必填项不能为空", "Required")
        return value

    raw_name = required(NAME)
    name = normalise_name(raw_name) if raw_name else ""
    if raw_name and len(name) > 50:
        fail(NAME, raw_name, "姓名不能超过50个字", "A name has at most 50 characters")

    idn: idcard.IdNumber | None = None
    raw_id = required(ID_NUMBER)
    if raw_id is not None:
        try:
            idn = idcard.parse(raw_id)
        except idcard.InvalidIdNumber as exc:
            zh, en = exc.zh, exc.en
            if _LOOKS_NUMERIC.match(raw_id):
                # Excel keeps 15 significant digits of a number: the last ones become 0.
                zh += "（若在Excel中该列为数字格式，末几位会丢失，请将身份证号列设为文本格式）"
                en += (
                    " (if Excel stored the column as numbers, the last digits were lost: "
                    "format the ID number column as text)"
                )
            fail(ID_NUMBER, raw_id, zh, en)

    gender = cell(GENDER)
    if gender is not None:
        code = _GENDERS.get(gender)
        if code is None:
            fail(GENDER, gender, "性别应为“男”或“女”", "Gender is 男 or 女")
        elif idn is not None and code != idn.gender:
            fail(GENDER, gender, "性别与身份证号不符", "Gender differs from the ID number")

    born = cell(BIRTH_DATE)
    if born is not None:
        parsed = parse_text_date(born)
        if parsed is None:
            fail(
                BIRTH_DATE,
                born,
                "出生日期格式无法识别（例：1985-01-01）",
                "Unrecognised date (e.g. 1985-01-01)",
            )
        elif idn is not None and parsed != idn.birth_date:
            fail(
                BIRTH_DATE, born, "出生日期与身份证号不符", "Birth date differs from the ID number"
            )

    school: Org | None = None
    raw_school = required(SCHOOL)
    if raw_school is not None:
        found = schools.resolve(raw_school)
        if isinstance(found, Org):
            school = found
        else:
            fail(SCHOOL, raw_school, *found)

    stage: str | None = None
    raw_stage = required(STAGE)
    if raw_stage is not None:
        stage = catalog.stage_code(raw_stage)
        if stage is None:
            fail(
                STAGE,
                raw_stage,
                "学段应为 高中、初中、小学 或 幼儿园",
                "Stage is one of 高中, 初中, 小学, 幼儿园",
            )

    subject = required(SUBJECT)
    if subject is not None and stage is not None and not catalog.is_subject_of(stage, subject):
        fail(
            SUBJECT,
            subject,
            f"{catalog.stages()[stage]}学段没有“{subject}”学科",
            f"No subject {subject!r} in stage {stage}",
        )

    is_rural: bool | None = None
    raw_rural = required(RURAL)
    if raw_rural is not None:
        flag = raw_rural.upper()
        is_rural = True if flag in _YES else False if flag in _NO else None
        if is_rural is None:
            fail(RURAL, raw_rural, "应填写“是”或“否”", "Use 是 (yes) or 否 (no)")

    phone = cell(PHONE)
    if phone is not None:
        digits = "".join(phone.split()).replace("-", "").removeprefix("+86")
        if not _PHONE.match(digits):
            fail(PHONE, phone, "手机号应为以1开头的11位数字", "A mobile number has 11 digits")
        phone = digits

    if errors:
        return None, errors
    assert idn and school and stage and subject and is_rural is not None
    return (
        TeacherRow(
            row=number,
            name=name,
            id_number=idn,
            school=school,
            stage=stage,
            subject=subject,
            is_rural=is_rural,
            phone=phone,
        ),
        [],
    )
