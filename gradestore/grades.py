"""The grade scale and the list rules of design.md section 2."""

from __future__ import annotations

from enum import StrEnum

GRADE_POINTS: dict[str, float] = {
    "A+": 4.0,
    "A": 4.0,
    "A-": 3.7,
    "B+": 3.3,
    "B": 3.0,
    "B-": 2.7,
    "C+": 2.3,
    "C": 2.0,
    "C-": 1.7,
    "D+": 1.3,
    "D": 1.0,
    "D-": 0.7,
    "F": 0.0,
}
NOT_COUNTED: tuple[str, ...] = ("I", "W", "P", "NP")
# Every letter in the order reports show them.
ALL_GRADES: tuple[str, ...] = (*GRADE_POINTS, *NOT_COUNTED)

GOOD_GRADES: tuple[str, ...] = ("A+", "A", "A-")
WORK_GRADES: tuple[str, ...] = ("D+", "D", "D-", "F")
QUALIFYING_GRADES: tuple[str, ...] = GOOD_GRADES + WORK_GRADES


class ListCategory(StrEnum):
    """Stored in ``performances.category``: the seed called the work list 'bad'."""

    GOOD = "good"
    BAD = "bad"


def normalize_grade(raw: str) -> str | None:
    """The canonical letter for ``raw`` (any case, surrounding space ignored), or None."""
    letter = raw.strip().upper()
    return letter if letter in GRADE_POINTS or letter in NOT_COUNTED else None


def grade_points(letter: str) -> float | None:
    """Grade points, or None for letters that do not count in GPA (I, W, P, NP)."""
    return GRADE_POINTS.get(letter)


def list_category(letter: str) -> ListCategory | None:
    if letter in GOOD_GRADES:
        return ListCategory.GOOD
    if letter in WORK_GRADES:
        return ListCategory.BAD
    return None
