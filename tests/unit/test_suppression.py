"""gradestore.suppression on hand-written values: what is withheld, and what is not."""

from __future__ import annotations

import pytest

from gradestore.errors import UsageError
from gradestore.suppression import Suppression, check_suppress_below

HIDE = Suppression(5)


def test_counts_below_k_zero_included_are_withheld() -> None:
    assert [HIDE.count_cell(n) for n in (0, 1, 4, 5, 6)] == ["<5", "<5", "<5", 5, 6]
    assert HIDE.grade_count_cells({"A": 7, "B": 2}, ["A", "B", "C"]) == [7, "<5", "<5"]


def test_a_small_test_loses_every_figure_and_a_large_one_keeps_them() -> None:
    small = {"section": "S", "count": 4, "mean_gpa": 3.0, "grade_counts": {"A": 4, "F": 0},
             "z_score": 1.0, "p_value": 0.3, "significant": False, "effect_size": 0.2,
             "p_adjusted": 0.4, "significant_adjusted": False, "no_test_reason": None}  # fmt: skip
    assert HIDE.masked_json(small) == {
        "section": "S", "count": None, "mean_gpa": None, "grade_counts": {"A": None, "F": None},
        "z_score": None, "p_value": None, "significant": None, "effect_size": None,
        "p_adjusted": None, "significant_adjusted": None, "no_test_reason": None,
        "suppressed": True,
    }  # fmt: skip
    large = {**small, "count": 9, "grade_counts": {"A": 9}}
    assert HIDE.masked_json(large) == large  # nothing withheld: no "suppressed" key


def test_a_report_masks_its_tests_and_drops_its_students() -> None:
    report = {
        "count": 3,
        "mean_gpa": 2.0,
        "tests": [{"group": "G", "z_score": 1.5, "p_value": 0.1}],
        "good_list": [{"student_id": "1"}] * 6,
        "work_list": [{"student_id": "2"}],
        "section_tests": [{"count": 8, "z_score": 0.5}, {"count": 2, "z_score": 2.5}],
    }
    masked = HIDE.masked_json(report)
    assert masked["count"] is None and masked["mean_gpa"] is None
    assert masked["tests"] == [{"group": "G", "z_score": None, "p_value": None, "suppressed": True}]
    assert masked["good_list"] is None and masked["good_list_size"] == 6
    assert masked["work_list"] is None and masked["work_list_size"] is None  # 1 < 5
    assert masked["section_tests"] == [
        {"count": 8, "z_score": 0.5},
        {"count": None, "z_score": None, "suppressed": True},
    ]
    assert report["count"] == 3  # the input is left as it is


def test_k_is_checked() -> None:
    assert check_suppress_below(None) is None
    assert check_suppress_below(2) == Suppression(2)
    with pytest.raises(UsageError, match=r"^--suppress-below must be at least 2 \(got 0\)$"):
        check_suppress_below(0)
