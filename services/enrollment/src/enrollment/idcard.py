"""居民身份证号码 (GB 11643-1999): normalisation and validation of the 18-character number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９Ｘｘ"}


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    gender: str  # "male" / "female", from the sequence code's parity


class InvalidIdNumber(ValueError):
    """Carries a Chinese and an English reason."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


def normalise(raw: str) -> str:
    """Full-width digits, stray spaces and a lower-case x, as spreadsheets deliver them."""
    return "".join(raw.translate(_FULLWIDTH).split()).upper()


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse(raw: str, *, today: date | None = None) -> IdNumber:
    value = normalise(raw)
    if len(value) != 18:
        raise InvalidIdNumber(
            f"身份证号应为18位，实际为{len(value)}位",
            f"An ID number has 18 characters, got {len(value)}",
        )
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdNumber("身份证号只能包含数字（末位可为X）", "Digits only, the last may be X")
    if value[0] == "0" or value[:2] in ("00",):
        raise InvalidIdNumber("身份证号地区码无效", "Invalid region code")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber(
            "身份证号中的出生日期无效", "Invalid birth date in ID number"
        ) from exc
    today = today or date.today()
    if born > today or born.year < 1900:
        raise InvalidIdNumber("身份证号中的出生日期不合理", "Implausible birth date in ID number")
    if check_digit(value[:17]) != value[17]:
        raise InvalidIdNumber("身份证号校验位错误", "ID number check digit is wrong")
    return IdNumber(value=value, birth_date=born, gender="male" if int(value[16]) % 2 else "female")
