"""The streamed JSON document: valid JSON whatever an item holds (NaN, dataclasses, times)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from gradestore.render import write_json_document


@dataclass(frozen=True)
class _Entry:
    section: str
    grade: str


def test_items_with_nan_dataclasses_and_timestamps_make_strict_json() -> None:
    out = io.StringIO()
    write_json_document(
        out,
        {"analysis_id": 7, "created_at": datetime(2026, 12, 1, 10, 0, tzinfo=UTC)},
        [
            ("sections", [{"section": "Ünï", "mean_gpa": float("nan"), "z": [1.5, None]}]),
            ("good_list", [{"entries": [_Entry("S1", "A")]}, {"entries": []}]),
            ("work_list", []),
        ],
    )
    text = out.getvalue()
    assert json.loads(text, parse_constant=lambda name: pytest_fail(name)) == {
        "analysis_id": 7,
        "created_at": "2026-12-01T10:00:00+00:00",
        "sections": [{"section": "Ünï", "mean_gpa": None, "z": [1.5, None]}],
        "good_list": [{"entries": [{"section": "S1", "grade": "A"}]}, {"entries": []}],
        "work_list": [],
    }
    assert "Ünï" in text  # written as text, not \\u escapes
    assert text.count("\n    ") == 3  # one item a line


def pytest_fail(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


# Values a name or section can hold: quotes, backslashes, control characters, line and
# paragraph separators, non-ASCII, a lone surrogate's neighbours, the empty string.
HOSTILE = ["", 'O"Brien', "back\\slash", "tab\there", "nl\nx", "\x00\x1f\x7f", "Ünï 中文 😀",
           "\u2028\u2029", "</script>", "{\"a\": 1}", "null"]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("history", [(None, None, None), (0, 3, "F21"), (12, 0, None)])
def test_a_listed_student_is_written_as_the_encoder_writes_it(
    value: str, history: tuple[int | None, int | None, str | None]
) -> None:
    """student_json writes a student by hand: byte for byte what json.dumps writes of its
    as_json() (ensure_ascii=False), also with terms_on_work_list appended last."""
    from gradestore.render import student_json
    from gradestore.results import ListedStudent, ListEntry

    work, good, first = history
    for entries in ([], [ListEntry(value, "A")], [ListEntry("S1", value), ListEntry(value, "F")]):
        for appeared in (False, True):
            student = ListedStudent(
                value, value + "f", "l" + value, entries, appeared, work, good,
                None if first is None else first + value,
            )  # fmt: skip
            assert student_json(student) == json.dumps(student.as_json(), ensure_ascii=False)
            expected = {**student.as_json(), "terms_on_work_list": student.terms_on_work_list}
            assert student_json(student, terms_on_work_list=True) == json.dumps(
                expected, ensure_ascii=False
            )


def test_many_items_are_written_in_blocks_and_stay_one_a_line() -> None:
    from gradestore.render import _ITEMS_PER_WRITE

    writes: list[str] = []

    class Out(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    out = Out()
    items = [{"n": n} for n in range(_ITEMS_PER_WRITE * 3 + 7)]
    write_json_document(out, {"k": 1}, [("items", items), ("empty", [])])
    assert json.loads(out.getvalue()) == {"k": 1, "items": items, "empty": []}
    assert out.getvalue().count("\n    ") == len(items)
    assert len(writes) < 12  # blocks, not one write per item


def test_grade_counts_template_writes_what_json_dumps_writes() -> None:
    """analysis_sections.grade_counts is written from a template of the scale's letters."""
    from gradestore.persistence.analysis_store import grade_counts_template

    for letters, counts in [
        (("A+", "A", "B", "F", "W"), (0, 12, 3, 45000, 1)),
        (('Q"', "%d", "50%", "\\", "é", "\u2028", "x\ty"), (1, 2, 3, 4, 5, 6, 7)),
    ]:
        expected = json.dumps(dict(zip(letters, counts, strict=True)))
        assert grade_counts_template(letters) % counts == expected


def _document(items: list[object]) -> str:
    out = io.StringIO()
    write_json_document(out, {"k": 1}, [("items", items)])
    return out.getvalue()


def _written(item: Callable[[], object]) -> str:
    """The document of one item, or the error that making the item raised (stored text
    that is no JSON)."""
    try:
        return _document([item()])
    except ValueError as error:
        return f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("terms_on_work_list", [False, True])
def test_a_lists_rows_are_written_as_its_students_are(terms_on_work_list: bool) -> None:
    """list_json_texts writes each student straight from the list's rows: the bytes
    student_json writes of the students StoredList groups from the same rows (the first row's
    names and history, appeared before if any row says so), and json.dumps' of as_json()."""
    from gradestore.render import list_json_texts, student_json
    from gradestore.results import StoredList

    rows = []
    for number, value in enumerate(HOSTILE):
        history = [(None, None, None), (0, 3, "F21" + value), (12, 0, None)][number % 3]
        for entry in range(number % 4 + 1):  # one to four entries a student
            appeared = (number + entry) % 3 == 1  # some students on one row only, some none
            # A later row's history differs: the first row's is the student's.
            work, good, first = history if entry == 0 else (99, 98, "later")
            rows.append(
                (f"id{value}{number}", value + "f", "l" + value, f"S{entry}{value}",
                 HOSTILE[(number + entry) % len(HOSTILE)], int(appeared), work, good, first)
            )  # fmt: skip
    rows.append(("only", "", "", "S", "A", True, None, None, None))  # a boolean, a last student
    texts = list(list_json_texts(iter(rows), terms_on_work_list=terms_on_work_list))
    students = list(StoredList(iter(rows)))
    assert len(texts) == len(students) == len(HOSTILE) + 1
    assert any(s.appeared_before for s in students) and not all(s.appeared_before for s in students)
    for text, student in zip(texts, students, strict=True):
        assert text == student_json(student, terms_on_work_list=terms_on_work_list)
        expected = student.as_json()
        if terms_on_work_list:
            expected["terms_on_work_list"] = student.terms_on_work_list
        assert text == json.dumps(expected, ensure_ascii=False)
    assert list(list_json_texts(iter([]))) == []


