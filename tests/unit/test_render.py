"""render.py on hand-built result objects: no database, every expected string written here."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime

from rich.console import Console

from gradestore import render
from gradestore.grades import DEFAULT_SCALE
from gradestore.ingest import IngestReport, UnitResult
from gradestore.kinds import (
    Adjustment,
    FileKind,
    FileStatus,
    ListKind,
    ScopeKind,
    TestKind,
    TestMethod,
)
from gradestore.persistence import rows as row_types
from gradestore.readers.records import Problem
from gradestore.reports import ListReport, ZScoreListing, ZScoreRow
from gradestore.results import AnalysisResult, GroupTest, ListedStudent, ListEntry, SectionTest

WHEN = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def plain_text(parts: list[object]) -> str:
    """What a pipe or a cron log receives."""
    out = io.StringIO()
    console = Console(file=out, width=200, no_color=True, highlight=False)
    for part in parts:
        console.print(part, markup=False) if isinstance(part, str) else console.print(part)
    return out.getvalue()


def section_test(
    name: str, z: float | None, significant: bool, group: str | None = "G"
) -> SectionTest:
    return SectionTest(
        name, group, 10, 3.0, {"A": 5, "B": 5}, z, 0.01 if significant else 0.5, significant
    )


def analysis(sections: list[SectionTest], groups: list[GroupTest], **counts: int) -> AnalysisResult:
    return AnalysisResult(
        analysis_id=7,
        created_at=WHEN,
        threshold=0.05,
        scope_kind=ScopeKind.GROUPS,
        scope_names=["G"],
        scale=DEFAULT_SCALE,
        sections=sections,
        groups=groups,
        good_list=[ListedStudent("001", "Ann", "Lee", [ListEntry("S1", "A")], True)],
        work_list=[],
        list_sizes=row_types.ListSizes(good=1, work=0),
        section_test_count=counts.get("sections", len(sections)),
        group_test_count=counts.get("groups", len(groups)),
    )


def test_each_test_method_has_one_name_for_the_table_and_the_html_report() -> None:
    from gradestore import html_report

    assert set(render.METHOD_NAMES) == set(TestMethod)
    z = row_types.Testing(method=TestMethod.Z, adjust=Adjustment.BH, min_n=1)
    welch = row_types.Testing(method=TestMethod.WELCH, adjust=Adjustment.HOLM, min_n=3)
    assert render.testing_text(z) == "z-test, Benjamini-Hochberg adjustment, min-n 1"
    assert render.testing_text(welch) == (
        "Welch's t-test against the rest of the group, Holm adjustment, min-n 3"
    )
    assert render.testing_text(row_types.Testing()) == (
        "z-test, p not adjusted (made before adjustment existed), min-n 1"
    )
    assert html_report.method_text(z) == "z-test against the group"
    assert html_report.method_text(welch) == "Welch's t-test against the rest of the group"


def test_effect_sizes_read_at_two_decimals_in_tables_and_the_html_report() -> None:
    """d is read at a fixed precision: a tiny d is 0.00, never 1.51e-03 beside 0.20."""
    from gradestore import html_report

    test = dataclasses.replace(section_test("S1", 0.03, False), effect_size=-0.00151)
    cells = {cell.field: cell for cell in html_report._test_cells(test, None)}
    assert (cells["effect_size"].text, cells["effect_size"].value) == ("0.00", -0.00151)
    assert render.test_cells(test, plain=True)[1] == "0.00"
    test = dataclasses.replace(test, effect_size=0.2049)
    cells = {cell.field: cell for cell in html_report._test_cells(test, None)}
    assert cells["effect_size"].text == render.test_cells(test, plain=True)[1] == "0.20"


def test_fmt_rounds_and_shows_missing_values_as_a_dash() -> None:
    assert render.fmt(None) == "-"
    assert render.fmt(float("nan")) == "-"
    assert render.fmt(2.0) == "2.000"
    assert render.fmt(0.01234, 4) == "0.0123"
    assert render.fmt(0.0000340, 4) == "3.40e-05"
    assert render.fmt(0.0) == "0.000"
    assert render.fmt(True) == "yes"


def test_ingest_json_is_the_reports_as_json() -> None:
    bad = Problem("bad.csv", 3, "unknown grade 'Q'")
    report = IngestReport(
        units=[
            UnitResult("good.csv", FileKind.CSV, FileStatus.STORED, files=1, grades_added=2),
            UnitResult("bad.csv", FileKind.CSV, FileStatus.REJECTED, files=1, errors=[bad]),
        ],
        skipped_files=["notes.txt"],
        dry_run=False,
    )
    data = json.loads(render.ingest_json(report))
    assert data == report.as_json()
    assert (data["ok"], data["skipped_files"]) == (False, ["notes.txt"])
    assert [(u["kind"], u["status"], u["rows_rejected"]) for u in data["units"]] == [
        ("csv", "stored", 0),
        ("csv", "rejected", 1),
    ]
    assert data["units"][1]["errors"] == ["bad.csv:3: unknown grade 'Q'"]
    assert report.exit_code == 65


def test_the_ingest_table_has_a_row_per_unit_and_says_same_for_unchanged_grades() -> None:
    report = IngestReport(
        [
            UnitResult(
                "a.csv",
                FileKind.CSV,
                FileStatus.UNCHANGED,
                sections_unchanged=1,
                grades_unchanged=3,
            )
        ],
        [],
        False,
    )
    lines = plain_text([render.ingest_table(report, plain=True)]).splitlines()
    assert lines[1].split() == ["file", "status", "sections", "students", "grades", "bad", "rows"]
    assert lines[2].split() == ["a.csv", "unchanged", "1", "same", "0", "new", "3", "same", "0"]


def test_an_analysis_too_long_for_a_screen_shows_the_significant_and_largest_z_first() -> None:
    sections = [section_test(f"S{i:03}", z=i / 10, significant=False) for i in range(70)]
    sections.append(section_test("SIG", z=0.1, significant=True))
    text = plain_text(render.analysis_renderables(analysis(sections, []), plain=True))
    lines = text.splitlines()
    # A hand-built result has the defaults of an analysis made before adjustment existed.
    assert lines[0] == (
        "Analysis 7, 2025-03-01 12:30:00 UTC, threshold 0.050, scope: groups G, "
        "grade scale: default; z-test, p not adjusted (made before adjustment existed), min-n 1"
    )
    rows = [line.split() for line in lines if line.startswith(("S0", "SIG"))]
    # The significant test leads though its |z| is small; then |z| from the largest down.
    assert [row[0] for row in rows[:3]] == ["SIG", "S069", "S068"]
    assert len(rows) == render.MAX_TEST_ROWS
    assert (
        "... 11 more section tests not shown (none significant): "
        "see --format json or `gradestore zscore`"
    ) in lines


def test_streamed_analysis_json_equals_as_json() -> None:
    result = analysis(
        [section_test("S1", 1.5, False), section_test("S2", None, False, group=None)],
        [GroupTest("G", ["S1"], 10, 3.0, 0.5, -0.25, 0.8, False)],
    )
    out = io.StringIO()
    render.write_analysis_json(result, out)
    assert json.loads(out.getvalue()) == json.loads(render.to_json(result.as_json()))
    assert json.loads(out.getvalue())["scope"] == {"kind": "groups", "names": ["G"], "terms": []}


def test_zscore_csv_escapes_names_a_spreadsheet_would_run() -> None:
    listing = ZScoreListing(
        3,
        0.05,
        [
            ZScoreRow(TestKind.SECTION, "=HYPERLINK(1)", "G", 4, 2.5, -1.25, 0.21, False),
            ZScoreRow(TestKind.GROUP, "G", "all groups", 4, 2.5, None, None, False),
        ],
    )
    rows = list(csv.reader(io.StringIO(render.zscore_csv(listing))))
    NONE = ["", "", "", ""]
    assert rows == [
        list(render.TEST_CSV_HEADER),
        # ..., effect_size, p_adjusted, significant_adjusted, no_test_reason (none stored)
        ["3", "section", "'=HYPERLINK(1)", "G", "4", "2.5", "", "-1.25", "0.21", "false", *NONE],
        ["3", "group", "G", "all groups", "4", "2.5", "", "", "", "false", *NONE],
    ]


def test_a_legacy_list_file_from_a_list_report() -> None:
    students = [
        ListedStudent("9", "Bo", "Kim", [ListEntry("S1", "D"), ListEntry("S2", "F")]),
        ListedStudent("8", "", 'O"Neil', [ListEntry("S1", "F")]),
    ]
    out = io.StringIO()
    assert (
        render.write_legacy_list(
            ListReport(1, ListKind.WORK, 2, iter(students), DEFAULT_SCALE), out
        )
        == 2
    )
    assert out.getvalue() == ('"9","Kim, Bo", 2\n"S1","D"\n"S2","F"\n"8","O\'Neil", 1\n"S1","F"\n')


def shown_at(width: int, renderable: object) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, no_color=True, highlight=False).print(renderable)
    return out.getvalue().splitlines()


def test_a_narrow_table_wraps_words_and_leaves_out_columns_but_never_splits_a_number() -> None:
    columns = ("section", "group", "n", "mean GPA", *render.test_columns("z"))
    figures = ["0.123456", "-0.98", "-4.14512", "3.40e-05", "0.000374", "YES", "YES"]
    reason = ["", "", "only section of its group", "", "", "-", "-"]
    rows = [
        ["SECTION.01", "GROUP", "12345", "2.800", *figures],
        ["SECTION.02", "G", "9", "-", *reason],
    ]
    table = render.FittedTable(columns, rows, title="Sections of a long title", plain=False)
    for width, left_out in ((200, []), (84, []), (76, ["d"]), (68, ["d", "diff"])):
        lines = shown_at(width, table)
        assert max(len(line) for line in lines) <= width
        assert lines[0] == "Sections of a long title"
        row = next(line for line in lines if line.startswith("SECTION.01"))
        kept = [
            cell
            for column, cell in zip(columns[4:], figures, strict=True)
            if column not in left_out
        ]
        assert row.split() == ["SECTION.01", "GROUP", "12345", "2.800", *kept], (width, lines)
        notes = [line for line in lines if "left out" in line]
        if left_out:
            said = " and ".join(left_out)
            assert notes == [f"({said} left out to fit {width} columns: see --format json)"]
        else:
            assert notes == []


def column_text(lines: list[str], row_start: int, header: str, column: str, after: str) -> str:
    """The text of one column of one row, its folded lines joined (columns located by header)."""
    start, end = header.index(column), header.index(after)
    row = [lines[row_start]]
    for line in lines[row_start + 1 :]:
        if line[: header.index(column)].strip():  # the next row begins
            break
        row.append(line)
    return "".join(line[start:end].strip() for line in row)


def test_a_list_too_wide_leaves_out_history_then_entries_and_never_cuts_a_name() -> None:
    last, first = "Wolfeschlegelsteinhausenbergerdorff-Montgomery", "Maximiliana-Alexandrina"
    students = [
        ListedStudent("1006", first, last, [ListEntry("SEC1", "F")], False, 0, 0, "F25"),
        ListedStudent("7", "Bo", "Li", [ListEntry("SEC2", "D"), ListEntry("SEC3", "F")]),
    ]
    expected = {
        200: [],
        100: ["first term", "appeared before"],
        92: ["first term", "appeared before", "risk"],
        84: ["first term", "appeared before", "risk", "entries"],
        80: ["first term", "appeared before", "risk", "entries"],  # and the name folds
    }
    for width, left_out in expected.items():
        table = render.list_table(students, "Work list: 2 students", plain=False, work=True)
        lines = shown_at(width, table)
        assert max(len(line) for line in lines) <= width, lines
        assert lines[0] == "Work list: 2 students"
        header = next(line for line in lines if line.startswith("student id"))
        for column in ("entries", "risk"):
            assert (column in header) == (column not in left_out), (width, lines)
        note = " ".join(
            line.strip() for line in lines if line.startswith("(") or "--format" in line
        )
        if left_out:
            said = ", ".join(left_out[:-1]) + " and " * (len(left_out) > 1) + left_out[-1]
            assert note == f"({said} left out to fit {width} columns: see --format json)"
        else:
            assert note == ""
        row = next(i for i, line in enumerate(lines) if line.startswith("1006"))
        # Whole, on one line or folded over two: never cut short.
        assert column_text(lines, row, header, "last name", "first name") == last, lines
        if "entries" not in left_out:
            assert lines[row][header.index("entries") :].startswith("SEC1 (F)"), lines


def test_list_entries_are_text_aligned_left() -> None:
    students = [
        ListedStudent("1", "A", "B", [ListEntry("S1", "A")]),
        ListedStudent("2", "C", "D", [ListEntry("S1", "A"), ListEntry("LONGER.NAME", "A-")]),
    ]
    lines = shown_at(200, render.list_table(students, "Good list", plain=True))
    start = lines[1].index("entries")
    assert [line[start:].split(" no")[0].rstrip() for line in lines[2:]] == [
        "S1 (A)",
        "S1 (A), LONGER.NAME (A-)",
    ]
