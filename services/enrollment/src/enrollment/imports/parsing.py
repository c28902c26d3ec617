"""Reading the spreadsheets administrators send: XLSX, or CSV in UTF-8 (with or without BOM)
or GBK; Chinese column headers; every cell normalised to half-width text (NFKC)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from enrollment.imports import limits
from enrollment.imports.errors import UnreadableFile

MAX_BYTES = limits.MAX_BYTES
MAX_ROWS = limits.MAX_ROWS

# Canonical headers, as the template and the export carry them.
NAME, ID_NUMBER, GENDER, SCHOOL, STAGE, SUBJECT, RURAL, PHONE, BIRTH_DATE = (
    "姓名",
    "身份证号",
    "性别",
    "学校",
    "学段",
    "学科",
    "是否乡村教师",
    "手机号",
    "出生日期",
)
REQUIRED = (NAME, ID_NUMBER, SCHOOL, STAGE, SUBJECT, RURAL)
OPTIONAL = (GENDER, PHONE, BIRTH_DATE)
_ALIASES = {
    "教师姓名": NAME,
    "身份证号码": ID_NUMBER,
    "身份证": ID_NUMBER,
    "学校名称": SCHOOL,
    "任教学段": STAGE,
    "任教学科": SUBJECT,
    "乡村教师": RURAL,
    "是否为乡村教师": RURAL,
    "手机号码": PHONE,
    "手机": PHONE,
}
_NOTE = re.compile(r"\(.*?\)|[*]")


@dataclass(frozen=True)
class Sheet:
    """`columns`: canonical header → column index; `rows`: (row number as the spreadsheet
    shows it, cells as text or None)."""

    columns: dict[str, int]
    rows: list[tuple[int, list[str | None]]]
    header_row: int = 1


def clean(value: object) -> str | None:
    """A cell as text: full-width characters folded (NFKC), stray spaces trimmed, dates as
    ISO text, whole numbers without '.0'."""
    if value is None:
        return None
    if isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == time() else value.isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = unicodedata.normalize("NFKC", str(value)).replace("\u3000", " ").strip()
    return text or None


def canonical_header(raw: object) -> str:
    text = "".join((clean(raw) or "").split())
    text = _NOTE.sub("", text)
    return _ALIASES.get(text, text)


def read_sheet(content: bytes, *, filename: str = "") -> Sheet:
    """The first sheet of an XLSX or a CSV. CPU work of seconds for a large file: callers on
    the event loop run it in a worker thread (see service.import_teachers)."""
    limits.ensure_upload_size(len(content))
    if content.startswith(b"PK\x03\x04"):
        raw_rows = _xlsx_rows(content)
    elif content.startswith(b"\xd0\xcf\x11\xe0") or filename.lower().endswith(".xls"):
        raise UnreadableFile(
            "不支持旧版 .xls 文件，请另存为 .xlsx 或 .csv 后上传",
            "Old .xls files are not supported; save as .xlsx or .csv",
        )
    else:
        raw_rows = _csv_rows(content)
    return _to_sheet(raw_rows)


def _to_sheet(raw_rows: list[list[object]]) -> Sheet:
    header_at = next((i for i, r in enumerate(raw_rows) if any(clean(c) for c in r)), None)
    if header_at is None:
        raise UnreadableFile("文件中没有数据", "The file is empty")
    columns: dict[str, int] = {}
    for i, cell in enumerate(limits.ensure_columns(raw_rows[header_at])):
        name = canonical_header(cell)
        if name and name not in columns:
            columns[name] = i
    rows: list[tuple[int, list[str | None]]] = []
    for number, raw in enumerate(raw_rows[header_at + 1 :], start=header_at + 2):
        cells = [clean(c) for c in limits.ensure_columns(raw)]
        if any(cells):
            rows.append((number, cells))
            limits.ensure_rows(len(rows))
    return Sheet(columns=columns, rows=rows, header_row=header_at + 1)


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")  # a superset of GBK and GB2312
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            "无法识别文件编码（支持 UTF-8 与 GBK）", "Unknown encoding (UTF-8 or GBK)"
        ) from exc


def _csv_rows(content: bytes) -> list[list[object]]:
    text = _decode(content)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [list(r) for r in reader]
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误：{exc}", f"Malformed CSV: {exc}") from exc


def _xlsx_rows(content: bytes) -> list[list[object]]:
    try:
        book = _open_workbook(content)
        try:
            sheet = book.worksheets[0]
            rows: list[list[object]] = []
            for r in sheet.iter_rows(values_only=True):
                rows.append(limits.ensure_columns(list(r)))
                # Every raw row counts here, blank ones too (a million formatted blank rows
                # are no import either), with room for a header and notes above it.
                limits.ensure_rows(len(rows) - 10)
            return rows
        finally:
            book.close()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError) as exc:
        raise UnreadableFile() from exc


def _open_workbook(content: bytes) -> Any:
    """openpyxl's load_workbook, read-only, on a zip that was checked first and counts what it
    inflates (openpyxl opens every part through `reader.archive`)."""
    from openpyxl.reader.excel import ExcelReader  # type: ignore[import-untyped]

    archive = limits.LimitedZipFile(io.BytesIO(content))
    try:
        limits.check_archive(archive)
        reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=True)
        reader.archive.close()
        reader.archive = archive
        reader.read()
    except BaseException:
        archive.close()
        raise
    return reader.wb
