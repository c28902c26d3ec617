"""身份证号 validation (GB 11643): length, birth date, check digit; spreadsheet noise tolerated."""

from __future__ import annotations

from datetime import date

import pytest

from enrollment.idcard import InvalidIdNumber, check_digit, parse


def valid(first17: str) -> str:
    return first17 + check_digit(first17)


def test_valid_number_yields_birth_date_and_gender() -> None:
    n = parse(valid("11010519491231002"))
    assert n.birth_date == date(1949, 12, 31) and n.gender == "female"
    assert n.value == "11010519491231002X"


def test_full_width_digits_spaces_and_lower_x_are_normalised() -> None:
    assert parse(" １１０１０５１９４９１２３１００２x ").value == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1101051949123100", "18位"),
        ("11010519491231002Y", "数字"),
        ("110105194913310028", "出生日期"),
        ("110105209912310021", "不合理"),
    ],
)
def test_malformed_numbers_are_refused_with_a_chinese_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber) as err:
        parse(raw, today=date(2026, 11, 22))
    assert reason in err.value.zh


def test_wrong_check_digit_is_refused() -> None:
    good = valid("37010219800101123")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as err:
        parse(bad)
    assert "校验位" in err.value.zh
