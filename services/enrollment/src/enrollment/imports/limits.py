"""Limits of an import file (导入文件限制): what an upload may weigh, inflate to and hold. An XLSX
is a zip: its central directory is read before anything is parsed (the total it declares and
its compression ratio), and the bytes actually inflated are counted while it is read, so that a
zip bomb is refused in milliseconds instead of holding a worker and memory for minutes."""

from __future__ import annotations

import io
import zipfile
from typing import IO, Any, Literal

from enrollment.imports.errors import (
    CompressionRatioTooHigh,
    FileTooLarge,
    TooManyColumns,
    TooManyRows,
    UncompressedTooLarge,
)

MiB = 1024 * 1024
MAX_BYTES = 20 * MiB
# 100,000 rows as openpyxl writes them (inline strings) inflate to ~46 MiB; Excel's shared
# strings make less. Parsing is ~1 s per MiB of sheet XML, so this also bounds the time.
MAX_INFLATED_BYTES = 128 * MiB
# Sheets compress ~5–15:1; a bomb by a thousand. Small archives may compress as they like.
MAX_RATIO = 100
RATIO_FLOOR = 16 * MiB
MAX_MEMBERS = 1000
MAX_ROWS = 100_000
MAX_COLUMNS = 100


def ensure_upload_size(size: int) -> None:
    if size > MAX_BYTES:
        raise FileTooLarge(
            f"文件不能超过 {MAX_BYTES // MiB} MB", f"The file may not exceed {MAX_BYTES // MiB} MB"
        )


def ensure_rows(count: int) -> None:
    if count > MAX_ROWS:
        raise TooManyRows(
            f"一次最多导入 {MAX_ROWS} 行，请拆分文件",
            f"At most {MAX_ROWS} rows per file; split the file",
        )


def ensure_columns(cells: list[Any]) -> list[Any]:
    """The row cut to MAX_COLUMNS; refused when anything is written beyond them (empty cells
    that a spreadsheet kept formatted are harmless)."""
    if len(cells) <= MAX_COLUMNS:
        return cells
    if any(c is not None and c != "" for c in cells[MAX_COLUMNS:]):
        raise TooManyColumns(f"每行最多 {MAX_COLUMNS} 列", f"At most {MAX_COLUMNS} columns per row")
    return cells[:MAX_COLUMNS]


def _too_large() -> UncompressedTooLarge:
    return UncompressedTooLarge(
        f"XLSX 文件解压后不能超过 {MAX_INFLATED_BYTES // MiB} MB",
        f"An XLSX file may not inflate to more than {MAX_INFLATED_BYTES // MiB} MB",
    )


def check_archive(archive: zipfile.ZipFile) -> None:
    """What the central directory declares, before a byte is inflated."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise _too_large()
    declared = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if declared > MAX_INFLATED_BYTES:
        raise _too_large()
    if declared > RATIO_FLOOR and declared > MAX_RATIO * max(packed, 1):
        raise CompressionRatioTooHigh(
            f"XLSX 文件压缩比异常（超过 {MAX_RATIO}:1），疑似压缩炸弹",
            f"The XLSX compresses more than {MAX_RATIO}:1, as a zip bomb does",
        )


class _Counted(io.RawIOBase):
    """A member being inflated, charged to its archive's budget as it is read."""

    def __init__(self, inner: IO[bytes], archive: LimitedZipFile) -> None:
        self._inner = inner
        self._archive = archive

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._inner.read(-1 if size is None else size)
        self._archive.charge(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class LimitedZipFile(zipfile.ZipFile):
    """A zip whose members together may inflate to `budget` bytes, whatever the central
    directory claims: reading past it raises UncompressedTooLarge."""

    def __init__(self, file: IO[bytes], *, budget: int = MAX_INFLATED_BYTES) -> None:
        super().__init__(file, "r")
        self.budget = budget
        self.inflated = 0

    def charge(self, size: int) -> None:
        self.inflated += size
        if self.inflated > self.budget:
            raise _too_large()

    def open(
        self,
        name: str | zipfile.ZipInfo,
        mode: Literal["r", "w"] = "r",
        pwd: bytes | None = None,
        *,
        force_zip64: bool = False,
    ) -> IO[bytes]:
        inner = super().open(name, mode, pwd, force_zip64=force_zip64)
        return io.BufferedReader(_Counted(inner, self)) if mode == "r" else inner
