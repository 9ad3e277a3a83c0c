"""The ingest use case on real databases (SQLite and PostgreSQL): what each file stores.

Every test goes through ``ingest_paths`` with real files written to a temporary folder and reads
the tables back with plain SQL; nothing is mocked.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

from gradestore.ingest import IngestOptions, IngestReport, UnitResult, ingest_paths
from gradestore.persistence.db import Database
from tests.helpers import table_counts

HEADER = "section,student_id,last_name,first_name,grade\n"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def ingest(
    engine: Engine,
    *paths: Path,
    group: str | None = None,
    replace: bool = False,
    dry_run: bool = False,
) -> IngestReport:
    options = IngestOptions(group=group, replace=replace, dry_run=dry_run)
    return ingest_paths(Database(engine), list(paths), options)


def only_unit(report: IngestReport) -> UnitResult:
    assert len(report.units) == 1, report.units
    return report.units[0]


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def grades(engine: Engine) -> list[tuple[str, str, str, str, str]]:
    """(section, student id, last name, first name, grade) of every stored grade, sorted in
    Python (the two backends collate differently)."""
    return sorted(
        rows(
            engine,
            "SELECT sec.name, st.student_id, st.lname, st.fname, e.grade FROM enrollments e"
            " JOIN sections sec ON sec.id = e.section_id JOIN students st ON st.id = e.student_id",
        )
    )


def section_grades(engine: Engine, section: str) -> dict[str, str]:
    return {
        student_id: grade for name, student_id, _, _, grade in grades(engine) if name == section
    }


def memberships(engine: Engine) -> set[tuple[str, str]]:
    return set(
        rows(
            engine,
            "SELECT g.name, sec.name FROM group_sections gs JOIN groups g ON g.id = gs.group_id"
            " JOIN sections sec ON sec.id = gs.section_id",
        )
    )


def messages(problems: list[Any]) -> str:
    return "\n".join(str(problem) for problem in problems)


# --- canonical CSV ----------------------------------------------------------------------------


def test_csv_quirks_bom_crlf_aliases_case_quotes_and_leading_zeros(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "quirks.CSV",
        "\ufeff Section ,FirstName, LastName ,ID,GRADE\r\n"
        "CS101.01F25,Ann,Lee,007,a\r\n"
        'CS101.01F25,"Mary, Jo","O\'Brien, Jr.",0042,b+\r\n'
        'CS101.01F25,  Bob  ,"Smith ""Bobby""",00100, c- \r\n'
        "CS101.01F25,Zoe,Young,1,np\r\n",
    )

    unit = only_unit(ingest(engine, csv_file))

    assert unit.status == "stored", messages(unit.errors)
    assert not unit.errors
    assert (unit.sections_added, unit.students_added, unit.grades_added) == (1, 4, 4)
    assert grades(engine) == [
        ("CS101.01F25", "00100", 'Smith "Bobby"', "Bob", "C-"),
        ("CS101.01F25", "0042", "O'Brien, Jr.", "Mary, Jo", "B+"),
        ("CS101.01F25", "007", "Lee", "Ann", "A"),
        ("CS101.01F25", "1", "Young", "Zoe", "NP"),
    ]


def test_csv_values_that_need_escaping_round_trip_and_records_keep_their_first_line(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "odd.csv",
        HEADER + 'S1,001,"Back\\slash","\\N",A\n'
        'S1,002,"Tab\there","Ünï 😀",B\n'
        'S1,003,"two\nlines",X,C\n'
        "\n"
        "S1,004,Lee,Ann,Q\n",
    )

    unit = only_unit(ingest(engine, csv_file))

    # A tab or a line break inside a name is a bad row (every export must read back); the record
    # of lines 4-5 is one row, and the unknown grade is on line 7 (after a blank line).
    assert unit.status == "rejected"
    assert [(p.line, p.message.split(" ")[0]) for p in unit.errors] == [
        (3, "last_name"),
        (4, "last_name"),
        (7, "unknown"),
    ]

    content = csv_file.read_text(encoding="utf-8").replace(",Q\n", ",D\n")
    write(csv_file, content.replace("Tab\there", "Tab here").replace("two\nlines", "two lines"))
    unit = only_unit(ingest(engine, csv_file))

    assert unit.status == "stored", messages(unit.errors)
    assert grades(engine) == [
        ("S1", "001", "Back\\slash", "\\N", "A"),
        ("S1", "002", "Tab here", "Ünï 😀", "B"),
        ("S1", "003", "two lines", "X", "C"),
        ("S1", "004", "Lee", "Ann", "D"),
    ]


