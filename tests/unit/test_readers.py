"""Readers: every quirk the contract tolerates and every bad row at its exact line."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradestore import readers
from gradestore.grades import BUILT_IN_SCALES, DEFAULT_SCALE
from gradestore.readers import (
    GradeRecord,
    ListEntry,
    Problem,
    file_sha256,
    grade_file_kind,
    iter_decoded_lines,
    read_group_file,
    read_run_file,
    resolve_reference,
)
from tests.expected import LETTERS
from tests.helpers import read_grade_csv, read_list_file, read_section_file

# The readers take the store's scale; these tests read under the contract's (default) one.
UNKNOWN_Q = DEFAULT_SCALE.unknown_grade("Q")


LEGACY = Path(__file__).resolve().parents[3] / "shared" / "legacy_data" / "penz6__Comp330"
needs_legacy = pytest.mark.skipif(not LEGACY.exists(), reason="needs ../shared/legacy_data")

HEADER = "section,student_id,last_name,first_name,grade\n"


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def read_csv(path: Path, **kwargs: object) -> tuple[list[GradeRecord], list[Problem]]:
    items = list(read_grade_csv(path, **kwargs))
    records = [item for item in items if isinstance(item, GradeRecord)]
    problems = [item for item in items if isinstance(item, Problem)]
    return records, problems


def errors(problems: Iterable[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in problems if not p.is_warning]


def warnings(problems: Iterable[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in problems if p.is_warning]


# --- text.py ------------------------------------------------------------------------------------


def test_decoded_lines_strip_bom_keep_endings_and_number_from_one(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", b"\xef\xbb\xbffirst\r\nsecond\n\nlast")
    assert list(iter_decoded_lines(path, "a.txt")) == [
        (1, "first\r\n", None),
        (2, "second\n", None),
        (3, "\n", None),
        (4, "last", None),
    ]


def test_decoded_lines_report_bytes_that_are_not_utf8_at_their_line_and_column(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "a.txt", b"one\ntwo\nCaf\xe9 ok\nfour\n")
    lines = list(iter_decoded_lines(path, "shown.txt"))
    assert [number for number, _, _ in lines] == [1, 2, 3, 4]
    _, text, problem = lines[2]
    assert text == "Caf\ufffd ok\n"
    assert problem == Problem("shown.txt", 3, "bytes that are not UTF-8 (byte 0xe9 at column 4)")
    assert lines[3] == (4, "four\n", None)


def test_decoded_lines_report_a_nul_byte_past_the_binary_sample(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", b"x" * 9000 + b"\nab\x00c\nok\n")
    lines = list(iter_decoded_lines(path, "a.txt"))
    assert lines[1][2] == Problem("a.txt", 2, "NUL byte in line (column 3)")
    assert lines[2] == (3, "ok\n", None)


def test_decoded_lines_stop_at_the_first_bad_line_of_a_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path / "grades.csv", b"section,grade\nPK\x03\x04\x00\x00\xff\nmore\x00\n")
    lines = list(iter_decoded_lines(path, "grades.csv"))
    assert len(lines) == 2
    assert lines[1][2] == Problem("grades.csv", 2, "binary file, not UTF-8 text")


def test_decoded_lines_name_utf16_as_the_reason_a_file_is_binary(tmp_path: Path) -> None:
    path = write(tmp_path / "grades.csv", "section,grade\n".encode("utf-16"))
    [(line, _, problem)] = list(iter_decoded_lines(path, "grades.csv"))
    assert line == 1
    assert problem is not None and problem.message.startswith("binary file, not UTF-8 text")
    assert "UTF-16" in problem.message


def test_file_sha256_hashes_the_bytes(tmp_path: Path) -> None:
    data = b"section,grade\n" * 10_000
    path = write(tmp_path / "a.csv", data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


# --- canonical CSV: what is read ----------------------------------------------------------------


def test_csv_reads_records_with_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", HEADER + "COMSC110.01S25,007,Lee,Ava,a-\nX,8,Kim,Bo,W\n")
    records, problems = read_csv(path)
    assert problems == []
    assert records == [
        GradeRecord(2, "COMSC110.01S25", "007", "Lee", "Ava", "A-"),
        GradeRecord(3, "X", "8", "Kim", "Bo", "W"),
    ]


def test_csv_is_a_lazy_iterator_not_a_list(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", HEADER + "S,1,L,F,A\n" * 1000 + "S,2,L,F,Q\n")
    items = read_grade_csv(path)
    assert iter(items) is items and not isinstance(items, list)
    # The first record arrives before the reader has reached the bad row at the end.
    assert next(items) == GradeRecord(2, "S", "1", "L", "F", "A")


def test_csv_header_aliases_case_and_whitespace(tmp_path: Path) -> None:
    path = write(
        tmp_path / "g.csv",
        " Section , ID ,LastName,  fname ,GRADE,Credit-Hours, Term ,group\n"
        "S1, 0042 , Lee , Ava , b+ , 3 , S25 , COMSC110\n",
    )
    records, problems = read_csv(path)
    assert problems == []
    assert records == [GradeRecord(2, "S1", "0042", "Lee", "Ava", "B+", "COMSC110", 3.0, "S25")]


@pytest.mark.parametrize(
    ("id_column", "last_column", "first_column"),
    [
        ("studentid", "lname", "firstname"),
        ("Student_ID", "Last_Name", "First_Name"),
        ("student", "surname", "first"),
        ("Student ID", "last", "FirstName"),
    ],
)
def test_csv_accepts_every_alias(
    tmp_path: Path, id_column: str, last_column: str, first_column: str
) -> None:
    header = f"section,{id_column},{last_column},{first_column},grade,credits\n"
    path = write(tmp_path / "g.csv", header + "S,1,Lee,Ava,A,4\n")
    records, problems = read_csv(path)
    assert problems == []
    assert records == [GradeRecord(2, "S", "1", "Lee", "Ava", "A", credit_hours=4.0)]


def test_csv_with_bom_and_windows_line_endings(tmp_path: Path) -> None:
    content = "\ufeff" + HEADER.replace("\n", "\r\n") + "S,001,Lee,Ava,A\r\nS,002,Kim,Bo,B\r\n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert problems == []
    assert [(r.line, r.student_id, r.grade) for r in records] == [(2, "001", "A"), (3, "002", "B")]


def test_csv_quoted_commas_and_newlines_keep_the_line_where_a_record_begins(
    tmp_path: Path,
) -> None:
    content = (
        HEADER
        + 'S,1,"Lee, Jr.","Ava\nMarie",A\n'  # lines 2-3
        + "\n"  # line 4: blank, skipped
        + "   \n"  # line 5: whitespace only, skipped
        + 'S, "2", "O""Brien",Bo,B\n'  # line 6: a space before an opening quote is fine
        + "S,3,Kim,Cy,C"  # line 7, no final newline
    )
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    # A line break inside a name is a bad row (an export could not hold it on one line).
    assert errors(problems) == [
        (2, "first_name holds a line break, tab or other control character")
    ]
    assert [(r.line, r.student_id, r.last_name, r.first_name) for r in records] == [
        (6, "2", 'O"Brien', "Bo"),
        (7, "3", "Kim", "Cy"),
    ]


def test_csv_name_column_splits_at_the_first_comma(tmp_path: Path) -> None:
    content = 'section,student_id,Name,grade\nS,1,"Lee, Ava, Marie",A\nS,2,Cher,B\n'
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert [(r.last_name, r.first_name) for r in records] == [("Lee", "Ava, Marie"), ("Cher", "")]
    assert errors(problems) == []
    assert warnings(problems) == [(3, "name has no comma ('Last, First'): read as a last name")]


def test_csv_unknown_columns_are_named_in_one_warning_and_ignored(tmp_path: Path) -> None:
    content = "email,section,student_id,last_name,first_name,grade,notes\nx@y,S,1,L,F,A,hi\n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert records == [GradeRecord(2, "S", "1", "L", "F", "A")]
    assert warnings(problems) == [(1, "ignoring unknown columns: 'email', 'notes'")]
    assert errors(problems) == []


def test_csv_optional_columns_are_none_when_empty(tmp_path: Path) -> None:
    content = "section,student_id,last_name,first_name,grade,group,credit_hours,term\n"
    content += "S,1,L,F,A,,,\nS,2,L,F,B,G,3.5,F24\n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert problems == []
    assert records == [
        GradeRecord(2, "S", "1", "L", "F", "A"),
        GradeRecord(3, "S", "2", "L", "F", "B", "G", 3.5, "F24"),
    ]


def test_csv_header_only_is_valid_and_yields_nothing(tmp_path: Path) -> None:
    assert list(read_grade_csv(write(tmp_path / "g.csv", HEADER))) == []
    assert list(read_grade_csv(write(tmp_path / "h.csv", HEADER.rstrip("\n")))) == []


# --- canonical CSV: bad rows at their lines -----------------------------------------------------


def test_csv_unknown_grade_at_its_line(tmp_path: Path) -> None:
    rows = "".join(f"S,{n},L,F,A\n" for n in range(5)) + "S,9,L,F,Q\nS,10,L,F,B\n"
    records, problems = read_csv(write(tmp_path / "g.csv", HEADER + rows), display_path="g.csv")
    assert problems == [Problem("g.csv", 7, UNKNOWN_Q)]
    assert len(records) == 6


def test_csv_problems_carry_the_display_path_or_the_path(tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", HEADER + "S,1,L,F,Q\n")
    assert [p.path for p in read_grade_csv(path)] == [str(path)]
    assert [str(p) for p in read_grade_csv(path, "in/g.csv")] == [f"in/g.csv:2: {UNKNOWN_Q}"]


def test_csv_empty_required_fields(tmp_path: Path) -> None:
    content = HEADER + "S,1,L,F,\nS,,L,F,A\n,, L ,F,  \n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert records == []
    assert errors(problems) == [
        (2, "empty grade"),
        (3, "empty student_id"),
        (4, "empty section, student_id, grade"),
    ]


def test_csv_extra_and_missing_fields(tmp_path: Path) -> None:
    content = HEADER + "S,1,L,F,A,extra\nS,2,L,F\nS,3,L,F,A\n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [
        (2, "expected 5 fields, found 6"),
        (3, "expected 5 fields, found 4"),
    ]
    assert [r.line for r in records] == [4]


def test_csv_unterminated_quote_is_reported_where_it_opened(tmp_path: Path) -> None:
    content = HEADER + 'S,1,L,F,A\nS,2,"L,F,A\nS,3,L,F,A\nS,4,L,F,A\n'
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [(3, "unterminated quote")]
    assert [r.line for r in records] == [2]


def test_csv_unterminated_quote_inside_a_multiline_record(tmp_path: Path) -> None:
    # The record begins on line 2; its last field's quote is opened on line 3 and never closed.
    content = HEADER + 'S,1,"Lee\nJr",F,"A\nS,2,L,F,A\n'
    _, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [(3, "unterminated quote")]


def test_csv_unterminated_quote_longer_than_the_csv_field_limit(tmp_path: Path) -> None:
    content = HEADER + 'S,1,"L,F,A\n' + "S,2,L,F,A\n" * 20_000
    _, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [(2, "unterminated quote")]


def test_csv_other_quoting_errors_give_csvs_reason(tmp_path: Path) -> None:
    content = HEADER + 'S,1,"Lee"x,F,A\nS,2,L,F,A\nS,3,"L"x,"F,A\nS,4,L,F,A\n'
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [
        (2, "bad quoting: ',' expected after '\"'"),
        (4, "bad quoting: ',' expected after '\"'"),
    ]
    assert [r.line for r in records] == [3, 5]


def test_csv_non_utf8_row_is_reported_at_its_line(tmp_path: Path) -> None:
    content = HEADER.encode() + b"S,1,L,F,A\nS,2,Ren\xe9,F,A\nS,3,L,F,A\n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [(3, "bytes that are not UTF-8 (byte 0xe9 at column 8)")]
    assert [r.line for r in records] == [2, 4]


def test_csv_nul_byte_is_a_bad_row(tmp_path: Path) -> None:
    content = HEADER.encode() + b"S,1,L,F,A\n" * 1000 + b"S,2,L\x00,F,A\nS,3,L,F,A\n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [(1002, "NUL byte in line (column 6)")]
    assert len(records) == 1001


def test_csv_binary_file_gets_one_error(tmp_path: Path) -> None:
    content = HEADER.encode() + b'S,1,L,F,A\n"\x00\x01\x02\xff\n' + b"\x00\xfe\n" * 50
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [(3, "binary file, not UTF-8 text")]
    assert len(records) == 1


def test_csv_spreadsheet_saved_as_csv_name_is_binary_at_line_1(tmp_path: Path) -> None:
    _, problems = read_csv(write(tmp_path / "g.csv", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64))
    assert errors(problems) == [(1, "binary file, not UTF-8 text")]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_header_with_another_delimiter(tmp_path: Path, delimiter: str) -> None:
    content = HEADER.replace(",", delimiter) + "S;1;L;F;A\n".replace(";", delimiter)
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert records == []
    assert errors(problems) == [(1, f"header is not comma-delimited (found {delimiter!r})")]


def test_csv_missing_required_column_stops_reading(tmp_path: Path) -> None:
    content = "section,student_id,last_name,first_name\nS,1,L,F\n"
    assert errors(read_csv(write(tmp_path / "g.csv", content))[1]) == [
        (1, "missing required column 'grade'")
    ]
    content = "section,grade,last_name\nS,A,L\n"
    assert errors(read_csv(write(tmp_path / "h.csv", content))[1]) == [
        (1, "missing required columns 'student_id', 'first_name' (or 'name')")
    ]


def test_csv_duplicate_column(tmp_path: Path) -> None:
    content = "section,student_id,ID,last_name,first_name,grade\nS,1,1,L,F,A\n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert records == []
    assert errors(problems) == [(1, "duplicate column 'ID': 'student_id' already gives student_id")]


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            "section,student_id,name,last_name,first_name,grade",
            'S,1,"X, Y",L,F,A',
            [(1, "column 'name' ignored: last_name and first_name are used")],
        ),
        (
            "section,student_id,name,last_name,grade",
            'S,1,"L, F",X,A',
            [(1, "column 'last_name' ignored: 'name' is used")],
        ),
        (
            "section,student_id,first_name,name,grade,",
            'S,1,X,"L, F",A,',
            [
                (1, "ignoring unknown columns: column 6 (no name)"),
                (1, "column 'first_name' ignored: 'name' is used"),
            ],
        ),
    ],
)
def test_csv_header_says_which_name_columns_it_reads(
    tmp_path: Path, header: str, row: str, expected: list[tuple[int, str]]
) -> None:
    records, problems = read_csv(write(tmp_path / "g.csv", f"{header}\n{row}\n"))
    assert warnings(problems) == expected
    assert errors(problems) == []
    assert [(r.last_name, r.first_name) for r in records] == [("L", "F")]


def test_csv_blank_first_line_is_a_missing_header(tmp_path: Path) -> None:
    records, problems = read_csv(write(tmp_path / "g.csv", " , \n" + HEADER + "S,1,L,F,A\n"))
    assert records == []
    assert errors(problems) == [(1, "missing header row (line 1 is blank)")]


def test_csv_empty_file_has_no_header(tmp_path: Path) -> None:
    assert errors(read_csv(write(tmp_path / "g.csv", b""))[1]) == [
        (1, "empty file: a header row is required")
    ]


def test_csv_bad_credit_hours(tmp_path: Path) -> None:
    content = "section,student_id,last_name,first_name,grade,credit_hours\n"
    content += "S,1,L,F,A,x\nS,2,L,F,A,-1\nS,3,L,F,A,3\n"
    records, problems = read_csv(write(tmp_path / "g.csv", content))
    assert errors(problems) == [
        (2, "credit_hours 'x' is not a number"),
        (3, "credit_hours '-1' is not a non-negative number"),
    ]
    assert [r.credit_hours for r in records] == [3.0]


def test_csv_stops_after_max_errors(tmp_path: Path) -> None:
    content = HEADER + "S,1,L,F,Q\n" * 30
    items = list(read_grade_csv(write(tmp_path / "g.csv", content), "g.csv", max_errors=5))
    assert items[-1] == Problem("g.csv", None, "stopped after 5 errors; there may be more")
    assert [p.line for p in items[:-1]] == [2, 3, 4, 5, 6]
    assert len(list(read_grade_csv(tmp_path / "g.csv", max_errors=0))) == 30


_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), st.sampled_from(',"0 ')
    ),
    min_size=1,
    max_size=12,
).filter(lambda value: value == value.strip() and value != "")
_RECORD = st.builds(
    GradeRecord,
    line=st.just(0),
    section=_TEXT,
    student_id=st.one_of(_TEXT, st.from_regex(r"0[0-9]{1,8}", fullmatch=True)),
    last_name=_TEXT,
    first_name=_TEXT,
    grade=st.sampled_from(LETTERS),
    group=st.none() | _TEXT,
    credit_hours=st.none() | st.floats(min_value=0, max_value=20, allow_nan=False),
    term=st.none() | _TEXT,
)


@settings(deadline=None)
@given(records=st.lists(_RECORD, max_size=8))
def test_csv_round_trips_whatever_csv_writer_writes(
    tmp_path_factory: pytest.TempPathFactory, records: list[GradeRecord]
) -> None:
    columns = ["section", "student_id", "last_name", "first_name", "grade"]
    columns += ["group", "credit_hours", "term"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    expected = []
    line = 2
    for record in records:
        start = out.tell()
        values = [getattr(record, column) for column in columns]
        writer.writerow(["" if value is None else value for value in values])
        expected.append(GradeRecord(line, *values))
        line += out.getvalue()[start:].count("\n")
    path = tmp_path_factory.mktemp("roundtrip") / "g.csv"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    assert list(read_grade_csv(path)) == expected


# --- legacy: kinds and .SEC ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.csv", "csv"),
        ("A.CSV", "csv"),
        ("COMSC110.01S25.SEC", "sec"),
        ("x.Sec", "sec"),
        ("G.grp", "grp"),
        ("R.Run", "run"),
        ("good.LST", "lst"),
        ("notes.txt", None),
        ("SEC", None),
    ],
)
def test_grade_file_kind(name: str, kind: str | None) -> None:
    assert grade_file_kind(Path(name)) == kind


def test_sec_tolerates_the_quirks_of_real_files(tmp_path: Path) -> None:
    content = (
        "\ufeffCOMSC210.01S25 \t  3.0  \r\n"
        '"Lee, Ava","00852963","A-"\r\n'
        "\r\n"
        '  "Miller" , "Ethan" , "753951" , "b+"   \r\n'
        "   \r\n"
        '"Smith,John","1", "W"'
    )
    section = read_section_file(write(tmp_path / "COMSC210.01S25.SEC", content))
    assert section.problems == []
    assert section.header.name == "COMSC210.01S25"
    assert section.header.header_name == "COMSC210.01S25"
    assert section.header.credit_hours == 3.0
    assert section.header.term == "S25"
    assert section.records == [
        GradeRecord(2, "COMSC210.01S25", "00852963", "Lee", "Ava", "A-", None, 3.0, "S25"),
        GradeRecord(4, "COMSC210.01S25", "753951", "Miller", "Ethan", "B+", None, 3.0, "S25"),
        GradeRecord(6, "COMSC210.01S25", "1", "Smith", "John", "W", None, 3.0, "S25"),
    ]


def test_sec_header_naming_another_section_or_lacking_hours_warns(tmp_path: Path) -> None:
    path = write(tmp_path / "comsc110.02F22.sec", 'COMSC110.04S25\n"Lee, Ava","1","A"\n')
    section = read_section_file(path, "shown.sec")
    assert section.header.name == "comsc110.02F22"
    assert section.header.header_name == "COMSC110.04S25"
    assert section.header.term == "F22"
    assert section.header.credit_hours is None
    assert [(p.path, p.line, p.message, p.is_warning) for p in section.problems] == [
        (
            "shown.sec",
            1,
            "header names section 'COMSC110.04S25'; the file name 'comsc110.02F22' is used",
            True,
        ),
        ("shown.sec", 1, "header has no credit hours", True),
    ]
    assert [r.section for r in section.records] == ["comsc110.02F22"]


def test_sec_non_numeric_credit_hours_and_untermed_name(tmp_path: Path) -> None:
    section = read_section_file(write(tmp_path / "COMSC101_SEC1.sec", "COMSC101_SEC1 three\n"))
    assert section.header.term is None
    assert section.header.credit_hours is None
    assert warnings(section.problems) == [(1, "header's credit hours 'three' is not a number")]
    assert section.records == []


def test_sec_name_without_comma_is_a_last_name_with_a_warning(tmp_path: Path) -> None:
    section = read_section_file(write(tmp_path / "S.sec", 'S 3\n"Cher","1","A"\n'))
    assert [(r.last_name, r.first_name) for r in section.records] == [("Cher", "")]
    assert warnings(section.problems) == [
        (2, "name has no comma ('Last, First'): read as a last name")
    ]


def test_sec_bad_rows_at_their_lines(tmp_path: Path) -> None:
    content = (
        "S.01F20 3\n"
        '"Lee, Ava","1","A"\n'  # 2: good
        '"Lee, Ava","1",\n'  # 3
        '"Lee, Ava",,"A"\n'  # 4
        '"Lee, Ava","1","Q"\n'  # 5
        '"Lee, Ava,"1","A"\n'  # 6
        '"Lee, Ava","1","A","x","y"\n'  # 7
        '"Lee, Ava"\n'  # 8
        '"Lee" x,"1","A"\n'  # 9
    )
    section = read_section_file(write(tmp_path / "S.01F20.sec", content))
    assert errors(section.problems) == [
        (3, "missing grade"),
        (4, "missing student id"),
        (5, UNKNOWN_Q),
        (6, "mismatched quote"),
        (7, "expected 3 or 4 quoted fields, found 5"),
        (8, "expected 3 or 4 quoted fields, found 1"),
        (9, "mismatched quote"),
    ]
    assert [r.line for r in section.records] == [2]


def test_sec_bad_bytes_at_their_lines(tmp_path: Path) -> None:
    content = b'S 3\n"L, F","1","A"\n"Ren\xe9, F","2","A"\n' + b'"L, F","3","A"\n' * 600
    content += b'"L, F","4\x00","A"\n'
    section = read_section_file(write(tmp_path / "S.sec", content))
    assert errors(section.problems) == [
        (3, "bytes that are not UTF-8 (byte 0xe9 at column 5)"),
        (604, "NUL byte in line (column 10)"),  # past the first 8 KiB: not a binary file
    ]
    assert len(section.records) == 601


def test_sec_empty_file(tmp_path: Path) -> None:
    section = read_section_file(write(tmp_path / "S.sec", ""))
    assert errors(section.problems) == [(1, "empty file: expected '<SECTION NAME> <credit hours>'")]


# --- legacy: references, .GRP and .RUN ----------------------------------------------------------


def make_layout(root: Path) -> None:
    for folder in ("Runs", "Groups", "Sections"):
        (root / folder).mkdir(parents=True)
    write(root / "Sections" / "COMSC110.01S25.SEC", "COMSC110.01S25 3\n")
    write(root / "Sections" / "comsc110.02s25.sec", "COMSC110.02S25 3\n")
    write(root / "Groups" / "COMSC110.GRP", "COMSC110\nCOMSC110.01S25.SEC\n")
    write(root / "Groups" / "LOCAL.SEC", "LOCAL 3\n")


def test_resolve_next_to_the_file_then_sections_then_groups(tmp_path: Path) -> None:
    make_layout(tmp_path)
    grp = tmp_path / "Groups" / "X.GRP"
    run = tmp_path / "Runs" / "R.RUN"
    assert resolve_reference(grp, "LOCAL.SEC") == tmp_path / "Groups" / "LOCAL.SEC"
    assert resolve_reference(grp, "COMSC110.01S25.SEC") == (
        tmp_path / "Sections" / "COMSC110.01S25.SEC"
    )
    assert resolve_reference(run, "COMSC110.GRP") == tmp_path / "Groups" / "COMSC110.GRP"
    write(tmp_path / "Runs" / "COMSC110.GRP", "OTHER\n")
    assert resolve_reference(run, "COMSC110.GRP") == tmp_path / "Runs" / "COMSC110.GRP"
    assert resolve_reference(grp, "NOPE.SEC") is None


def test_resolve_ignores_case_of_names_and_folders(tmp_path: Path) -> None:
    make_layout(tmp_path)
    (tmp_path / "Sections").rename(tmp_path / "sections")
    grp = tmp_path / "Groups" / "X.GRP"
    assert resolve_reference(grp, "COMSC110.02S25.SEC") == (
        tmp_path / "sections" / "comsc110.02s25.sec"
    )
    assert resolve_reference(grp, "comsc110.01s25.sec") == (
        tmp_path / "sections" / "COMSC110.01S25.SEC"
    )


def test_resolve_keeps_a_relative_path_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_layout(tmp_path)
    monkeypatch.chdir(tmp_path)
    found = resolve_reference(Path("Groups/COMSC110.GRP"), "COMSC110.01S25.SEC")
    assert found == Path("Sections/COMSC110.01S25.SEC")
    monkeypatch.chdir(tmp_path / "Groups")
    found = resolve_reference(Path("COMSC110.GRP"), "COMSC110.01S25.SEC")
    assert found == Path("../Sections/COMSC110.01S25.SEC")
    assert found.resolve() == (tmp_path / "Sections" / "COMSC110.01S25.SEC").resolve()


def test_group_file_members_and_an_unresolved_name_at_its_line(tmp_path: Path) -> None:
    make_layout(tmp_path)
    path = write(
        tmp_path / "Groups" / "g.grp",
        "\ufeffCOMSC110  \r\n  comsc110.01s25.SEC \r\n\r\nCOMSC110.02S25.SEC\r\nCOMSC110.03S25.SEC",
    )
    group = read_group_file(path, "Groups/g.grp")
    assert group.name == "COMSC110"
    assert [(r.line, r.name, r.path) for r in group.members] == [
        (2, "comsc110.01s25.SEC", tmp_path / "Sections" / "COMSC110.01S25.SEC"),
        (4, "COMSC110.02S25.SEC", tmp_path / "Sections" / "comsc110.02s25.sec"),
        (5, "COMSC110.03S25.SEC", None),
    ]
    assert [str(p) for p in group.problems] == [
        "Groups/g.grp:5: cannot find section file 'COMSC110.03S25.SEC' "
        "(looked next to it and in ../Sections, ../Groups)"
    ]


@pytest.mark.parametrize("content", ["", "\n", "   \nA.SEC\n"])
def test_group_file_without_a_name(tmp_path: Path, content: str) -> None:
    write(tmp_path / "A.SEC", "A 3\n")
    group = read_group_file(write(tmp_path / "G.GRP", content))
    assert errors(group.problems) == [(1, "missing group name")]


def test_run_file_resolves_groups(tmp_path: Path) -> None:
    make_layout(tmp_path)
    path = write(tmp_path / "Runs" / "R.RUN", "SPRING25\ncomsc110.grp\nCOMSC999.GRP\n")
    run = read_run_file(path)
    assert run.name == "SPRING25"
    assert [(r.line, r.path) for r in run.groups] == [
        (2, tmp_path / "Groups" / "COMSC110.GRP"),
        (3, None),
    ]
    assert [str(p) for p in run.problems] == [
        f"{path}:3: cannot find group file 'COMSC999.GRP' "
        "(looked next to it and in ../Sections, ../Groups)"
    ]
    assert errors(read_run_file(write(tmp_path / "E.RUN", "")).problems) == [
        (1, "missing run name")
    ]


# --- legacy: .lst -------------------------------------------------------------------------------


def test_list_file_entries_with_spaces_and_no_final_newline(tmp_path: Path) -> None:
    content = '"007","Lee, Ava", 2\r\n"COMSC110.01S25", "a"\r\n"ENGR1.01F21","B-"\r\n\r\n'
    content += '"8","Kim, Bo",0\n"9" , "Cher" , 1\n"X.01S20","F"'
    entries, problems = read_list_file(write(tmp_path / "good.lst", content))
    assert entries == [
        ListEntry(2, "007", "Lee", "Ava", "COMSC110.01S25", "A"),
        ListEntry(3, "007", "Lee", "Ava", "ENGR1.01F21", "B-"),
        ListEntry(7, "9", "Cher", "", "X.01S20", "F"),
    ]
    assert errors(problems) == []
    assert warnings(problems) == [(6, "name has no comma ('Last, First'): read as a last name")]


def test_list_file_errors_at_their_lines(tmp_path: Path) -> None:
    content = (
        '"1","Lee, Ava", 3\n'  # 1: promises 3, has 2
        '"S1","A"\n'  # 2
        '"S2","Q"\n'  # 3: unknown grade
        '"2","Kim, Bo", x\n'  # 4: bad count; its entry lines are skipped
        '"S3","A"\n'  # 5
        '"3","Roe, Al", 1\n'  # 6
        '"S4,"A"\n'  # 7: mismatched quote
        '"S5"\n'  # 8: malformed student line
        '"4","Doe, Jo", 2\n'  # 9
        '"S6","B"\n'  # 10: then end of file
    )
    entries, problems = read_list_file(write(tmp_path / "work.lst", content))
    assert errors(problems) == [
        (1, "expected 3 entries for student '1', found 2"),
        (3, UNKNOWN_Q),
        (4, "entry count 'x' is not a non-negative integer"),
        (7, "mismatched quote"),
        (8, 'malformed student line: expected "ID","Last, First", N'),
        (9, "expected 2 entries for student '4', found 1"),
    ]
    assert [e.line for e in entries] == [2, 10]


# --- the real legacy files ----------------------------------------------------------------------


@needs_legacy
def test_every_real_section_file_reads_cleanly() -> None:
    paths = sorted((LEGACY / "COMSC330_POC_Data" / "Sections").iterdir())
    assert len(paths) > 30
    for path in paths:
        section = read_section_file(path)
        assert errors(section.problems) == [], path
        assert section.records, path
        mismatched = path.name in ("COMSC210.01S25.SEC", "COMSC210.02S25.SEC")
        assert bool(warnings(section.problems)) == mismatched, path
        assert all(r.section == path.name.rsplit(".", 1)[0] for r in section.records)


@needs_legacy
@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("COMSC335.01F18.sec", 14, "missing grade"),
        ("COMSC230.01F22.sec", 27, "mismatched quote"),
        ("COMSC230.02F22.sec", 2, None),
    ],
)
def test_broken_originals_are_rejected_at_the_right_line(
    name: str, line: int, message: str | None
) -> None:
    path = LEGACY / "_history" / "6eab373" / "COMSC330_POC_Data" / "Some test data" / name
    first = errors(read_section_file(path).problems)[0]
    assert first[0] == line
    if message is not None:
        assert first[1] == message


@needs_legacy
def test_real_groups_runs_and_lists_resolve_and_read() -> None:
    data = LEGACY / "COMSC330_POC_Data"
    for path in sorted((data / "Groups").iterdir()) + sorted((data / "Runs").iterdir()):
        parsed = read_group_file(path) if path.suffix == ".GRP" else read_run_file(path)
        assert parsed.problems == [], path
    for name in ("good.lst", "work.lst"):
        entries, problems = read_list_file(data / "Some test data" / name)
        assert problems == [] and entries, name


@needs_legacy
def test_old_group_file_beside_the_current_sections_fails_only_at_line_4(tmp_path: Path) -> None:
    shutil.copytree(LEGACY / "COMSC330_POC_Data" / "Sections", tmp_path / "Sections")
    (tmp_path / "Groups").mkdir()
    old = LEGACY / "_history" / "9d8ff88" / "COMSC330_POC_Data" / "Groups" / "COMSC110.GRP"
    group = read_group_file(shutil.copy(old, tmp_path / "Groups" / "COMSC110.GRP"))
    assert [(p.line, p.message.split(" (")[0]) for p in group.problems] == [
        (4, "cannot find section file 'COMSC110.03S25.SEC'")
    ]
    assert [r.path is not None for r in group.members] == [True, True, False]


# --- the fast path for clean files reads exactly what the careful reader reads -----------------

_CSV_ALPHABET = st.sampled_from(
    ["a", "B", "0", " ", ",", '"', "\n", "\r\n", "A-", "w", "é", "\t", "x,y", '""']
)


@settings(deadline=None, max_examples=300)
@given(
    header=st.sampled_from(
        [
            "section,student_id,last_name,first_name,grade",
            "Section, ID ,FirstName,LastName,Grade,group,credit_hours,term",
            "section,id,name,grade",
        ]
    ),
    body=st.lists(st.lists(_CSV_ALPHABET, max_size=12).map("".join), max_size=8),
)
def test_the_fast_path_agrees_with_the_careful_reader(
    tmp_path_factory: pytest.TempPathFactory, header: str, body: list[str]
) -> None:
    from gradestore.readers import canonical_csv
    from gradestore.readers.text import is_clean_text_file

    path = tmp_path_factory.mktemp("fast") / "grades.csv"
    path.write_bytes(("\n".join([header, *body])).encode())
    if not is_clean_text_file(path):
        return
    fast = list(canonical_csv._read_clean_file(path, "f", DEFAULT_SCALE))
    careful = list(canonical_csv._read_all(path, "f", DEFAULT_SCALE))
    assert fast == careful


def test_the_fast_path_agrees_on_a_realistic_file(tmp_path: Path) -> None:
    from gradestore.readers import canonical_csv

    rows = [
        "section,student_id,name,grade,credit_hours",
        'S1,001,"Doe, Jane",a-,3',
        "S1,002,Plain,B,",
        'S1,003,"Roe, Rick",Q,3',
        'S1,004,"Poe, Ed",B,x',
        "",
        'S2,005,"Multi\nLine, Name",C,4',
        'S2,,"Nobody, N",C,4',
        'S2,007,"Late, Quote",C,4,extra',
    ]
    path = tmp_path / "g.csv"
    path.write_text("\r\n".join(rows) + "\r\n")
    fast = list(canonical_csv._read_clean_file(path, "g.csv", DEFAULT_SCALE))
    assert fast == list(canonical_csv._read_all(path, "g.csv", DEFAULT_SCALE))
    errors = [item.line for item in fast if isinstance(item, Problem) and not item.is_warning]
    assert errors == [4, 5, 7, 9, 10]


def test_a_lists_rows_are_written_as_its_students_are_in_blocks() -> None:
    """write_list_rows (the report's path, lines written in blocks) writes the bytes
    write_list_file writes of the same students: quotes in every value, a student of many
    entries, more lines than one block holds."""
    from gradestore.readers import write_list_file, write_list_rows
    from gradestore.readers.legacy import _LINES_PER_WRITE
    from gradestore.results import ListedStudent
    from gradestore.results import ListEntry as Entry

    students = [
        ListedStudent(f'{n}"', f'F"{n}', f"L,{n}", [Entry(f'S"{k}', '"A') for k in range(n % 5)])
        for n in range(1, _LINES_PER_WRITE)
    ]
    by_file = io.StringIO()
    assert write_list_file(students, by_file) == len(students)
    rows = [
        (s.student_id, s.first_name, s.last_name, e.section, e.grade)
        for s in students
        for e in s.entries
    ]
    from_rows = io.StringIO()
    written = write_list_rows(rows, from_rows)
    assert written == sum(1 for s in students if s.entries) > 0
    listed = [s for s in students if s.entries]
    expected = io.StringIO()
    write_list_file(listed, expected)
    assert from_rows.getvalue() == expected.getvalue()
    assert from_rows.getvalue().count("\n") > 2 * _LINES_PER_WRITE
    assert '"S\'1","\'A"\n' in from_rows.getvalue()


def test_the_list_writer_writes_what_the_list_reader_reads(tmp_path: Path) -> None:
    from gradestore.readers import write_list_file, write_list_rows
    from gradestore.results import ListedStudent
    from gradestore.results import ListEntry as Entry

    students = [
        ListedStudent("0001", "Ann", "Lee", [Entry("CS1.01S25", "A"), Entry("CS2.01S25", "A-")]),
        ListedStudent("0002", "", "Moe", [Entry("CS1.01S25", "F")]),
    ]
    path = tmp_path / "good.lst"
    with path.open("w", encoding="utf-8") as out:
        assert write_list_file(students, out) == 2
    assert path.read_text(encoding="utf-8") == (
        '"0001","Lee, Ann", 2\n"CS1.01S25","A"\n"CS2.01S25","A-"\n'
        '"0002","Moe", 1\n"CS1.01S25","F"\n'
    )
    rows = [
        (s.student_id, s.first_name, s.last_name, e.section, e.grade)
        for s in students
        for e in s.entries
    ]
    from_rows = io.StringIO()
    assert write_list_rows(rows, from_rows) == 2
    assert from_rows.getvalue() == path.read_text(encoding="utf-8")
    entries, problems = read_list_file(path)
    # A student without a first name reads back whole, with the reader's usual warning.
    assert [(p.line, p.message) for p in problems] == [
        (4, "name has no comma ('Last, First'): read as a last name")
    ]
    assert [(e.student_id, e.last_name, e.first_name, e.section, e.grade) for e in entries] == [
        ("0001", "Lee", "Ann", "CS1.01S25", "A"),
        ("0001", "Lee", "Ann", "CS2.01S25", "A-"),
        ("0002", "Moe", "", "CS1.01S25", "F"),
    ]


def test_every_reader_takes_its_letters_from_the_scale(tmp_path: Path) -> None:
    """S is a bad row under default (the message names the scale and how to change it) and a
    letter under thirds, in every kind of grade file."""
    csv_path = write(tmp_path / "g.csv", HEADER + "S1,001,Doe,Jo,s\n")
    sec_path = write(tmp_path / "S1.sec", 'S1 3\n"Doe, Jo","001","s"\n')
    lst_path = write(tmp_path / "w.lst", '"001","Doe, Jo", 1\n"S1","s"\n')
    thirds = BUILT_IN_SCALES["thirds"]
    assert [str(p) for p in read_grade_csv(csv_path, "g.csv")] == [
        "g.csv:2: unknown grade 's': not a letter of the store's grade scale 'default' "
        "(`gradestore scale show` lists them; `gradestore scale set NAME|FILE` changes it)"
    ]
    assert [p.line for p in read_section_file(sec_path).problems] == [2]
    assert [p.line for p in read_list_file(lst_path)[1]] == [2]
    (record,) = readers.read_grade_csv(csv_path, scale=thirds)
    assert isinstance(record, GradeRecord) and record.grade == "S"
    section = readers.read_section_file(sec_path, scale=thirds)
    assert (section.problems, [r.grade for r in section.records]) == ([], ["S"])
    entries, problems = readers.read_list_file(lst_path, scale=thirds)
    assert (problems, [e.grade for e in entries]) == ([], ["S"])
