"""The lists' history by term (docs/history.md), computed from the qualifying grades as arrays.

Pure: the store reads the grades and writes the result. Each listed student's history on a
list depends only on their terms up to the latest term of their entries on that list, so one
sort of (student, term) answers every student at once; in SQL the same rules took three
GROUP BYs and a range join, two thirds of an analysis of a million grades.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class QualifyingGrades:
    """Qualifying grades, one element per grade: the student, the term (``has_term`` false:
    an unrecognised term or none, ``term`` then ignored), and whether the grade is of the good
    list, of the work list."""

    student: IntArray
    term: IntArray
    has_term: BoolArray
    good: BoolArray
    work: BoolArray


@dataclass(frozen=True)
class ListHistory:
    """One element per (student, list) with a recognised latest term: the student, whether
    the list is the good list, the distinct earlier terms with a work-list and with a good-list
    grade, the first term with a grade of this list, and whether any qualifying grade of
    theirs is in a term earlier than the latest (appeared before)."""

    student: IntArray
    on_good: BoolArray
    work_terms: IntArray
    good_terms: IntArray
    first_listed: IntArray
    earlier: BoolArray


def latest_term(entries: QualifyingGrades) -> int | None:
    """The latest recognised term of the entries (grades of other sections count up to it)."""
    return int(entries.term[entries.has_term].max()) if entries.has_term.any() else None


def list_history(
    entries: QualifyingGrades, outside: QualifyingGrades, block: int = 5000
) -> Iterator[ListHistory]:
    """The history of each (student, list) of ``entries`` (the analysis' qualifying grades;
    an entry is on the good list when its grade is good, else on the work list), over their
    terms of ``entries`` and ``outside`` (qualifying grades of sections outside the analysis,
    in terms up to :func:`latest_term`).

    The latest term of a student on a list is the latest recognised term of their entries on
    it (none: no history). Up to it: the distinct earlier terms with a grade of each list; the
    first term with a grade of this list (the latest term has one, so it is their first such
    term); and their first term with any qualifying grade, earlier than the latest or not.
    By (student, list), the work list first, ``block`` of them at a time (each made as it is
    used: at 5M grades whole arrays of them were 40 MB).
    """
    import numpy as np

    if not entries.has_term.any():
        return
    dated_terms = entries.term[entries.has_term]
    first_term = int(min(dated_terms.min(), _first(outside)))
    span = int(max(dated_terms.max(), _last(outside))) - first_term + 1
    del dated_terms
    students_above = int(max(entries.student.max(), _last_student(outside))) + 1
    if students_above * span * 8 >= 2**62 or span >= 2**31 - 1:
        # Ids or terms far beyond any store's (a term_order edited by hand): students and
        # terms numbered anew by rank, which keeps every comparison the rules make; the
        # terms are kept in 4 bytes below.
        count = len(entries.student)
        ids, numbers = np.unique(
            np.concatenate([entries.student, outside.student]), return_inverse=True
        )
        terms, ranks = np.unique(np.concatenate([entries.term, outside.term]), return_inverse=True)
        for history in list_history(
            replace(entries, student=numbers[:count], term=ranks[:count]),
            replace(outside, student=numbers[count:], term=ranks[count:]),
            block,
        ):
            yield replace(
                history, student=ids[history.student], first_listed=terms[history.first_listed]
            )
        return
    # The latest term of each (student, list) of the dated entries: the last of its run.
    # (First: the arrays below are then not yet made; at 5M grades the peak of an analysis
    # is in this function.)
    dated = entries.has_term
    pair_code = entries.student[dated]
    pair_code *= 2
    pair_code += entries.good[dated]
    pair_code *= span
    term = entries.term[dated]
    term -= first_term
    pair_code += term
    del term
    pair_code.sort()
    pair = pair_code // span
    last = np.empty(len(pair), bool)
    last[-1] = True
    np.not_equal(pair[1:], pair[:-1], out=last[:-1])
    pair, pair_latest = pair[last], pair_code[last] % span
    del pair_code, last
    pair_student, pair_on_good = pair // 2, pair % 2 == 1
    del pair

    # Each dated grade as one number, (student, term, list flags), sorted in place: a key is
    # one (student, term), each student's terms are a run of keys in term order. Arrays are
    # made in place and dropped once used, counts and terms kept in 4 bytes (at 5M grades
    # each array of 8 bytes a grade is 16 MB).
    code = _dated_codes(entries, first_term, span)
    if outside.has_term.any():
        code = np.concatenate([code, _dated_codes(outside, first_term, span)])
    # A caller that keeps no reference of its own frees the grades here.
    del entries, outside
    code.sort()
    flags = code.astype(np.uint8) & 3
    code >>= 2
    is_first = np.empty(len(code), bool)
    is_first[0] = True
    np.not_equal(code[1:], code[:-1], out=is_first[1:])
    key_start = np.flatnonzero(is_first)
    del is_first
    key_code = code[key_start]
    del code
    key_flags = np.bitwise_or.reduceat(flags, key_start)
    del flags, key_start
    key_student = key_code // span
    key_term = (key_code % span).astype(np.int32)
    is_first = np.empty(len(key_student), bool)
    is_first[0] = True
    np.not_equal(key_student[1:], key_student[:-1], out=is_first[1:])
    first_key = np.flatnonzero(is_first)  # each student's first key
    del is_first
    students = key_student[first_key]
    del key_student
    works_before = np.zeros(len(key_code) + 1, np.int32)
    np.cumsum((key_flags & 2) != 0, out=works_before[1:])
    goods_before = np.zeros(len(key_code) + 1, np.int32)
    np.cumsum((key_flags & 1) != 0, out=goods_before[1:])
    never = np.iinfo(np.int32).max
    first_good = np.minimum.reduceat(np.where(key_flags & 1, key_term, never), first_key)
    first_work = np.minimum.reduceat(np.where(key_flags & 2, key_term, never), first_key)
    del key_flags, key_term

    for begin in range(0, len(pair_student), block):
        student = pair_student[begin : begin + block]
        on_good, latest = pair_on_good[begin : begin + block], pair_latest[begin : begin + block]
        position = np.searchsorted(students, student)
        start = first_key[position]
        at_latest = np.searchsorted(key_code, student * span + latest)
        first_listed = np.where(on_good, first_good[position], first_work[position])
        yield ListHistory(
            student=student,
            on_good=on_good,
            work_terms=(works_before[at_latest] - works_before[start]).astype(np.int64),
            good_terms=(goods_before[at_latest] - goods_before[start]).astype(np.int64),
            first_listed=first_listed.astype(np.int64) + first_term,
            earlier=at_latest > start,
        )


def _dated_codes(grades: QualifyingGrades, first_term: int, span: int) -> IntArray:
    """(student x span + term - first_term) x 4 + 1 (good) + 2 (work) of each dated grade."""
    dated = grades.has_term
    code = grades.student[dated]
    code *= span
    term = grades.term[dated]
    term -= first_term
    code += term
    del term
    code *= 4
    code += grades.good[dated]
    work = grades.work[dated]
    code += work
    code += work
    return code


def _first(grades: QualifyingGrades) -> int:
    dated = grades.term[grades.has_term]
    return int(dated.min()) if len(dated) else 2**62


def _last(grades: QualifyingGrades) -> int:
    dated = grades.term[grades.has_term]
    return int(dated.max()) if len(dated) else -(2**62)


def _last_student(grades: QualifyingGrades) -> int:
    return int(grades.student.max()) if len(grades.student) else 0