def test_a_field_longer_than_the_store_holds_is_a_bad_row(engine: Engine, tmp_path: Path) -> None:
    csv_file = write(
        tmp_path / "long.csv",
        HEADER + f"S1,001,{'L' * 200},Ann,A\nS1,002,{'K' * 201},Bo,B\n",
    )
    before = table_counts(engine)

    unit = only_unit(ingest(engine, csv_file))

    assert unit.status == "rejected"
    assert [p.line for p in unit.errors] == [3]
    assert table_counts(engine) == before


def test_csv_name_column_is_split_at_its_first_comma(engine: Engine, tmp_path: Path) -> None:
    csv_file = write(
        tmp_path / "names.csv",
        "STUDENT_ID,Name,Section,Grade\n"
        '001,"Smith, John",CS1,A\n'
        '002,"  Doe ,   Jane  ",CS1,B\n'
        '003,"King, Martin Luther, Jr.",CS1,C\n'
        "004,Plato,CS1,D\n",
    )

    unit = only_unit(ingest(engine, csv_file))

    assert unit.status == "stored", messages(unit.errors)
    assert grades(engine) == [
        ("CS1", "001", "Smith", "John", "A"),
        ("CS1", "002", "Doe", "Jane", "B"),
        ("CS1", "003", "King", "Martin Luther, Jr.", "C"),
        ("CS1", "004", "Plato", "", "D"),
    ]
    # A name without a comma is a last name alone, with a warning at its line.
    assert any(p.line == 5 and p.is_warning for p in unit.warnings), messages(unit.warnings)


def test_csv_optional_columns_group_credit_hours_and_term_are_stored(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "full.csv",
        "section,student_id,lname,fname,grade,group,credit_hours,term\n"
        "CS1.01S25,1,A,B,A,Intro,4.0,S25\n"
        "CS1.02S25,2,C,D,B,Intro,3,S25\n"
        "CS9.01S25,3,E,F,C,,,\n",
    )

    unit = only_unit(ingest(engine, csv_file))

    assert unit.status == "stored", messages(unit.errors)
    assert memberships(engine) == {("Intro", "CS1.01S25"), ("Intro", "CS1.02S25")}
    assert sorted(rows(engine, "SELECT name, credit_hours, term FROM sections")) == [
        ("CS1.01S25", 4.0, "S25"),
        ("CS1.02S25", 3.0, "S25"),
        # No term given: the recognised term its name ends with (docs/history.md).
        ("CS9.01S25", None, "S25"),
    ]


def test_a_section_without_a_term_in_its_first_row_takes_the_term_of_a_later_row(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "t.csv",
        "section,student_id,last_name,first_name,grade,term\nT1,1,Lee,Ann,A,\nT1,2,Kim,Bo,B,S25\n",
    )

    unit = only_unit(ingest(engine, csv_file))

    assert unit.status == "stored", messages(unit.errors)
    assert rows(engine, "SELECT name, term FROM sections") == [("T1", "S25")]


def test_header_only_csv_is_valid_and_adds_nothing(engine: Engine, tmp_path: Path) -> None:
    csv_file = write(tmp_path / "empty.csv", HEADER)
    before = table_counts(engine)

    report = ingest(engine, csv_file)

    assert report.ok
    unit = only_unit(report)
    assert unit.status == "unchanged"
    assert not unit.errors
    assert table_counts(engine) == before


def test_same_student_twice_with_same_grade_is_kept_once_with_a_warning(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "twice.csv",
        HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\nS1,001,Lee,Ann,a\n",
    )

    unit = only_unit(ingest(engine, csv_file))

    assert unit.status == "stored", messages(unit.errors)
    assert section_grades(engine, "S1") == {"001": "A", "002": "B"}
    assert [p.line for p in unit.warnings if "001" in p.message] == [4]