LETTERS = ("A+", "A", "B", "F", "W")
CANONICAL = '{"A+": 1, "A": 0, "B": 12, "F": 45000, "W": 3}'


def _test_row(**values: object) -> tuple[object, ...]:
    """A stored section test (report_queries.SectionTestTuple), changed by ``values``."""
    row: dict[str, object] = {
        "section": "S1", "group": "G1", "count": 45016, "mean_gpa": 2.5, "grade_counts": CANONICAL,
        "z_score": -1.25, "p_value": 0.21, "significant": 0, "p_adjusted": 0.5,
        "significant_adjusted": 0, "effect_size": 0.1, "no_test_reason": None, "against": 2.4,
    }  # fmt: skip
    row.update(values)
    return tuple(row.values())


# Stored grade counts the direct text must not write as they are: the encoder writes them
# otherwise (spacing, order, leading zeros, -0, escapes, repeated keys, other digits, floats).
OTHER_COUNTS = [
    '{"A+":1, "A": 0, "B": 12, "F": 45000, "W": 3}',
    '{"A": 0, "A+": 1, "B": 12, "F": 45000, "W": 3}',
    '{"A+": 1 , "A": 0, "B": 12, "F": 45000, "W": 3}',
    '{"A+": 1, "A": 0, "B": 012, "F": 45000, "W": 3}',
    '{"A+": -0, "A": 0, "B": 12, "F": 45000, "W": 3}',
    '{"A+": 1, "A": 0, "B": 12, "F": 45000, "W": 3, "W": 4}',
    '{"A\\u002b": 1, "A": 0, "B": 12, "F": 45000, "W": 3}',
    '{"A+": 1.0, "A": 0, "B": 12, "F": 45000, "W": 3}',
    '{"A+": 1e0, "A": 0, "B": 12, "F": 45000, "W": 3}',
    '{"A+": 1, "A": 0, "B": 12, "F": 45000}',
    '{ "A+": 1, "A": 0, "B": 12, "F": 45000, "W": 3}',
]


def test_a_section_test_is_written_as_the_encoder_writes_its_object() -> None:
    """section_test_json writes a stored test straight from its row: in the document, the
    bytes of SectionTest.as_json() through the document's encoder, for hostile names,
    numbers the direct text leaves to the encoder (NaN, infinities, an int for a float) and
    grade counts stored in other forms than the encoder's."""
    from gradestore.render import GradeCountsText, _JsonText, section_test_json
    from gradestore.results import StreamedTests

    counts = GradeCountsText(LETTERS)
    rows = [_test_row()]
    for value in HOSTILE:
        rows += [
            _test_row(section=value, group=value, no_test_reason=value),
            _test_row(section=value, group=None, z_score=None, p_value=None),  # in no group
            _test_row(group=None, no_test_reason=value),  # in no group, a z from elsewhere
        ]
    for name in ("mean_gpa", "z_score", "p_value", "p_adjusted", "effect_size"):
        for number in (None, float("nan"), float("inf"), -float("inf"), 3, -0.0, 1e-300, 5e16):
            rows.append(_test_row(**{name: number}))
    for flag in (True, False, 1, 0, None):
        rows.append(_test_row(significant=bool(flag), significant_adjusted=flag))
    rows += [_test_row(grade_counts=text) for text in OTHER_COUNTS]
    rows += [_test_row(count=True), _test_row(count=2.0)]

    def old(row: object) -> object:
        return next(iter(StreamedTests(iter([row])))).as_json()  # type: ignore[list-item]

    written = []
    for row in rows:
        new = functools.partial(section_test_json, row, counts)  # type: ignore[arg-type]
        assert _written(new) == _written(functools.partial(old, row)), row
        with contextlib.suppress(ValueError):
            written.append(new())
    assert isinstance(written[0], _JsonText)  # the direct text, not the encoder's walk
    assert sum(isinstance(item, _JsonText) for item in written) > len(HOSTILE) * 3
    for text in OTHER_COUNTS:
        assert not GradeCountsText(LETTERS).is_encoded(text), text
    assert GradeCountsText(LETTERS).is_encoded(CANONICAL)


@pytest.mark.parametrize(
    "letters", [("é", "A"), ("\u2028",), ('Q"', "\\", "x\ty"), ("A", "A"), ("%d", "50%"), ()]
)
def test_grade_counts_of_any_scale_are_written_as_the_encoder_writes_them(
    letters: tuple[str, ...],
) -> None:
    """The stored text (grade_counts_template's, json.dumps' with ensure_ascii) is written as
    it is only where the encoder (without ensure_ascii) writes the same bytes."""
    from gradestore.persistence.analysis_store import grade_counts_template
    from gradestore.render import GradeCountsText, section_test_json
    from gradestore.results import StreamedTests

    stored = grade_counts_template(letters) % tuple(range(7, 7 + len(letters)))
    row = _test_row(grade_counts=stored)
    item = section_test_json(row, GradeCountsText(letters))  # type: ignore[arg-type]
    test = next(iter(StreamedTests(iter([row]))))  # type: ignore[list-item]
    assert _document([item]) == _document([test.as_json()])
    if len(set(letters)) == len(letters):  # the stored text is json.dumps' of the counts
        assert stored == json.dumps(test.grade_counts)
