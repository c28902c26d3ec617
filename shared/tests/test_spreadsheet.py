"""yanxiu.kit.spreadsheet: text a spreadsheet would run is written as text."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from yanxiu.kit.spreadsheet import safe_cell, safe_row, safe_text


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_starting_like_a_formula_gets_a_leading_apostrophe(text: str) -> None:
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("text", ["张三", "1+1", "a=b", "", "'=already quoted"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert safe_text(text) == text


def test_numbers_dates_and_empty_cells_stay_what_they_are() -> None:
    assert safe_row([-5, 1.5, date(2024, 1, 1), None, True]) == [
        -5,
        1.5,
        date(2024, 1, 1),
        None,
        True,
    ]
    assert safe_cell("-5") == "'-5"  # text that looks negative is still text


def test_characters_xml_cannot_hold_are_replaced_so_the_workbook_still_saves() -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("t")
    sheet.append(safe_row(["王\x01芳", '=HYPERLINK("http://evil","x")']))
    out = io.BytesIO()
    book.save(out)
    [row] = load_workbook(io.BytesIO(out.getvalue())).worksheets[0].iter_rows()
    assert [c.value for c in row] == ["王\ufffd芳", '\'=HYPERLINK("http://evil","x")']
    assert [c.data_type for c in row] == ["s", "s"]