def test_same_student_twice_with_different_grades_rejects_the_file(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "twice.csv",
        HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\nS1,001,Lee,Ann,C\n",
    )
    before = table_counts(engine)

    unit = only_unit(ingest(engine, csv_file))

    assert unit.status == "rejected"
    assert [p.line for p in unit.errors] == [4]
    assert table_counts(engine) == before


# --- legacy files -----------------------------------------------------------------------------


def legacy_tree(root: Path) -> dict[str, Path]:
    """A small Runs/ Groups/ Sections/ tree with the quirks of the real files."""
    sections = root / "Sections"
    files = {
        # mixed-case extension, BOM, several spaces before the credit hours, CRLF, blank and
        # whitespace-only lines, spaces around commas, the four-field form, no final newline
        "sec1": write(
            sections / "CS200.01S25.Sec",
            b"\xef\xbb\xbfCS200.01S25    3.0\r\n"
            b"\r\n"
            b'"Smith, John","001","A"\r\n'
            b"   \t \r\n"
            b'  "Doe, Jane" , "0002" , "b-"   \r\n'
            b'"Roe","Rick","003","W"',
        ),
        # a header naming another section and lacking the credit hours: a warning only
        "sec2": write(
            sections / "cs200.02s25.SEC",
            'CS999.99X99\n"Smith, John","001","B+"\n"Poe, Edgar","004","F"\n\n\n',
        ),
        "grp": write(
            root / "Groups" / "INTRO.grp",
            "INTRO\r\n  CS200.01S25.SEC \r\n\r\nCS200.02S25.sec\r\n",
        ),
        "run": write(root / "Runs" / "SPRING.Run", "SPRING\nintro.GRP"),
        "lst": write(
            root / "history" / "good.LST",
            '"001","Smith, John", 2\n'
            '"MATH140.01F24","A"\n'
            '"COMSC101.02S24" , "a-"\n'
            "\n"
            '"9001","Baker, Priya", 1\n'
            '"ENGR120.03S24","D"\n',
        ),
    }
    return files


def test_legacy_section_file_quirks_are_tolerated(engine: Engine, tmp_path: Path) -> None:
    files = legacy_tree(tmp_path)

    unit = only_unit(ingest(engine, files["sec1"]))

    assert unit.status == "stored", messages(unit.errors)
    assert not unit.errors
    assert grades(engine) == [
        ("CS200.01S25", "0002", "Doe", "Jane", "B-"),
        ("CS200.01S25", "001", "Smith", "John", "A"),
        ("CS200.01S25", "003", "Roe", "Rick", "W"),
    ]
    assert rows(engine, "SELECT name, credit_hours, term FROM sections") == [
        ("CS200.01S25", 3.0, "S25")
    ]


def test_legacy_section_is_named_by_its_file_and_keeps_a_disagreeing_header(
    engine: Engine, tmp_path: Path
) -> None:
    files = legacy_tree(tmp_path)

    unit = only_unit(ingest(engine, files["sec2"]))

    assert unit.status == "stored", messages(unit.errors)
    assert rows(engine, "SELECT name, header_name, credit_hours FROM sections") == [
        ("cs200.02s25", "CS999.99X99", None)
    ]
    assert section_grades(engine, "cs200.02s25") == {"001": "B+", "004": "F"}
    assert {p.line for p in unit.warnings} == {1}
    assert len(unit.warnings) == 2  # another section's name; no credit hours


def test_group_file_puts_its_sections_into_the_group(engine: Engine, tmp_path: Path) -> None:
    files = legacy_tree(tmp_path)

    unit = only_unit(ingest(engine, files["grp"]))

    assert unit.status == "stored", messages(unit.errors)
    assert unit.files == 3
    assert memberships(engine) == {("INTRO", "CS200.01S25"), ("INTRO", "cs200.02s25")}
    assert len(grades(engine)) == 5
    assert rows(engine, "SELECT name FROM groups") == [("INTRO",)]


