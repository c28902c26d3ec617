"""Cells of the spreadsheets the platform writes (XLSX, CSV). Text comes from users (a teacher's
name, a lesson's title), and a spreadsheet runs text that begins with = + - @ (or a tab or CR
before one) as a formula: `=HYPERLINK("http://evil", "x")` in a name would be a live link in
the admin's Excel. Every exported row goes through `safe_row`: such text gets a leading
apostrophe, so it stays text (and openpyxl writes it as a string cell, never a formula).

Characters XML cannot hold (control characters other than tab, LF and CR) would make openpyxl
refuse the whole workbook; they are replaced, so one odd name cannot break an export."""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What openpyxl refuses (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE), without importing it here.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_text(value: str) -> str:
    """Text as a spreadsheet must show it, never run it."""
    value = _ILLEGAL.sub("\ufffd", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def safe_cell(value: object) -> object:
    """Text made safe; numbers, dates, booleans and empty cells as they are."""
    return safe_text(value) if isinstance(value, str) else value


def safe_row(values: Iterable[object]) -> list[object]:
    return [safe_cell(v) for v in values]
