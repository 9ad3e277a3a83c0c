"""History by term through the command line (issue 14), on SQLite and PostgreSQL: the issue's
must-show (two terms of the same students ingested and analysed together), and `report --list
work` with repeat students first and the risk column, in each format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.test_hostile_output_cli import in_terminal
from tests.helpers import run_cli

HEADER = "section,student_id,last_name,first_name,grade,group,term\n"
# The same students in two terms, one file a term. Kim is on the work list in both; Lee only in
# the second; Ng on the good list in the first and the work list in the second.
SPRING = (
    "CS1.01S25,1,Kim,Bo,F,CS1,S25\n"
    "CS1.01S25,2,Lee,Ann,B,CS1,S25\n"
    "CS1.01S25,3,Ng,Cy,A,CS1,S25\n"
    "CS1.01S25,4,Oh,Di,C,CS1,S25\n"
)
FALL = (
    "CS1.01F25,1,Kim,Bo,D,CS1,F25\n"
    "CS1.01F25,2,Lee,Ann,D-,CS1,F25\n"
    "CS1.01F25,3,Ng,Cy,F,CS1,F25\n"
    "CS1.01F25,4,Oh,Di,B,CS1,F25\n"
)


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def two_terms(db_url: str, tmp_path: Path) -> None:
    spring = write(tmp_path / "spring.csv", HEADER + SPRING)
    fall = write(tmp_path / "fall.csv", HEADER + FALL)
    ok("--db", db_url, "ingest", str(spring), str(fall))


def test_a_student_on_the_work_list_in_both_terms_appeared_before(
    db_url: str, tmp_path: Path
) -> None:
    two_terms(db_url, tmp_path)
    data = json.loads(ok("--db", db_url, "analyze", "--format", "json"))
    work = {student["student_id"]: student for student in data["work_list"]}
    kim = work["1"]
    assert kim["appeared_before"] is True
    assert kim["earlier_terms_on_work_list"] == 1
    assert kim["earlier_terms_on_good_list"] == 0
    assert kim["first_term_listed"] == "S25"
    # Lee: on the work list in F25 only; her S25 B does not qualify.
    assert (work["2"]["appeared_before"], work["2"]["earlier_terms_on_work_list"]) == (False, 0)
    # Ng: the good list in S25, the work list in F25.
    ng = work["3"]
    assert (ng["appeared_before"], ng["earlier_terms_on_work_list"]) == (True, 0)
    assert (ng["earlier_terms_on_good_list"], ng["first_term_listed"]) == (1, "F25")
    # Before terms sorted, with nothing outside the analysis and no .lst, all were false.
    good = {student["student_id"]: student for student in data["good_list"]}
    assert good["3"]["appeared_before"] is False  # nothing before S25


def test_the_work_list_report_shows_repeat_students_first_with_their_risk(
    db_url: str, tmp_path: Path
) -> None:
    two_terms(db_url, tmp_path)
    ok("--db", db_url, "analyze")
    lines = ok("--db", db_url, "report", "--list", "work").splitlines()
    assert lines[0] == "Work list (D+, D, D-, F), repeat students first, analysis 1: 3 students"
    assert lines[1].split() == [
        "student", "id", "last", "name", "first", "name", "entries", "appeared", "before",
        "first", "term", "risk",
    ]  # fmt: skip
    rows = [line.split() for line in lines[2:]]
    # Kim (2 terms on the work list) first; then Lee and Ng by name. Kim's entries, by section.
    assert rows == [
        ["1", "Kim", "Bo", "CS1.01F25", "(D),", "CS1.01S25", "(F)", "yes", "S25", "2"],
        ["2", "Lee", "Ann", "CS1.01F25", "(D-)", "no", "F25", "1"],
        ["3", "Ng", "Cy", "CS1.01F25", "(F)", "yes", "F25", "1"],
    ]
    data = json.loads(ok("--db", db_url, "report", "--list", "work", "--format", "json"))
    assert [(s["student_id"], s["terms_on_work_list"]) for s in data["students"]] == [
        ("1", 2), ("2", 1), ("3", 1),
    ]  # fmt: skip
    table = list(
        csv.DictReader(
            io.StringIO(ok("--db", db_url, "report", "--list", "work", "--format", "csv"))
        )
    )
    assert [
        (r["student_id"], r["section"], r["earlier_terms_on_work_list"], r["terms_on_work_list"])
        for r in table
    ] == [("1", "CS1.01F25", "1", "2"), ("1", "CS1.01S25", "1", "2"), ("2", "CS1.01F25", "0", "1"),
          ("3", "CS1.01F25", "0", "1")]  # fmt: skip
    assert table[0]["first_term_listed"] == "S25" and table[0]["appeared_before"] == "true"
    good = list(
        csv.DictReader(
            io.StringIO(ok("--db", db_url, "report", "--list", "good", "--format", "csv"))
        )
    )
    assert "terms_on_work_list" not in good[0]  # the risk is the work list's
    assert good[0]["earlier_terms_on_good_list"] == "0"


def test_the_end_of_term_job_and_a_legacy_list_file(db_url: str, tmp_path: Path) -> None:
    """`analyze --term F25` on a store holding S25 too; `--output FILE.lst` still writes the
    legacy layout (no history columns in it), repeat students first."""
    two_terms(db_url, tmp_path)
    data = json.loads(ok("--db", db_url, "analyze", "--term", "F25", "--format", "json"))
    assert data["scope"]["terms"] == ["F25"]
    work = {student["student_id"]: student for student in data["work_list"]}
    assert [s["section"] for s in work["1"]["entries"]] == ["CS1.01F25"]
    assert (work["1"]["appeared_before"], work["1"]["earlier_terms_on_work_list"]) == (True, 1)
    target = tmp_path / "work.lst"
    ok("--db", db_url, "report", "--list", "work", "--output", str(target))
    assert target.read_text().splitlines()[:2] == ['"1","Kim, Bo", 1', '"CS1.01F25","D"']


def test_the_work_list_at_80_columns_keeps_every_column(db_url: str, tmp_path: Path) -> None:
    hostile = "[bold]x[/bold]" + "Y" * 18  # 32 characters, the longest term kept
    spring = write(tmp_path / "s.csv", HEADER + SPRING.replace(",S25\n", f",{hostile}\n"))
    ok("--db", db_url, "ingest", str(spring), str(write(tmp_path / "f.csv", HEADER + FALL)))
    ok("--db", db_url, "analyze", "--term", hostile)
    shown = in_terminal("--db", db_url, "report", "--list", "work", columns=80)
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert "risk" in shown
    # A term that is not recognised has no place in time: no first term, risk 1.
    kim = next(line for line in shown.splitlines() if "Kim" in line)
    assert kim.split()[-2:] == ["-", "1"]


def test_terms_read_from_legacy_file_names_give_history(db_url: str, tmp_path: Path) -> None:
    """The same must-show through .SEC files, whose terms come from their names (no column)."""
    sections = tmp_path / "Sections"
    write(sections / "CS1.01S25.SEC", 'CS1.01S25 3\n"Kim, Bo","1","F"\n"Oh, Di","4","B"\n')
    write(sections / "CS1.01F25.SEC", 'CS1.01F25 3\n"Kim, Bo","1","D"\n"Oh, Di","4","C"\n')
    ok("--db", db_url, "ingest", str(sections))
    data = json.loads(ok("--db", db_url, "analyze", "--format", "json"))
    (kim,) = data["work_list"]
    assert (kim["student_id"], kim["appeared_before"], kim["earlier_terms_on_work_list"]) == (
        "1", True, 1,
    )  # fmt: skip
    assert kim["first_term_listed"] == "S25"