def test_run_file_records_the_run_and_its_groups(engine: Engine, tmp_path: Path) -> None:
    files = legacy_tree(tmp_path)

    unit = only_unit(ingest(engine, files["run"]))

    assert unit.status == "stored", messages(unit.errors)
    assert rows(engine, "SELECT name FROM runs") == [("SPRING",)]
    assert rows(
        engine,
        "SELECT r.name, g.name FROM run_groups rg JOIN runs r ON r.id = rg.run_id"
        " JOIN groups g ON g.id = rg.group_id",
    ) == [("SPRING", "INTRO")]
    assert memberships(engine) == {("INTRO", "CS200.01S25"), ("INTRO", "cs200.02s25")}
    assert len(grades(engine)) == 5


def test_list_file_stores_earlier_list_appearances(engine: Engine, tmp_path: Path) -> None:
    files = legacy_tree(tmp_path)

    unit = only_unit(ingest(engine, files["lst"]))

    assert unit.status == "stored", messages(unit.errors)
    assert unit.list_entries_added == 3
    assert set(
        rows(
            engine,
            "SELECT st.student_id, st.lname, st.fname, a.section_name, a.grade"
            " FROM list_appearances a JOIN students st ON st.id = a.student_id",
        )
    ) == {
        ("001", "Smith", "John", "MATH140.01F24", "A"),
        ("001", "Smith", "John", "COMSC101.02S24", "A-"),
        ("9001", "Baker", "Priya", "ENGR120.03S24", "D"),
    }
    assert table_counts(engine)["enrollments"] == 0


def test_a_section_reached_twice_in_one_command_is_stored_once(
    engine: Engine, tmp_path: Path
) -> None:
    files = legacy_tree(tmp_path)

    report = ingest(engine, files["grp"], files["sec1"], files["run"])

    assert report.ok, [messages(unit.errors) for unit in report.units]
    assert table_counts(engine)["sections"] == 2
    assert len(grades(engine)) == 5


# --- idempotence, conflicts, --replace --------------------------------------------------------


def test_reingesting_identical_data_stores_nothing_new(engine: Engine, tmp_path: Path) -> None:
    files = legacy_tree(tmp_path)
    csv_file = write(tmp_path / "more.csv", HEADER + "CS300.01F25,001,Smith,John,A\n")
    every_file = [files["run"], files["grp"], files["sec1"], files["sec2"], files["lst"], csv_file]
    first = ingest(engine, *every_file)
    assert first.ok, [messages(unit.errors) for unit in first.units]
    after_first = table_counts(engine)

    for path in every_file:
        unit = only_unit(ingest(engine, path))
        assert unit.status == "unchanged", (path, messages(unit.errors))
        assert (unit.sections_added, unit.students_added, unit.grades_added) == (0, 0, 0)
        assert unit.memberships_added == unit.list_entries_added == 0
    assert table_counts(engine) == after_first


def test_reingesting_the_same_bytes_is_unchanged_without_reading_them(
    engine: Engine, tmp_path: Path
) -> None:
    grades_file = write(
        tmp_path / "g.csv", HEADER + "S1,001,Smith,John,A\nS1,002,Doe,Jane,B\nS2,001,Smith,John,C\n"
    )
    assert only_unit(ingest(engine, grades_file)).status == "stored"
    after_first = table_counts(engine)
    again = only_unit(ingest(engine, grades_file))
    assert (again.status, again.sections_unchanged, again.grades_unchanged) == ("unchanged", 2, 3)
    assert table_counts(engine) == after_first


def test_the_same_bytes_after_a_replace_are_compared_again(engine: Engine, tmp_path: Path) -> None:
    """A file whose grades were since replaced by another file is not 'unchanged'."""
    original = write(tmp_path / "a.csv", HEADER + "S1,001,Smith,John,A\nS2,002,Doe,Jane,B\n")
    correction = write(tmp_path / "b.csv", HEADER + "S1,001,Smith,John,B+\n")
    assert only_unit(ingest(engine, original)).status == "stored"
    assert only_unit(ingest(engine, correction, replace=True)).status == "stored"
    refused = only_unit(ingest(engine, original))
    assert refused.status == "rejected"
    assert "section S1 is already stored with different grades" in messages(refused.errors)
    assert section_grades(engine, "S1") == {"001": "B+"}


