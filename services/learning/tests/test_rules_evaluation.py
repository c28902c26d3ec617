"""The three shipped rule sets, evaluated as pure data (no I/O)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from learning.rules.catalogue import shipped
from learning.rules.ruleset import Credited, RuleSet, Standing, evaluate

H = Decimal


def review() -> Credited:
    return Credited("review", H(0))  # the rule set says what a review is worth


def course(
    category: str, hours: int | str, topic: str | None = None, code: str | None = None
) -> Credited:
    return Credited(category, H(hours), topic, code)


def test_three_real_rule_sets_ship_as_data() -> None:
    assert {"shandong-2023", "shandong-2020", "hefei-it2-2021"} <= set(shipped())


# --- Shandong 2023: 3 h reviews + 2 h ethics + 19–23 h electives, total ≥ 24, credits 24–28 ---
SD23 = shipped()["shandong-2023"]


def test_shandong_2023_met_with_three_reviews_ethics_and_19_elective_hours() -> None:
    ev = evaluate(
        SD23,
        [
            review(),
            review(),
            review(),
            course("general_required", 2, "ethics"),
            course("general_elective", 10),
            course("subject_elective", 9),
        ],
    )
    assert ev.met, ev.missing
    assert ev.counted == {"subject_required": H(3), "general_required": H(2), "elective": H(19)}
    assert ev.total == 24


def test_shandong_2023_two_reviews_are_not_enough() -> None:
    ev = evaluate(
        SD23,
        [
            review(),
            review(),
            course("general_required", 2, "ethics"),
            course("general_elective", 23),
        ],
    )
    assert not ev.met
    assert ev.counted["subject_required"] == 2


def test_shandong_2023_fourth_review_and_extra_electives_are_capped() -> None:
    ev = evaluate(
        SD23,
        [review()] * 5 + [course("general_required", 2, "ethics"), course("general_elective", 30)],
    )
    assert ev.met
    assert ev.counted == {"subject_required": H(3), "general_required": H(2), "elective": H(23)}
    assert ev.total == 28  # credits 24–28


def test_shandong_2023_general_required_must_be_the_ethics_topic() -> None:
    ev = evaluate(
        SD23,
        [review()] * 3 + [course("general_required", 2, "safety"), course("general_elective", 21)],
    )
    assert not ev.met
    assert ev.counted["general_required"] == 0


def test_shandong_2023_electives_below_19_hours_fail_even_with_24_in_total() -> None:
    ev = evaluate(
        SD23,
        [review()] * 3 + [course("general_required", 2, "ethics"), course("subject_elective", 18)],
    )
    assert not ev.met and ev.total == 23


# --- Shandong 2020: subject 10 h = 3 reviews × 3 h + 1 provincial lesson;
# general 14–26 h with the 2 h law course compulsory ---
SD20 = shipped()["shandong-2020"]
LAW = course("general_required", 2, "ethics", "SD2020-LAW")


def test_shandong_2020_met_with_three_reviews_one_provincial_lesson_and_law_course() -> None:
    ev = evaluate(
        SD20, [review()] * 3 + [course("subject_required", 1), LAW, course("general_elective", 12)]
    )
    assert ev.met, ev.missing
    assert ev.counted == {"subject": H(10), "general": H(14)}


def test_shandong_2020_second_provincial_lesson_does_not_replace_a_review() -> None:
    ev = evaluate(
        SD20,
        [review()] * 2
        + [
            course("subject_required", 1),
            course("subject_required", 1),
            LAW,
            course("general_elective", 20),
        ],
    )
    assert not ev.met
    assert ev.counted["subject"] == 7  # 6 h of reviews + the 1 h cap on provincial lessons


def test_shandong_2020_law_course_is_compulsory() -> None:
    ev = evaluate(
        SD20, [review()] * 3 + [course("subject_required", 1), course("general_elective", 26)]
    )
    assert not ev.met
    assert any("SD2020-LAW" in m for m in ev.missing)


def test_shandong_2020_general_hours_capped_at_26() -> None:
    ev = evaluate(
        SD20, [review()] * 3 + [course("subject_required", 1), LAW, course("general_elective", 40)]
    )
    assert ev.met and ev.counted["general"] == 26


# --- Hefei IT 2.0: 30 h online + 30 h school-based ---
HF = shipped()["hefei-it2-2021"]


# The teacher's tasks and 20 credits of ability points passed (test_it2_ability_points.py).
HF_DONE = Standing(
    passed_tasks=frozenset({"personal_plan", "lesson_case"}),
    passed_points=frozenset({"A1", "A3", "B2", "C3"}),
)


def test_hefei_needs_30_online_and_30_school_based_hours() -> None:
    online_only = evaluate(HF, [course("subject_elective", 40)], HF_DONE)
    assert not online_only.met and online_only.counted == {"online": H(30), "school_based": H(0)}
    both = evaluate(
        HF,
        [
            course("subject_elective", 20),
            course("general_elective", 10),
            course("school_based", 30),
        ],
        HF_DONE,
    )
    assert both.met and both.total == 60


def test_hefei_reviews_earn_nothing() -> None:
    ev = evaluate(HF, [review()] * 3)
    assert ev.total == 0


# --- a new year's rules are a document, validated, with no code change ---
def test_new_rule_set_document_validates_without_code() -> None:
    doc = {
        "code": "shandong-2024",
        "name": "2024年",
        "buckets": [
            {"code": "all", "name": "全部", "categories": ["general_elective"], "min_hours": "24"}
        ],
        "total_min_hours": "24",
        "windows": {"learning": {"opens": "2024-08-15", "closes": "2024-12-31"}},
    }
    rules = RuleSet.model_validate(doc)
    assert evaluate(rules, [course("general_elective", 24)]).met


@pytest.mark.parametrize(
    "broken",
    [
        {"buckets": []},
        {"buckets": [{"code": "a", "name": "a", "categories": ["x"], "min_hours": "1"}] * 2},
        {"windows": {"learning": {"opens": "12-31", "closes": "08-15"}}},
        {"windows": {"holiday": {"opens": "01-01", "closes": "01-02"}}},
        {"max_school_topics": 0, "mandatory_topics": ["ethics"]},
    ],
)
def test_invalid_rule_set_documents_are_refused(broken: dict[str, object]) -> None:
    doc = SD23.model_dump(mode="json") | broken
    with pytest.raises(ValidationError):
        RuleSet.model_validate(doc)
