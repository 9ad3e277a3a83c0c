"""`gradestore ingest` as users and cron jobs run it: messages, exit codes, output, real data.

Every bad input must be reported as `FILE:LINE: reason` on standard error, exit 65 and leave the
database exactly as it was (row counts of every table compared before and after).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.helpers import SHARED_LEGACY, run_cli, run_gradestore, table_counts

EX_DATAERR = 65
HEADER = "section,student_id,last_name,first_name,grade\n"
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
POC_DATA = SHARED_LEGACY / "COMSC330_POC_Data"
HISTORY = SHARED_LEGACY / "_history"
ANSI_ESCAPE = "\x1b"

needs_legacy = pytest.mark.skipif(
    not SHARED_LEGACY.exists(), reason="needs ../shared/legacy_data (not in a user's clone)"
)


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def section_grades(engine: Engine, section: str) -> dict[str, str]:
    return dict(
        rows(
            engine,
            "SELECT st.student_id, e.grade FROM enrollments e"
            " JOIN sections sec ON sec.id = e.section_id JOIN students st ON st.id = e.student_id"
            " WHERE sec.name = :section",
            section=section,
        )
    )


def ingest_json(db_url: str, *args: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("--db", db_url, "ingest", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout), result.stderr


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": warning: " not in line]


@pytest.fixture
def stored_base(db_url: str, engine: Engine, tmp_path: Path) -> dict[str, int]:
    """A store that already holds some grades; returns its row counts."""
    base = write(
        tmp_path / "base.csv",
        HEADER + "BASE.01F25,001,Lee,Ann,A\nBASE.01F25,002,Kim,Bo,B\nBASE.01F25,003,Ng,Cy,C\n",
    )
    result = run_cli("--db", db_url, "ingest", str(base))
    assert result.exit_code == 0, result.stderr
    counts = table_counts(engine)
    assert counts["enrollments"] == 3
    return counts


# --- every bad input: FILE:LINE: reason, exit 65, nothing stored ------------------------------

GOOD_ROWS = "".join(f"BAD.01F25,1{n:02d},Last{n},First{n},B\n" for n in range(1, 6))
LONG_TEXT = "".join(f"BAD.01F25,2{n:04d},Last{n},First{n},A\n" for n in range(1, 600))

BAD_INPUTS: list[tuple[str, str, bytes, int, str]] = [
    # (id, file name, content, line of the first error, words of the reason)
    (
        "unknown-grade-line-7",
        "grades.csv",
        (HEADER + GOOD_ROWS + "BAD.01F25,777,Seven,Sam,E\nBAD.01F25,888,Eight,Eve,A\n").encode(),
        7,
        "unknown grade",
    ),
    (
        "missing-field",
        "grades.csv",
        (HEADER + "BAD.01F25,101,Lee,Ann,A\nBAD.01F25,102,Kim,B\n").encode(),
        3,
        "field",
    ),
    (
        "extra-field",
        "grades.csv",
        (
            HEADER + "BAD.01F25,101,Lee,Ann,A\nBAD.01F25,102,Kim,Bo,B\nBAD.01F25,103,X,Y,C,Z\n"
        ).encode(),
        4,
        "field",
    ),
    (
        "empty-required-field",
        "grades.csv",
        (HEADER + "BAD.01F25,101,Lee,Ann,A\nBAD.01F25,,Kim,Bo,B\n").encode(),
        3,
        "student_id",
    ),
    (
        "same-student-twice-other-grade",
        "grades.csv",
        (
            HEADER + "BAD.01F25,101,Lee,Ann,A\nBAD.01F25,102,Kim,Bo,B\nBAD.01F25,101,Lee,Ann,C\n"
        ).encode(),
        4,
        "twice",
    ),
    (
        "not-utf8",
        "grades.csv",
        HEADER.encode()
        + b"BAD.01F25,101,Lee,Ann,A\nBAD.01F25,102,Kim,Bo,B\nBAD.01F25,103,Mart\xe9n,Jos\xe9,C\n",
        4,
        "UTF-8",
    ),
    (
        "semicolon-delimiter",
        "grades.csv",
        b"section;student_id;last_name;first_name;grade\nBAD.01F25;101;Lee;Ann;A\n",
        1,
        "comma",
    ),
    (
        "tab-delimiter",
        "grades.csv",
        b"section\tstudent_id\tlast_name\tfirst_name\tgrade\nBAD.01F25\t101\tLee\tAnn\tA\n",
        1,
        "comma",
    ),
    (
        "missing-required-column",
        "grades.csv",
        b"section,student_id,last_name,first_name\nBAD.01F25,101,Lee,Ann\n",
        1,
        "grade",
    ),
    (
        "unterminated-quote",
        "grades.csv",
        (
            HEADER
            + 'BAD.01F25,101,Lee,Ann,A\nBAD.01F25,102,"Kim,Bo,B\n'
            + "BAD.01F25,103,Ng,Cy,C\nBAD.01F25,104,Oh,Di,D\n"
        ).encode(),
        3,
        "quote",
    ),
    (
        "binary-file",
        "grades.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4,
        1,
        "binary",
    ),
    (
        "utf16-file",
        "grades.csv",
        ("\ufeff" + HEADER + "BAD.01F25,101,Lee,Ann,A\n").encode("utf-16-le"),
        1,
        "UTF",
    ),
    (
        "nul-byte",
        "grades.csv",
        HEADER.encode() + b"BAD.01F25,101,Lee,Ann,A\nBAD.01F25,102,Kim\x00,Bo,B\n",
        3,
        "",
    ),
    (
        "nul-byte-deep-in-a-long-file",
        "grades.csv",
        (HEADER + LONG_TEXT).encode() + b"BAD.01F25,999,Late\x00,Nul,B\n",
        601,
        "NUL",
    ),
    (
        "legacy-unknown-grade-line-7",
        "BAD.01F25.SEC",
        b'BAD.01F25 3.0\n"Lee, Ann","101","A"\n\n"Kim, Bo","102","B"\n"Ng, Cy","103","C"\n'
        b'"Oh, Di","104","D"\n"Xu, Ed","105","E"\n',
        7,
        "unknown grade",
    ),
    (
        "legacy-missing-grade",
        "BAD.01F25.sec",
        b'BAD.01F25  4.0\r\n"Lee, Ann","101","A"\r\n"Kim, Bo","102",\r\n',
        3,
        "missing grade",
    ),
    (
        "legacy-broken-quote",
        "BAD.01F25.sec",
        b'BAD.01F25  4.0\n"Lee, Ann","101","A"\n"Kim, Bo",\'102","B"\n"Ng, Cy","103","C"\n',
        3,
        "quote",
    ),
    (
        "legacy-extra-field",
        "BAD.01F25.sec",
        b'BAD.01F25  4.0\n"Lee, Ann","101","A","x","y"\n',
        2,
        "field",
    ),
    (
        "legacy-not-utf8",
        "BAD.01F25.sec",
        b'BAD.01F25  4.0\n"Lee, Ann","101","A"\n"Mart\xe9n, Jo","102","B"\n',
        3,
        "UTF-8",
    ),
    (
        "legacy-list-bad-grade",
        "good.lst",
        b'"101","Lee, Ann", 2\n"CS1.01F20","A"\n"CS2.01F20","Q"\n',
        3,
        "unknown grade",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "line", "reason"),
    [
        pytest.param(name, content, line, reason, id=id_)
        for id_, name, content, line, reason in BAD_INPUTS
    ],
)
def test_bad_input_is_reported_at_its_line_and_stores_nothing(
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    stored_base: dict[str, int],
    name: str,
    content: bytes,
    line: int,
    reason: str,
) -> None:
    bad = write(tmp_path / "in" / name, content)

    result = run_cli("--db", db_url, "ingest", str(bad))

    assert result.exit_code == EX_DATAERR, (result.stdout, result.stderr)
    errors = error_lines(result.stderr)
    assert errors, result.stderr
    assert errors[0].startswith(f"{bad}:{line}: "), result.stderr
    assert reason.lower() in errors[0].lower(), result.stderr
    assert table_counts(engine) == stored_base


def test_group_file_naming_a_missing_section_is_an_error_at_its_line(
    db_url: str, engine: Engine, tmp_path: Path, stored_base: dict[str, int]
) -> None:
    write(tmp_path / "Sections" / "GRP.01F25.SEC", 'GRP.01F25 3.0\n"Lee, Ann","001","A"\n')
    group = write(
        tmp_path / "Groups" / "G.GRP", "G\nGRP.01F25.SEC\n\nGRP.02F25.SEC\nGRP.01F25.SEC\n"
    )
    run = write(tmp_path / "Runs" / "R.RUN", "R\nG.GRP\n")

    for argument in (group, run):
        result = run_cli("--db", db_url, "ingest", str(argument))

        assert result.exit_code == EX_DATAERR, result.stderr
        assert f"{group}:4: " in result.stderr
        assert "GRP.02F25.SEC" in result.stderr
        assert table_counts(engine) == stored_base


def test_run_file_naming_a_missing_group_is_an_error_at_its_line(
    db_url: str, engine: Engine, tmp_path: Path, stored_base: dict[str, int]
) -> None:
    run = write(tmp_path / "Runs" / "R.RUN", "R\n\nNOPE.GRP\n")

    result = run_cli("--db", db_url, "ingest", str(run))

    assert result.exit_code == EX_DATAERR, result.stderr
    assert error_lines(result.stderr)[0].startswith(f"{run}:3: ")
    assert "NOPE.GRP" in result.stderr
    assert table_counts(engine) == stored_base


# --- re-ingest, conflicts, --replace, --dry-run, --group ---------------------------------------


def test_ingesting_sample_data_twice_adds_nothing_the_second_time(
    db_url: str, engine: Engine
) -> None:
    first = run_cli("--db", db_url, "ingest", str(SAMPLE_DATA))
    assert first.exit_code == 0, first.stderr
    after_first = table_counts(engine)
    assert after_first["enrollments"] > 0
    assert after_first["group_sections"] > 0

    code, report, stderr = ingest_json(db_url, str(SAMPLE_DATA))

    assert (code, stderr) == (0, "")
    assert table_counts(engine) == after_first
    assert report["ok"] is True
    for unit in report["units"]:
        assert unit["status"] in ("unchanged", "already done"), unit
        assert unit["grades_added"] == unit["students_added"] == 0


def test_replace_option_replaces_a_section_stored_with_other_grades(
    db_url: str, stored_base: dict[str, int], tmp_path: Path
) -> None:
    """What --replace stores: integration/test_ingest.py; the refusal's exact line:
    test_messages.py. Here: the option reaches the use case and the summary says so."""
    changed = write(tmp_path / "changed.csv", HEADER + "BASE.01F25,001,Lee,Ann,A\n")

    code, report, stderr = ingest_json(db_url, "--replace", str(changed))

    assert (code, stderr) == (0, "")
    [unit] = report["units"]
    assert (unit["status"], unit["sections_replaced"], unit["grades_replaced"]) == ("stored", 1, 1)


def test_dry_run_option_reports_what_would_be_stored_in_json_and_table(
    db_url: str, tmp_path: Path
) -> None:
    """What a dry run counts and that it writes nothing: integration/test_ingest.py. Here: the
    options reach the use case (--group too) and both summaries say "would store"."""
    data = write(
        tmp_path / "new.csv", HEADER + "N1,001,Lee,Ann,A\nN1,104,Park,Ed,B\nN2,105,Oh,Di,C\n"
    )

    code, report, stderr = ingest_json(db_url, "--dry-run", "--group", "G", str(data))

    assert (code, stderr) == (0, "")
    assert report["dry_run"] is True
    [unit] = report["units"]
    assert (unit["status"], unit["grades_added"], unit["memberships_added"]) == (
        "would store",
        3,
        2,
    )
    table = run_cli("--db", db_url, "ingest", "--dry-run", str(data))
    assert table.exit_code == 0
    assert table.stdout.splitlines()[2].split()[:2] == [str(data), "would"]


def test_dry_run_of_a_bad_file_fails_like_the_real_run(db_url: str, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", HEADER + "N1,001,Lee,Ann,A\nN1,002,Kim,Bo,ZZ\n")

    result = run_cli("--db", db_url, "ingest", "--dry-run", str(bad))

    assert result.exit_code == EX_DATAERR
    assert error_lines(result.stderr)[0].startswith(f"{bad}:3: unknown grade 'ZZ'")


def test_group_option_puts_the_sections_into_the_named_group(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    """--group with .GRP files, several files, and the CSV column: integration/test_ingest.py."""
    plain = write(tmp_path / "plain.csv", HEADER + "S1,001,Lee,Ann,A\nS2,002,Kim,Bo,B\n")

    result = run_cli("--db", db_url, "ingest", "--group", "Fall2023_GroupA", str(plain))

    assert result.exit_code == 0, result.stderr
    assert set(
        rows(
            engine,
            "SELECT g.name, sec.name FROM group_sections gs JOIN groups g ON g.id = gs.group_id"
            " JOIN sections sec ON sec.id = gs.section_id",
        )
    ) == {("Fall2023_GroupA", "S1"), ("Fall2023_GroupA", "S2")}


def test_known_student_with_another_name_is_one_warning_line_and_exit_0(
    db_url: str, stored_base: dict[str, int], tmp_path: Path
) -> None:
    """That the stored name stays: integration/test_ingest.py. Here: the exact line."""
    renamed = write(tmp_path / "renamed.csv", HEADER + "S9,104,New,Nia,A\nS9,002,Kimball,Bob,B\n")

    result = run_cli("--db", db_url, "ingest", str(renamed))

    assert result.exit_code == 0
    assert result.stderr == (
        f"{renamed}:3: warning: student 002 is stored as 'Kim, Bo', not 'Kimball, Bob'; "
        "the stored name is kept\n"
    )


# --- output -----------------------------------------------------------------------------------


def test_json_output_parses_and_has_counts_per_unit(db_url: str, tmp_path: Path) -> None:
    one = write(tmp_path / "one.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\n")
    two = write(tmp_path / "two.csv", HEADER + "S2,001,Lee,Ann,C\n")
    bad = write(tmp_path / "bad.csv", HEADER + "S3,001,Lee,Ann,K\n")

    code, report, stderr = ingest_json(db_url, str(one), str(two), str(bad))

    assert code == EX_DATAERR
    # Only the bad file has a line, and only one (a good file beside it says nothing).
    [line] = stderr.splitlines()
    assert line.startswith(f"{bad}:2: unknown grade 'K'"), stderr
    assert report["ok"] is False
    by_path = {unit["path"]: unit for unit in report["units"]}
    assert set(by_path) == {str(one), str(two), str(bad)}
    assert by_path[str(one)]["status"] == "stored"
    assert (by_path[str(one)]["grades_added"], by_path[str(one)]["students_added"]) == (2, 2)
    assert by_path[str(two)]["status"] == "stored"
    assert (by_path[str(two)]["grades_added"], by_path[str(two)]["students_added"]) == (1, 0)
    assert by_path[str(bad)]["status"] == "rejected"
    assert by_path[str(bad)]["rows_rejected"] == 1
    assert by_path[str(bad)]["errors"][0].startswith(f"{bad}:2: ")


def test_piped_output_has_no_escape_codes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("FORCE_COLOR", "TTY_COMPATIBLE", "CLICOLOR_FORCE"):
        monkeypatch.delenv(variable, raising=False)
    good = write(tmp_path / "good.csv", HEADER + "S1,001,Lee,Ann,A\nS1,002,Kim,Bo,B\n")
    warned = write(tmp_path / "warned.csv", HEADER + "S2,001,Lee,Ann,A\nS2,001,Lee,Ann,A\n")
    bad = write(tmp_path / "bad.csv", HEADER + "S3,001,Lee,Ann,K\n")

    in_process = run_cli("--db", db_url, "ingest", str(good))
    real = run_gradestore("--db", db_url, "ingest", str(warned), str(bad), str(tmp_path))

    assert in_process.exit_code == 0
    assert real.exit_code == EX_DATAERR
    assert "stored" in in_process.stdout
    assert str(warned) in real.stdout
    assert "warning" in real.stderr
    for output in (in_process.stdout, in_process.stderr, real.stdout, real.stderr):
        assert ANSI_ESCAPE not in output


# --- the original course project's data -------------------------------------------------------


def legacy_expectations(root: Path) -> dict[str, Any]:
    """Counts read straight from the files, without gradestore's readers."""
    section_rows: dict[str, set[str]] = {}
    students: set[str] = set()
    for path in root.rglob("*"):
        if path.suffix.lower() != ".sec":
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
        data = [line for line in lines if line][1:]  # the first line is the header
        ids = {next(csv.reader([line], skipinitialspace=True))[-2].strip() for line in data}
        assert len(ids) == len(data), path  # no student twice in a real section
        section_rows[path.stem] = ids
        students |= ids
    list_entries: set[tuple[str, str, str]] = set()
    for path in root.rglob("*"):
        if path.suffix.lower() != ".lst":
            continue
        student = ""
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            if not line.strip():
                continue
            fields = [
                field.strip() for field in next(csv.reader([line.strip()], skipinitialspace=True))
            ]
            if len(fields) == 3:
                student = fields[0]
                students.add(student)
            else:
                list_entries.add((student, fields[0], fields[1].upper()))
    memberships: set[tuple[str, str]] = set()
    for path in (root / "Groups").iterdir():
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        memberships |= {(lines[0], name.rsplit(".", 1)[0]) for name in lines[1:]}
    run_groups: set[tuple[str, str]] = set()
    for path in (root / "Runs").iterdir():
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        run_groups |= {(lines[0], name.rsplit(".", 1)[0]) for name in lines[1:]}
    return {
        "sections": {name: len(ids) for name, ids in section_rows.items()},
        "students": students,
        "list_entries": list_entries,
        "memberships": memberships,
        "run_groups": run_groups,
    }