def test_grades_into_a_stored_section_without_grades_are_stored(
    engine: Engine, tmp_path: Path
) -> None:
    # A .SEC of only its header line stores its section without a grade; a later file that
    # adds nothing but that section's grades (no student, section or membership) changes the
    # store all the same.
    known = write(tmp_path / "a.csv", HEADER + "A101.01,1,Lee,Ann,A\n")
    empty = write(tmp_path / "EMPTY.01S25.SEC", "EMPTY.01S25    3.0\n")
    assert [unit.status for unit in ingest(engine, known, empty).units] == ["stored", "stored"]
    fill = write(tmp_path / "fill.csv", HEADER + "EMPTY.01S25,1,Lee,Ann,B\n")

    would = only_unit(ingest(engine, fill, dry_run=True))
    assert (would.status, would.grades_added) == ("would store", 1)
    assert section_grades(engine, "EMPTY.01S25") == {}
    stored = only_unit(ingest(engine, fill))
    added = (stored.sections_added, stored.students_added, stored.memberships_added)
    assert (stored.status, stored.grades_added, added) == ("stored", 1, (0, 0, 0))
    assert section_grades(engine, "EMPTY.01S25") == {"1": "B"}
    again = only_unit(ingest(engine, fill))
    assert (again.status, again.grades_added, again.grades_unchanged) == ("unchanged", 0, 1)


def test_section_stored_with_other_grades_is_refused_without_replace(
    engine: Engine, tmp_path: Path
) -> None:
    first = write(tmp_path / "first.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\n")
    changed = write(tmp_path / "changed.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,C\n")
    assert only_unit(ingest(engine, first)).status == "stored"
    before = table_counts(engine)

    unit = only_unit(ingest(engine, changed))

    assert unit.status == "rejected"
    text_of_errors = messages(unit.errors)
    assert "S1" in text_of_errors
    assert "--replace" in text_of_errors
    assert table_counts(engine) == before
    assert section_grades(engine, "S1") == {"001": "A", "002": "B"}


def test_replace_swaps_one_sections_grades_and_leaves_the_others(
    engine: Engine, tmp_path: Path
) -> None:
    first = write(
        tmp_path / "first.csv",
        HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\nS1,003,Ng,Cy,C\nS2,001,Lee,Ann,D\n"
        "S2,004,Oh,Di,F\n",
    )
    # S1: 002 changes grade, 003 is gone, 005 is new; S2 is given again unchanged.
    second = write(
        tmp_path / "second.csv",
        HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B-\nS1,005,Park,Ed,A-\nS2,001,Lee,Ann,D\n"
        "S2,004,Oh,Di,F\n",
    )
    assert only_unit(ingest(engine, first)).status == "stored"

    unit = only_unit(ingest(engine, second, replace=True))

    assert unit.status == "stored", messages(unit.errors)
    assert (unit.sections_replaced, unit.sections_unchanged) == (1, 1)
    assert section_grades(engine, "S1") == {"001": "A", "002": "B-", "005": "A-"}
    assert section_grades(engine, "S2") == {"001": "D", "004": "F"}
    # The new grades come from the second file.
    assert set(
        rows(
            engine,
            "SELECT sf.path FROM enrollments e JOIN sections sec ON sec.id = e.section_id"
            " JOIN source_files sf ON sf.id = e.source_file_id WHERE sec.name = 'S1'",
        )
    ) == {(str(second),)}


def test_replace_with_a_bad_row_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    first = write(tmp_path / "first.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\n")
    bad = write(tmp_path / "bad.csv", HEADER + "S1,001,Lee,Ann,F\nS1,002,Kim,Bo,Z\n")
    assert only_unit(ingest(engine, first)).status == "stored"
    before = table_counts(engine)

    unit = only_unit(ingest(engine, bad, replace=True))

    assert unit.status == "rejected"
    assert [p.line for p in unit.errors] == [3]
    assert table_counts(engine) == before
    assert section_grades(engine, "S1") == {"001": "A", "002": "B"}


