"""list_history against histories worked out by hand from docs/history.md's rules."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from gradestore.list_history import ListHistory, QualifyingGrades, latest_term, list_history

NO_TERM = None


def grades(*rows: tuple[int, int | None, str]) -> QualifyingGrades:
    """(student, term or None, 'good' or 'work') per grade."""
    return QualifyingGrades(
        student=np.array([row[0] for row in rows], dtype=np.int64),
        term=np.array([0 if row[1] is None else row[1] for row in rows], dtype=np.int64),
        has_term=np.array([row[1] is not None for row in rows], dtype=bool),
        good=np.array([row[2] == "good" for row in rows], dtype=bool),
        work=np.array([row[2] == "work" for row in rows], dtype=bool),
    )


def by_list(
    blocks: Iterable[ListHistory],
) -> dict[tuple[int, str], tuple[int, int, int, bool]]:
    """(student, list) -> (earlier work terms, earlier good terms, first term listed, earlier)."""
    return {
        (student, "good" if on_good else "work"): (work, good, first, earlier)
        for history in blocks
        for student, on_good, work, good, first, earlier in zip(
            history.student.tolist(),
            history.on_good.tolist(),
            history.work_terms.tolist(),
            history.good_terms.tolist(),
            history.first_listed.tolist(),
            history.earlier.tolist(),
            strict=True,
        )
    }


ENTRIES = grades(
    # 1: good F24... terms 20242 (good), 20244 (work), 20252 (good); outside: work in 20232.
    (1, 20242, "good"), (1, 20244, "work"), (1, 20252, "good"),
    # 2: one good grade.
    (2, 20252, "good"),
    # 3: a work grade in a section without a recognised term: no history.
    (3, NO_TERM, "work"),
    # 4: a good grade without a term, a work grade in 20244.
    (4, NO_TERM, "good"), (4, 20244, "work"),
    # 5: a good and a work grade in one term (two sections).
    (5, 20244, "good"), (5, 20244, "work"),
    # 6: good in 20242; outside, a work grade in a later term.
    (6, 20242, "good"),
)  # fmt: skip
OUTSIDE = grades((1, 20232, "work"), (6, 20252, "work"), (7, 20232, "good"))


def test_each_students_history_on_each_list() -> None:
    assert by_list(list_history(ENTRIES, OUTSIDE)) == {
        # Good: latest 20252; before it work in 20232 and 20244, good in 20242.
        (1, "good"): (2, 1, 20242, True),
        # Work: latest 20244; before it work in 20232 (outside: the first work term), good 20242.
        (1, "work"): (1, 1, 20232, True),
        (2, "good"): (0, 0, 20252, False),
        # 4's good grade has no term: no good-list history; its work grade is its first.
        (4, "work"): (0, 0, 20244, False),
        # Only earlier terms count; the same term is not earlier.
        (5, "good"): (0, 0, 20244, False),
        (5, "work"): (0, 0, 20244, False),
        # The outside work grade is after 6's latest good term: it does not count.
        (6, "good"): (0, 0, 20242, False),
    }


@pytest.mark.parametrize("block", [1, 2, 5000])
def test_rows_come_by_student_then_work_before_good_in_blocks(block: int) -> None:
    blocks = list(list_history(ENTRIES, OUTSIDE, block))
    assert all(len(history.student) <= block for history in blocks)
    assert by_list(blocks) == by_list(list_history(ENTRIES, OUTSIDE))
    pairs = [
        pair
        for history in blocks
        for pair in zip(history.student.tolist(), history.on_good.tolist(), strict=True)
    ]
    assert pairs == [
        (1, False), (1, True), (2, True), (4, False), (5, False), (5, True), (6, True),
    ]  # fmt: skip


def test_entries_without_a_recognised_term_have_no_history() -> None:
    entries = grades((1, NO_TERM, "good"), (2, NO_TERM, "work"))
    assert latest_term(entries) is None
    assert by_list(list_history(entries, grades())) == {}


def test_the_latest_term_of_the_entries() -> None:
    assert latest_term(ENTRIES) == 20252
    assert latest_term(grades()) is None


def test_student_ids_too_large_for_one_number_give_the_same_history() -> None:
    """Ids near 2**62 do not fit (student, term, flags) in one int64: they are numbered anew."""
    shift = 2**61

    def shifted(g: QualifyingGrades) -> QualifyingGrades:
        return QualifyingGrades(g.student + shift, g.term, g.has_term, g.good, g.work)

    expected = {
        (student + shift, kind): value
        for (student, kind), value in by_list(list_history(ENTRIES, OUTSIDE)).items()
    }
    assert by_list(list_history(shifted(ENTRIES), shifted(OUTSIDE))) == expected


def test_terms_far_apart_give_the_same_history() -> None:
    """A term_order edited by hand far beyond any stored term (a span of 2**40) does not fit
    the terms' 4 bytes: they are ranked anew, and every first term listed is the term itself."""
    far = 2**40

    def moved(g: QualifyingGrades) -> QualifyingGrades:
        latest = latest_term(ENTRIES)
        term = np.where(g.term == latest, far, g.term)
        return QualifyingGrades(g.student, term, g.has_term, g.good, g.work)

    expected = {
        key: (work, good, far if first == latest_term(ENTRIES) else first, earlier)
        for key, (work, good, first, earlier) in by_list(list_history(ENTRIES, OUTSIDE)).items()
    }
    got = by_list(list_history(moved(ENTRIES), moved(OUTSIDE)))
    assert got == expected
    assert any(first == far for _, _, first, _ in got.values())
    assert any(first < far for _, _, first, _ in got.values())