@needs_legacy
def test_every_file_of_the_original_project_ingests_with_the_right_counts(
    db_url: str, engine: Engine
) -> None:
    expected = legacy_expectations(POC_DATA)

    result = run_cli("--db", db_url, "ingest", str(POC_DATA))

    assert result.exit_code == 0, result.stderr
    assert error_lines(result.stderr) == []
    stored_sections = dict(
        rows(
            engine,
            "SELECT sec.name, COUNT(e.section_id) FROM sections sec"
            " LEFT JOIN enrollments e ON e.section_id = sec.id GROUP BY sec.name",
        )
    )
    assert len(expected["sections"]) == 39
    assert stored_sections == expected["sections"]
    assert table_counts(engine)["enrollments"] == sum(expected["sections"].values()) == 563
    assert {row[0] for row in rows(engine, "SELECT student_id FROM students")} == expected[
        "students"
    ]
    assert len(expected["students"]) == 252
    assert set(rows(engine, "SELECT name FROM runs")) == {
        ("FIRSTRUN",),
        ("SECONDRUN",),
        ("SPRING25",),
    }
    assert (
        set(
            rows(
                engine,
                "SELECT r.name, g.name FROM run_groups rg JOIN runs r ON r.id = rg.run_id"
                " JOIN groups g ON g.id = rg.group_id",
            )
        )
        == expected["run_groups"]
    )
    assert (
        set(
            rows(
                engine,
                "SELECT g.name, sec.name FROM group_sections gs JOIN groups g ON g.id = gs.group_id"
                " JOIN sections sec ON sec.id = gs.section_id",
            )
        )
        == expected["memberships"]
    )
    assert (
        set(
            rows(
                engine,
                "SELECT st.student_id, a.section_name, a.grade FROM list_appearances a"
                " JOIN students st ON st.id = a.student_id",
            )
        )
        == expected["list_entries"]
    )
    assert len(expected["list_entries"]) == 5

    # The nightly job runs again: nothing new.
    before = table_counts(engine)
    again = run_cli("--db", db_url, "ingest", str(POC_DATA))
    assert again.exit_code == 0, again.stderr
    assert table_counts(engine) == before


