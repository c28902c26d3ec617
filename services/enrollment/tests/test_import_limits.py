"""Imports cannot stall enrollment (issue #12, point 6): an XLSX zip bomb is refused from its
central directory within 2 s while the same service, served by uvicorn on a real port, keeps
answering /healthz in under 100 ms; files over the limits on upload size, inflated size,
compression ratio, rows or columns are a 413 problem with their own code."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from enrollment.config import Settings
from enrollment.imports import limits, parsing
from enrollment.imports.errors import (
    CompressionRatioTooHigh,
    TooManyColumns,
    UncompressedTooLarge,
)
from enrollment.main import create_app
from services.enrollment.tests.conftest import LIXIA_SCHOOL, seed_orgs
from services.enrollment.tests.test_import import HEADERS, auth, csv_bytes, row, upload
from yanxiu.testing import served

SHEET = "xl/worksheets/sheet1.xml"


def xlsx_with_sheet(blank_mib: int) -> bytes:
    """A real workbook whose first sheet is padded with `blank_mib` MiB of whitespace between
    its XML tags: valid XML, and deflate packs it about 1,000 to 1. Built from one compressed
    MiB repeated (each ends in a full flush, so the copies join into one valid stream) rather
    than by deflating it all, which takes seconds per GiB."""
    book = io.BytesIO()
    Workbook().save(book)
    source = zipfile.ZipFile(io.BytesIO(book.getvalue()))
    members = [
        (info.filename, _deflated(source.read(info.filename)))
        for info in source.infolist()
        if info.filename != SHEET
    ]
    head = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>'
    )
    tail = b"</sheetData></worksheet>"
    blank = b" " * (1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(blank) + packer.flush(zlib.Z_FULL_FLUSH)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    last = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(blank_mib):
        crc = zlib.crc32(blank, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + blank_mib * len(blank) + len(tail)
    members.append((SHEET, (first + block * blank_mib + last, crc, size)))
    return _zip(members)


def _deflated(data: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(), zlib.crc32(data), len(data)


def _zip(members: list[tuple[str, tuple[bytes, int, int]]]) -> bytes:
    """A zip of deflated members, written by hand (zipfile cannot take deflated data)."""
    out, directory = io.BytesIO(), io.BytesIO()
    for name, (data, crc, size) in members:
        raw = name.encode()
        offset = out.tell()
        out.write(
            struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(raw), 0
            )
        )
        out.write(raw + data)
        directory.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(raw),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
        )
    start = out.tell()
    out.write(directory.getvalue())
    out.write(
        struct.pack(
            "<4s4H2LH",
            b"PK\x05\x06",
            0,
            0,
            len(members),
            len(members),
            len(directory.getvalue()),
            start,
            0,
        )
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """1 MiB that inflates to 1 GiB."""
    bomb = xlsx_with_sheet(1024)
    assert len(bomb) <= 1.1 * (1 << 20)
    return bomb


async def test_a_zip_bomb_is_refused_within_2s_while_healthz_answers_within_100ms(
    settings_for: Callable[..., Any], token_for: Callable[..., str], zip_bomb: bytes
) -> None:
    app = create_app(settings_for(Settings))
    async with served(app) as url:
        async with app.state.runtime.session_factory() as session, session.begin():
            await seed_orgs(session)
        latencies: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            async with httpx.AsyncClient(base_url=url) as health:
                while not done.is_set():
                    started = time.perf_counter()
                    answer = await health.get("/healthz")
                    latencies.append(time.perf_counter() - started)
                    assert answer.status_code == 200
                    await asyncio.sleep(0.01)

        prober = asyncio.create_task(probe())
        await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            started = time.perf_counter()
            answer = await upload(
                client, token_for("city_admin", LIXIA_SCHOOL[:2]), zip_bomb, name="bomb.xlsx"
            )
            elapsed = time.perf_counter() - started
        await asyncio.sleep(0.1)
        done.set()
        await prober
    assert answer.status_code == 413, answer.text
    problem = answer.json()
    assert problem["code"] == "import_uncompressed_too_large"
    assert problem["message_zh"] and problem["message_en"]
    assert elapsed < 2.0
    assert len(latencies) >= 5 and max(latencies) < 0.1, latencies


def test_a_zip_that_inflates_past_the_limit_is_refused_before_parsing(zip_bomb: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(UncompressedTooLarge):
        parsing.read_sheet(zip_bomb, filename="bomb.xlsx")
    assert time.perf_counter() - started < 0.5


def test_a_zip_compressing_like_a_bomb_is_refused_even_under_the_size_limit() -> None:
    small_bomb = xlsx_with_sheet((limits.RATIO_FLOOR >> 20) + 4)
    with pytest.raises(CompressionRatioTooHigh):
        parsing.read_sheet(small_bomb, filename="bomb.xlsx")


def test_inflating_stops_at_the_budget_whatever_the_directory_declares() -> None:
    # The central directory can lie; the bytes actually inflated are what is counted.
    content = xlsx_with_sheet(4)
    with (
        limits.LimitedZipFile(io.BytesIO(content), budget=1 << 20) as archive,
        pytest.raises(UncompressedTooLarge),
    ):
        archive.read(SHEET)
    with limits.LimitedZipFile(io.BytesIO(content), budget=8 << 20) as archive:
        assert len(archive.read(SHEET)) > 4 << 20


def test_text_beyond_the_column_limit_is_refused() -> None:
    wide = [*HEADERS, *[""] * limits.MAX_COLUMNS, "多余"]
    with pytest.raises(TooManyColumns):
        parsing.read_sheet(csv_bytes([row()], headers=wide), filename="wide.csv")
    # Empty columns past the limit (a sheet's formatting) are no reason to refuse a file.
    blank = [*HEADERS, *[""] * (limits.MAX_COLUMNS + 20)]
    assert len(parsing.read_sheet(csv_bytes([row()], headers=blank)).rows) == 1


async def test_an_upload_past_the_size_limit_is_refused_by_its_length_alone(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    answer = await client.post(
        "/teachers/import",
        content=b"x" * 16,
        headers={
            **auth(token_for("city_admin", LIXIA_SCHOOL[:2])),
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(limits.MAX_BYTES + 1024 * 1024),
        },
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == "import_file_too_large"