# --- --dry-run, --group, names, provenance ----------------------------------------------------


def test_dry_run_writes_nothing_and_reports_what_would_change(
    engine: Engine, tmp_path: Path
) -> None:
    csv_file = write(
        tmp_path / "new.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\nS2,001,Lee,Ann,C\n"
    )
    before = table_counts(engine)

    report = ingest(engine, csv_file, group="G", dry_run=True)

    assert report.dry_run
    unit = only_unit(report)
    assert unit.status == "would store"
    assert (unit.sections_added, unit.students_added, unit.grades_added) == (2, 2, 3)
    assert unit.memberships_added == 2
    assert table_counts(engine) == before


def test_dry_run_of_a_replace_reports_the_replacement_and_writes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    first = write(tmp_path / "first.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\n")
    changed = write(tmp_path / "changed.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,C\n")
    ingest(engine, first)
    before = table_counts(engine)

    unit = only_unit(ingest(engine, changed, replace=True, dry_run=True))

    assert unit.status == "would store"
    assert (unit.sections_replaced, unit.grades_replaced) == (1, 2)
    assert table_counts(engine) == before
    assert section_grades(engine, "S1") == {"001": "A", "002": "B"}


def test_dry_run_reports_what_the_same_command_would_do(engine: Engine, tmp_path: Path) -> None:
    """A dry run of a command with several files says what running it would do: here the
    second file repeats the first's section (unchanged) and the third contradicts it
    (refused), so the real run stores one file only."""
    first = write(tmp_path / "a.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\n")
    same = write(tmp_path / "b.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\n")
    other = write(tmp_path / "c.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,F\n")

    dry = ingest(engine, first, same, other, dry_run=True)
    real = ingest(engine, first, same, other)

    assert [unit.status for unit in real.units] == ["stored", "unchanged", "rejected"]
    assert [unit.status for unit in dry.units] == ["would store", "unchanged", "rejected"]
    assert dry.ok == real.ok is False
    assert [unit.grades_added for unit in dry.units] == [unit.grades_added for unit in real.units]


def test_group_option_puts_the_ingested_sections_into_that_group(
    engine: Engine, tmp_path: Path
) -> None:
    files = legacy_tree(tmp_path)
    csv_file = write(tmp_path / "g.csv", HEADER + "S1,001,Lee,Ann,A\nS2,002,Kim,Bo,B\n")

    report = ingest(engine, csv_file, files["grp"], group="Fall2023_GroupA")

    assert report.ok, [messages(unit.errors) for unit in report.units]
    assert memberships(engine) == {
        ("Fall2023_GroupA", "S1"),
        ("Fall2023_GroupA", "S2"),
        ("Fall2023_GroupA", "CS200.01S25"),
        ("Fall2023_GroupA", "cs200.02s25"),
        ("INTRO", "CS200.01S25"),
        ("INTRO", "cs200.02s25"),
    }
    # Grouping sections that are already stored is a change too, and it is stored.
    unit = only_unit(ingest(engine, csv_file, group="Second"))
    assert unit.status == "stored"
    assert {("Second", "S1"), ("Second", "S2")} <= memberships(engine)


def test_known_student_with_another_name_is_a_warning_and_keeps_the_stored_name(
    engine: Engine, tmp_path: Path
) -> None:
    first = write(tmp_path / "first.csv", HEADER + "S1,001,Lee,Ann,A\n")
    renamed = write(tmp_path / "renamed.csv", HEADER + "S2,002,Kim,Bo,B\nS2,001,Li,Anne,C\n")
    ingest(engine, first)

    unit = only_unit(ingest(engine, renamed))

    assert unit.status == "stored", messages(unit.errors)
    assert not unit.errors
    warning = [p for p in unit.warnings if "001" in p.message]
    assert [p.line for p in warning] == [3]
    assert rows(engine, "SELECT lname, fname FROM students WHERE student_id = '001'") == [
        ("Lee", "Ann")
    ]
    assert section_grades(engine, "S2") == {"001": "C", "002": "B"}