HISTORY_SECTIONS = HISTORY / "6eab373" / "COMSC330_POC_Data" / "Some test data"


@needs_legacy
@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("COMSC335.01F18.sec", 14),  # a missing grade
        ("COMSC230.01F22.sec", 27),  # a mismatched quote
        ("COMSC230.02F22.sec", 2),  # scrambled from line 2 on
    ],
)
def test_uncorrected_original_sections_are_rejected_at_their_line(
    db_url: str, engine: Engine, name: str, line: int
) -> None:
    path = HISTORY_SECTIONS / name
    before = table_counts(engine)

    result = run_cli("--db", db_url, "ingest", str(path))

    assert result.exit_code == EX_DATAERR, result.stderr
    assert error_lines(result.stderr)[0].startswith(f"{path}:{line}: "), result.stderr
    assert table_counts(engine) == before


@needs_legacy
def test_uncorrected_original_group_naming_a_missing_section_is_rejected(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    tree = tmp_path / "COMSC330_POC_Data"
    shutil.copytree(POC_DATA, tree)
    old_group = HISTORY / "9d8ff88" / "COMSC330_POC_Data" / "Groups" / "COMSC110.GRP"
    shutil.copyfile(old_group, tree / "Groups" / "COMSC110.GRP")
    group = tree / "Groups" / "COMSC110.GRP"
    before = table_counts(engine)

    result = run_cli("--db", db_url, "ingest", str(group))

    assert result.exit_code == EX_DATAERR, result.stderr
    first_error = error_lines(result.stderr)[0]
    assert first_error.startswith(f"{group}:4: "), result.stderr
    assert "COMSC110.03S25.SEC" in first_error
    assert table_counts(engine) == before

    # The whole tree: the run and the group that use it are refused, everything else goes in.
    whole = run_cli("--db", db_url, "ingest", str(tree))
    assert whole.exit_code == EX_DATAERR
    assert f"{group}:4: " in whole.stderr
    assert set(rows(engine, "SELECT name FROM runs")) == {("FIRSTRUN",), ("SECONDRUN",)}
    assert ("COMSC110",) not in rows(engine, "SELECT name FROM groups")


# --- two processes at once --------------------------------------------------------------------


def concurrent_ingests(db_url: str, files: list[Path]) -> list[tuple[int, str, str]]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gradestore", "--db", db_url, "ingest", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for path in files
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append((process.returncode, stdout, stderr))
    return results


def two_overlapping_files(folder: Path, tag: str) -> list[Path]:
    """Two sections sharing most students, so both processes want to add the same students."""
    return [
        write(
            folder / f"{tag}{number}.csv",
            HEADER
            + "".join(
                f"{tag}.0{number}F25,{student:05d},Last{student},First{student},B\n"
                for student in range(number, 300)
            ),
        )
        for number in (1, 2)
    ]


def test_two_processes_on_one_brand_new_sqlite_file_both_succeed(tmp_path: Path) -> None:
    for attempt in range(3):
        database = tmp_path / f"new{attempt}" / "store.db"
        url = f"sqlite:///{database}"
        files = two_overlapping_files(tmp_path / f"files{attempt}", f"C{attempt}")

        results = concurrent_ingests(url, files)

        for code, _stdout, stderr in results:
            assert code == 0, stderr
            assert "locked" not in stderr
        from gradestore.persistence import db

        engine = db.open_database(url)
        try:
            assert table_counts(engine)["sections"] == 2
            assert table_counts(engine)["students"] == 299
            assert table_counts(engine)["enrollments"] == 298 + 299
        finally:
            engine.dispose()


def test_two_processes_ingesting_at_once_into_one_store_both_succeed(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    files = two_overlapping_files(tmp_path, "P")

    results = concurrent_ingests(db_url, files)

    for code, _stdout, stderr in results:
        assert code == 0, stderr
    counts = table_counts(engine)
    assert (counts["sections"], counts["students"], counts["enrollments"]) == (2, 299, 597)


def test_two_processes_on_one_empty_database_both_succeed(
    empty_db_url: str, tmp_path: Path
) -> None:
    files = two_overlapping_files(tmp_path, "E")

    results = concurrent_ingests(empty_db_url, files)

    for code, _stdout, stderr in results:
        assert code == 0, stderr
        assert "locked" not in stderr
    from gradestore.persistence import db

    engine = db.open_database(empty_db_url)
    try:
        counts = table_counts(engine)
        assert (counts["sections"], counts["students"], counts["enrollments"]) == (2, 299, 597)
    finally:
        engine.dispose()


def test_warnings_beyond_those_kept_are_counted_and_the_file_is_stored(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Every row warns (a name without a comma): 20 are printed, 100 kept, all 250 counted."""
    body = "".join(f"S1,{n:04d},Name{n},A\n" for n in range(250))
    data = write(tmp_path / "names.csv", "section,student_id,name,grade\n" + body)
    code, summary, stderr = ingest_json(db_url, str(data))
    assert code == 0
    unit = summary["units"][0]
    assert (unit["status"], unit["grades_added"], unit["warning_count"]) == ("stored", 250, 250)
    assert len(unit["warnings"]) == 100
    assert unit["warnings"][0] == (
        f"{data}:2: warning: name has no comma ('Last, First'): read as a last name"
    )
    lines = stderr.splitlines()
    assert len([line for line in lines if ": warning: " in line]) == 20
    assert lines[-1] == f"{data}: ... and 230 more warnings"
    assert len(section_grades(engine, "S1")) == 250
