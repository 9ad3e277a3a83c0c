"""The streamed JSON document: valid JSON whatever an item holds (NaN, dataclasses, times)."""

from __future__ import annotations

import io
import json
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