def test_every_stored_grade_keeps_the_path_and_sha256_of_its_file(
    engine: Engine, tmp_path: Path
) -> None:
    files = legacy_tree(tmp_path)
    csv_file = write(tmp_path / "prov.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\n")

    report = ingest(engine, csv_file, files["grp"], files["lst"])

    assert report.ok, [messages(unit.errors) for unit in report.units]
    stored = rows(
        engine,
        "SELECT sec.name, st.student_id, sf.path, sf.sha256, sf.ingested_at"
        " FROM enrollments e JOIN sections sec ON sec.id = e.section_id"
        " JOIN students st ON st.id = e.student_id"
        " LEFT JOIN source_files sf ON sf.id = e.source_file_id",
    )
    expected_file = {
        "S1": csv_file,
        "CS200.01S25": files["sec1"],
        "cs200.02s25": files["sec2"],
    }
    assert len(stored) == 7
    for section, student_id, path, sha256, ingested_at in stored:
        source = expected_file[section]
        assert path is not None, (section, student_id)
        assert Path(path).resolve() == source.resolve()
        assert sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
        assert ingested_at is not None
    listed = rows(
        engine,
        "SELECT sf.path, sf.sha256 FROM list_appearances a"
        " JOIN source_files sf ON sf.id = a.source_file_id",
    )
    assert len(listed) == 3
    assert {(Path(p).resolve(), s) for p, s in listed} == {
        (files["lst"].resolve(), hashlib.sha256(files["lst"].read_bytes()).hexdigest())
    }


@pytest.mark.parametrize("bad_first", [True, False], ids=["bad-first", "good-first"])
def test_a_bad_file_does_not_stop_a_good_one_in_the_same_command(
    engine: Engine, tmp_path: Path, bad_first: bool
) -> None:
    bad = write(tmp_path / "bad.csv", HEADER + "B1,001,Lee,Ann,A\nB1,002,Kim,Bo,Q\n")
    good = write(tmp_path / "good.csv", HEADER + "G1,001,Lee,Ann,A\n")

    report = ingest(engine, *([bad, good] if bad_first else [good, bad]))

    assert not report.ok
    assert report.exit_code == 65
    statuses = {unit.path: unit.status for unit in report.units}
    assert statuses == {str(bad): "rejected", str(good): "stored"}
    assert [p.line for unit in report.units for p in unit.errors] == [3]
    assert grades(engine) == [("G1", "001", "Lee", "Ann", "A")]
    assert rows(engine, "SELECT name FROM sections") == [("G1",)]
    assert rows(engine, "SELECT student_id FROM students") == [("001",)]


def test_a_large_load_and_a_small_one_leave_every_enrollment_index_whole(
    engine: Engine, tmp_path: Path
) -> None:
    """A load large beside the table (here: into an empty store) has its SQLite indexes built
    after it; a small one keeps them up row by row. Both leave the indexes the models name,
    answering lookups by student and by source file."""
    big = "".join(f"S{s},{s}{n:03d},Last{n},First{n},B\n" for s in range(4) for n in range(30))
    write(tmp_path / "big.csv", HEADER + big)
    write(tmp_path / "small.csv", HEADER + "S9,0001000,Last,One,A\nS9,1002,Last,Two,F\n")
    assert only_unit(ingest(engine, tmp_path / "big.csv")).grades_added == 120
    assert only_unit(ingest(engine, tmp_path / "small.csv")).grades_added == 2
    with engine.connect() as connection:
        indexes = {ix["name"] for ix in inspect(connection).get_indexes("enrollments")}
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    assert indexes == {"ix_enrollments_student_id", "ix_enrollments_source_file_id"}
    by_student = rows(
        engine,
        "SELECT sec.name, e.grade FROM enrollments e JOIN students st ON st.id = e.student_id"
        " JOIN sections sec ON sec.id = e.section_id WHERE st.student_id = :sid",
        sid="2007",
    )
    assert by_student == [("S2", "B")]
    by_file = rows(
        engine,
        "SELECT COUNT(*) FROM enrollments e JOIN source_files sf ON sf.id = e.source_file_id"
        " WHERE sf.path LIKE :path",
        path="%small.csv",
    )
    assert by_file == [(2,)]
