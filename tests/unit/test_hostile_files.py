"""Readers facing hostile or mistaken files: names that leave the data folder, huge lines,
control characters in names, and the .lst layout reading back what gradestore writes."""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradestore.grades import DEFAULT_SCALE
from gradestore.kinds import ListKind
from gradestore.readers import (
    ListEntry,
    Problem,
    read_group_file,
    read_run_file,
    resolve_reference,
)
from gradestore.readers.legacy import RefusedName
from gradestore.readers.text import MAX_LINE_BYTES, is_clean_text_file, iter_decoded_lines
from tests.helpers import read_grade_csv, read_list_file, read_section_file

HEADER = "section,student_id,last_name,first_name,grade\n"
SECRET = "root:x:0:0:secret-line"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def errors(problems: list[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in problems if not p.is_warning]


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """data/{Runs,Groups,Sections} with one section, and a folder outside it holding secrets."""
    data = tmp_path / "data"
    write(data / "Sections" / "S1.SEC", 'S1 3\n"Lee, Ann","1","A"\n')
    (data / "Runs").mkdir()
    write(tmp_path / "outside" / "X.SEC", f'X 3\n"{SECRET}","2","B"\n')
    write(tmp_path / "outside" / "X.GRP", f"X\n{SECRET}.SEC\n")
    return data


def group_errors(data: Path, *entries: str) -> list[tuple[int | None, str]]:
    path = write(data / "Groups" / "G.GRP", "G\n" + "\n".join(entries) + "\n")
    group = read_group_file(path, "G.GRP")
    assert all(SECRET not in str(problem) for problem in group.problems)
    return errors(group.problems)


def test_a_run_naming_an_absolute_path_is_refused_at_its_line(layout: Path) -> None:
    path = write(layout / "Runs" / "R.RUN", "R\n/etc/passwd\n" + f"{layout.parent}/outside/X.GRP\n")
    run = read_run_file(path, "R.RUN")
    assert [str(p) for p in run.problems] == [
        "R.RUN:2: refused group file name: '/etc/passwd' is an absolute path: "
        "name a file within the data folder",
        f"R.RUN:3: refused group file name: {str(layout.parent)[:40]!r}... is an absolute path: "
        "name a file within the data folder",
    ]
    assert [r.path for r in run.groups] == [None, None]


def test_dot_dot_leaving_the_data_folder_is_refused_whether_or_not_the_file_exists(
    layout: Path,
) -> None:
    assert group_errors(layout, "../../outside/X.SEC", "../../outside/NONE.SEC") == [
        (2, "refused section file name: '../../outside/X.SEC' leads outside the data folder"),
        (3, "refused section file name: '../../outside/NONE.SEC' leads outside the data folder"),
    ]


def test_dot_dot_within_the_data_folder_is_followed(layout: Path) -> None:
    path = write(layout / "Groups" / "G.GRP", "G\n../Sections/S1.SEC\n")
    group = read_group_file(path)
    assert group.problems == []
    assert [r.path for r in group.members] == [layout / "Groups" / "../Sections/S1.SEC"]


def test_a_symlink_out_of_the_data_folder_is_refused_one_within_is_followed(
    layout: Path,
) -> None:
    os.symlink(layout.parent / "outside" / "X.SEC", layout / "Sections" / "OUT.SEC")
    os.symlink(layout / "Sections" / "S1.SEC", layout / "Sections" / "IN.SEC")
    os.symlink(layout.parent / "outside", layout / "Sections" / "away")
    assert group_errors(layout, "OUT.SEC", "IN.SEC", "away/X.SEC") == [
        (2, "refused section file name: 'OUT.SEC' leads outside the data folder"),
        (4, "refused section file name: 'away/X.SEC' leads outside the data folder"),
    ]


def test_a_group_naming_another_kind_of_file_says_so_at_its_line(layout: Path) -> None:
    write(layout / "Groups" / "OTHER.GRP", "OTHER\nS1.SEC\n")
    write(layout / "Sections" / "notes.txt", SECRET)
    assert group_errors(layout, "OTHER.GRP", "notes.txt", "R.RUN", "S1") == [
        (2, "refused section file name: 'OTHER.GRP' is a group file, not a section file (.SEC)"),
        (3, "refused section file name: 'notes.txt' is not a section file (.SEC)"),
        (4, "refused section file name: 'R.RUN' is a run file, not a section file (.SEC)"),
        (5, "refused section file name: 'S1' is not a section file (.SEC)"),
    ]
    run = read_run_file(write(layout / "Runs" / "R.RUN", "R\nS1.SEC\n"))
    assert errors(run.problems) == [
        (2, "refused group file name: 'S1.SEC' is a section file, not a group file (.GRP)")
    ]


def test_long_windows_and_control_character_entries_are_refused_quoting_a_prefix(
    layout: Path,
) -> None:
    long_entry = "a" * 300 + ".SEC"
    found = group_errors(
        layout, long_entry, "C:\\grades\\S1.SEC", "\\\\server\\S1.SEC", "S\x1b1.SEC"
    )
    assert found == [
        (2, f"refused section file name: {'a' * 40!r}... is longer than 255 characters"),
        (3, "refused section file name: 'C:\\\\grades\\\\S1.SEC' is an absolute path: "
         "name a file within the data folder"),
        (4, "refused section file name: '\\\\\\\\server\\\\S1.SEC' is an absolute path: "
         "name a file within the data folder"),
        (5, "refused section file name: 'S\\x1b1.SEC' holds a control character"),
    ]  # fmt: skip


def test_a_missing_entry_is_quoted_by_a_short_prefix(layout: Path) -> None:
    entry = "N" * 100 + ".SEC"
    assert group_errors(layout, entry) == [
        (2, f"cannot find section file {'N' * 40!r}... "
         "(looked next to it and in ../Sections, ../Groups)")
    ]  # fmt: skip


def test_resolve_reference_refuses_before_looking(layout: Path) -> None:
    with pytest.raises(RefusedName, match="absolute path"):
        resolve_reference(layout / "Groups" / "G.GRP", "/etc/passwd", "sec")


def test_a_group_outside_the_usual_layout_resolves_only_beside_itself(tmp_path: Path) -> None:
    write(tmp_path / "S1.SEC", "S1 3\n")
    write(tmp_path / "X.SEC", "X 3\n")
    path = write(tmp_path / "flat" / "G.GRP", "G\n../S1.SEC\n")
    write(tmp_path / "flat" / "X.SEC", "X 3\n")
    group = read_group_file(path, "G.GRP")
    assert errors(group.problems) == [
        (2, "refused section file name: '../S1.SEC' leads outside the data folder")
    ]
    assert resolve_reference(path, "X.SEC", "sec") == tmp_path / "flat" / "X.SEC"


# --- lines longer than the limit ---------------------------------------------------------------

HUGE = "x" * (3 * MAX_LINE_BYTES)


@pytest.mark.parametrize("body", ["{}", '"{}"', "\t{}"])
def test_a_huge_csv_line_is_a_bad_row_and_the_others_are_read(tmp_path: Path, body: str) -> None:
    path = write(tmp_path / "g.csv", HEADER + "S,1,Lee,Ann,A\n" + f"S,2,{body.format(HUGE)},Bo,B\n"
                 + "S,3,Kim,Cy,C\n")  # fmt: skip
    items = list(read_grade_csv(path, "g.csv"))
    assert [(p.line, p.message) for p in items if isinstance(p, Problem)] == [
        (3, "line is longer than 1 MiB")
    ]
    assert [item.line for item in items if not isinstance(item, Problem)] == [2, 4]


def test_a_huge_header_line_rejects_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", HUGE + "\nS,1,Lee,Ann,A\n")
    assert [(p.line, p.message) for p in read_grade_csv(path)] == [(1, "line is longer than 1 MiB")]


def test_a_huge_line_at_the_end_without_a_newline(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", HEADER + "S,1,Lee,Ann,A\n" + HUGE)
    assert not is_clean_text_file(path)
    lines = [(n, len(t), p and p.message) for n, t, p in iter_decoded_lines(path, "g")]
    assert lines[-1] == (3, 1, "line is longer than 1 MiB")


def test_a_line_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "a.sec", "x" * MAX_LINE_BYTES + "\n" + "y" * (MAX_LINE_BYTES + 1))
    problems = [p and p.message for _, _, p in iter_decoded_lines(path, "a")]
    assert problems == [None, "line is longer than 1 MiB"]
    assert is_clean_text_file(write(tmp_path / "b.csv", "x" * MAX_LINE_BYTES + "\nok\n"))
    assert not is_clean_text_file(write(tmp_path / "c.csv", "ok\n" + "y" * (MAX_LINE_BYTES + 1)))


@pytest.mark.parametrize("character", ["\x85", "\u2028", "\u2029"])
@pytest.mark.parametrize("before_the_cut", [0, 1, 2])
def test_a_control_sequence_across_a_read_is_not_clean(
    tmp_path: Path, character: str, before_the_cut: int
) -> None:
    """is_clean_text_file reads 1 MiB at a time: a C1 control or a line separator whose
    bytes straddle two reads is found (the cheap pre-search must look at the carried tail)."""
    encoded = character.encode()
    cut = min(before_the_cut, len(encoded) - 1) if before_the_cut else 0
    lead = "x" * (MAX_LINE_BYTES // 2 - 1) + "\n" + "y" * (MAX_LINE_BYTES // 2 - cut)
    path = tmp_path / "g.csv"
    path.write_bytes(lead.encode() + encoded + b"\nok\n")
    assert path.read_bytes().index(encoded) == MAX_LINE_BYTES - cut
    assert not is_clean_text_file(path)
    path.write_bytes(lead.encode() + "\u00e9\u2019".encode() + b"\nok\n")  # other 0xC3, 0xE2 text
    assert is_clean_text_file(path)


def test_huge_lines_in_legacy_files_are_bad_rows(tmp_path: Path) -> None:
    section = read_section_file(
        write(tmp_path / "S.SEC", f'S 3\n"{HUGE}","1","A"\n"L, F","2","B"\n')
    )
    assert errors(section.problems) == [(2, "line is longer than 1 MiB")]
    assert [r.student_id for r in section.records] == ["2"]
    _, problems = read_list_file(write(tmp_path / "g.lst", f'"1","L, F", 1\n{HUGE}\n'))
    assert errors(problems) == [
        (1, "expected 1 entries for student '1', found 0"),
        (2, "line is longer than 1 MiB"),
    ]


def test_a_huge_line_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", HEADER + "S,1," + "x" * (40 * MAX_LINE_BYTES) + ",A,B\n")
    tracemalloc.start()
    try:
        problems = list(read_grade_csv(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.line for p in problems] == [2]
    assert peak < 6 * MAX_LINE_BYTES  # the file is 40 MiB


# --- control characters in names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shape"),
    [("Ava\nMarie", '"{}"'), ("Ava\r\nMarie", '"{}"'), ("A\tB", "{}"), ("A\x1bB", "{}"),
     ("A\x85B", "{}"), ("A\u2028B", "{}"), ("A\x7fB", "{}")],
)  # fmt: skip
def test_control_characters_in_csv_names_are_bad_rows(
    tmp_path: Path, value: str, shape: str
) -> None:
    path = write(tmp_path / "g.csv", HEADER + f"S,1,Lee,{shape.format(value)},A\nS,2,Kim,Bo,B\n")
    items = list(read_grade_csv(path, "g.csv"))
    assert [str(p) for p in items if isinstance(p, Problem)] == [
        "g.csv:2: first_name holds a line break, tab or other control character"
    ]
    assert [item.student_id for item in items if not isinstance(item, Problem)] == ["2"]


def test_tabs_around_values_are_trimmed_not_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", HEADER + "S,\t1\t,Lee,Ann,A\n")
    assert [item.student_id for item in read_grade_csv(path)] == ["1"]  # type: ignore[union-attr]


def test_control_characters_in_legacy_names_are_bad_rows(tmp_path: Path) -> None:
    section = read_section_file(
        write(tmp_path / "S.SEC", 'S 3\n"Le\x1be, Ann","1","A"\n"Kim","B\x0bo","2","B"\n')
    )
    assert errors(section.problems) == [
        (2, "last_name holds a line break, tab or other control character"),
        (3, "first_name holds a line break, tab or other control character"),
    ]
    named = read_section_file(write(tmp_path / "S\x1b2.SEC", 'S\x1b2 3\n"L, F","1","A"\n'))
    assert errors(named.problems) == [
        (None, "file name holds a control character"),
        (1, "header's section name holds a control character"),
    ]
    _, problems = read_list_file(
        write(tmp_path / "g.lst", '"1","L\x1b, F", 1\n"S1","A"\n"2","K, B", 1\n"S\x072","A"\n')
    )
    assert errors(problems) == [
        (1, "name holds a line break, tab or other control character"),
        (4, "section holds a line break, tab or other control character"),
    ]
    group = read_group_file(write(tmp_path / "G.GRP", "G\x1b\n"))
    assert errors(group.problems) == [(1, "group name holds a control character")]


# --- .lst reads back what gradestore writes ----------------------------------------------------


def write_lst(students: list[tuple[str, str, str]]) -> str:
    from gradestore.render import write_legacy_list, write_legacy_list_rows
    from gradestore.reports import ListReport
    from gradestore.results import ListedStudent
    from gradestore.results import ListEntry as Entry

    listed = [ListedStudent(i, first, last, [Entry("S1", "A")]) for i, last, first in students]
    out = io.StringIO()
    write_legacy_list(ListReport(1, ListKind.GOOD, len(listed), listed, DEFAULT_SCALE), out)
    # The report's own path writes from the query's rows: the same bytes.
    from_rows = io.StringIO()
    write_legacy_list_rows([(i, first, last, "S1", "A") for i, last, first in students], from_rows)
    assert from_rows.getvalue() == out.getvalue()
    return out.getvalue()


def test_a_last_name_with_a_comma_round_trips_through_lst(tmp_path: Path) -> None:
    text = write_lst([("1", "Smith, Jr.", "Bob"), ("2", "Smith, Jr.", ""), ("3", "Cher", "")])
    assert text.splitlines()[0] == '"1","Smith, Jr., Bob", 1'
    entries, problems = read_list_file(write(tmp_path / "g.lst", text))
    assert errors(problems) == []
    assert [(e.student_id, e.last_name, e.first_name) for e in entries] == [
        ("1", "Smith, Jr.", "Bob"),
        ("2", "Smith, Jr.", ""),
        ("3", "Cher", ""),
    ]


_NAME = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters=',"'),
    min_size=1,
    max_size=10,
).filter(lambda value: value.strip() == value)


@given(
    last=st.lists(_NAME, min_size=1, max_size=3).map(", ".join),
    first=_NAME | st.just(""),
    student_id=_NAME,
)
def test_names_without_quotes_or_first_name_commas_round_trip_through_lst(
    tmp_path_factory: pytest.TempPathFactory, last: str, first: str, student_id: str
) -> None:
    path = tmp_path_factory.mktemp("lst") / "g.lst"
    path.write_text(write_lst([(student_id, last, first)]), encoding="utf-8")
    entries, problems = read_list_file(path)
    assert [p for p in problems if not p.is_warning] == []
    assert entries == [ListEntry(2, student_id, last, first, "S1", "A")]
