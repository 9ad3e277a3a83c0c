"""`gradestore report` through the command line, on SQLite and PostgreSQL.

The store is built by `gradestore ingest` from a CSV and a legacy .lst written here, analysed
twice by `gradestore analyze`, and the files are deleted before any report runs. Expected
figures are computed in this file (numpy population std, scipy.stats.norm.sf) or written out
by hand; only `analyze --format json` is used as a reference, for the report that must equal it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from tests.expected import LETTERS, ztest
from tests.helpers import CliResult, run_cli, run_gradestore
from tests.report_dataset import (
    FIRST_THRESHOLD,
    GROUPS,
    HEADER,
    HISTORY_LST,
    HYPERLINK,
    ROWS,
    S1,
    S2,
    S3,
    S4,
    check_analysis_json,
    expected,
    expected_lists,
    grade_counts,
    points,
)

EX_USAGE = 64
EX_NOINPUT = 66
ESC = "\x1b"


# --- the store, through the command line ---------------------------------------------------------


@dataclass
class Store:
    db: str
    first: dict[str, Any]  # `analyze --threshold 0.4 --format json`: every section
    second: dict[str, Any]  # `analyze --group COMSC210 --format json`
    files: Path

    def run(self, *args: str) -> CliResult:
        return run_cli("--db", self.db, *args)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result.stdout


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def write_rows(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows((*row, "F25") for row in ROWS)
    return path


def build_store(db_url: str, files: Path) -> Store:
    files.mkdir(exist_ok=True)
    grades = write_rows(files / "grades.csv")
    history = files / "history.lst"
    history.write_text(HISTORY_LST, encoding="utf-8")
    ok("--db", db_url, "ingest", str(grades))
    ok("--db", db_url, "ingest", str(history))
    first = json.loads(
        ok("--db", db_url, "analyze", "--threshold", str(FIRST_THRESHOLD), "--format", "json")
    )
    second = json.loads(ok("--db", db_url, "analyze", "--group", "COMSC210", "--format", "json"))
    grades.unlink()
    history.unlink()
    return Store(db_url, first, second, files)


@pytest.fixture(scope="module")
def store(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Built once per module and backend: `report` only reads it."""
    return build_store(module_db_url, tmp_path_factory.mktemp("files"))


@pytest.fixture
def own_store(db_url: str, tmp_path: Path) -> Store:
    """A store of the test's own, for a test that writes to it."""
    return build_store(db_url, tmp_path / "files")


def one_line_error(result: CliResult) -> str:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def tokens_in(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def flag(value: bool) -> str:
    return "YES" if value else "no"


def bh_adjusted(want: dict[str, Any]) -> dict[Any, float]:
    """Benjamini-Hochberg over every section test of the analysis (scipy, directly)."""
    keys = list(want["sections"])
    p_values = [want["sections"][key]["p_value"] for key in keys]
    return dict(zip(keys, false_discovery_control(p_values, method="bh"), strict=True))


def section_row(section: str, group: str, want: dict[str, Any], alpha: float) -> list[str]:
    """A row of a plain sections table, formatted here: 3 decimals, d with 2, p with 4; the
    difference and d against the group's figures, the adjusted p by BH over the analysis."""
    exp, of_group = want["sections"][(section, group)], want["groups"][group]
    difference = exp["mean_gpa"] - of_group["mean_gpa"]
    p_adjusted = bh_adjusted(want)[(section, group)]
    return [
        section,
        group,
        str(exp["count"]),
        f"{exp['mean_gpa']:.3f}",
        f"{difference:.3f}",
        f"{difference / of_group['stddev']:.2f}",
        f"{exp['z_score']:.3f}",
        f"{exp['p_value']:.4f}",
        f"{p_adjusted:.4f}",
        flag(p_adjusted < alpha),
        flag(exp["significant"]),
    ]


def between(text: str, start: str, end: str | None = None) -> str:
    tail = text[text.index(start) :]
    return tail[: tail.index(end)] if end else tail


# --- the whole analysis -------------------------------------------------------------------------


def test_report_json_equals_analyze_json(store: Store) -> None:
    assert not (store.files / "grades.csv").exists()
    latest = json.loads(store.ok("report", "--format", "json"))
    assert latest == store.second
    first = json.loads(
        store.ok("report", "--analysis", str(store.first["analysis_id"]), "--format", "json")
    )
    assert first == store.first
    check_analysis_json(first, expected(GROUPS, FIRST_THRESHOLD))
    check_analysis_json(latest, expected({"COMSC210": [S1, S2]}, 0.05))
    assert {s["student_id"] for s in first["good_list"]} == set(
        expected_lists({S1, S2, S3, S4})["good"]
    )


def test_report_table_names_groups_sections_tests_and_lists(store: Store) -> None:
    out = store.ok("report", "--analysis", str(store.first["analysis_id"]))
    rows = tokens_in(out)
    want = expected(GROUPS, FIRST_THRESHOLD)
    for group, exp in want["groups"].items():
        assert (
            f"Group {group}: count {exp['count']}, mean GPA {exp['mean_gpa']:.3f}, "
            f"stddev {exp['stddev']:.3f}"
        ) in out
        # The group against all groups: its seed figures, then d, z and p (the adjusted p of
        # two group tests is checked in the JSON tests).
        row = next(r for r in rows if r[:2] == [group, str(len(exp["sections"]))])
        assert row[2:5] == [str(exp["count"]), f"{exp['mean_gpa']:.3f}", f"{exp['stddev']:.3f}"]
        assert row[7:9] == [f"{exp['z_score']:.3f}", f"{exp['p_value']:.4f}"], group
        assert row[-1] == flag(exp["significant"]), group
    for section, group in want["sections"]:
        assert section_row(section, group, want, FIRST_THRESHOLD) in rows, (section, group)
    assert sum(row[-1:] == ["YES"] for row in rows) == 2
    # S4 is in no group: the reason stands where z would be, and it has no flags.
    assert "Sections in no group" in out
    assert [S4, "-", "2", "3.500", "-", "in", "no", "group", "-", "no"] in rows
    lists = expected_lists({S1, S2, S3, S4})
    good = between(out, "Good list", "Work list")
    work = between(out, "Work list")
    # appeared before, then the first term (and on the work list the risk) end each row.
    for part, which, at in ((good, "good", -2), (work, "work", -3)):
        listed = {row[0]: row[at] for row in tokens_in(part) if row and row[0] in lists[which]}
        assert set(listed) == set(lists[which]), which
        for student, appeared in listed.items():
            assert appeared == ("yes" if student == "1024" else "no"), (which, student)
    assert "appeared before" in good and "appeared before" in work


def test_report_csv_one_row_per_test(store: Store) -> None:
    out = store.ok("report", "--analysis", str(store.first["analysis_id"]), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    want = expected(GROUPS, FIRST_THRESHOLD)
    sections = {(r["name"], r["against"]): r for r in rows if r["test"] == "section"}
    groups = {r["name"]: r for r in rows if r["test"] == "group"}
    assert len(rows) == len(want["sections"]) + 1 + len(want["groups"])  # + S4, in no group
    assert set(sections) == set(want["sections"]) | {(S4, "")}
    assert set(groups) == set(want["groups"])
    for key, exp in want["sections"].items():
        assert int(sections[key]["count"]) == exp["count"]
        assert float(sections[key]["mean_gpa"]) == pytest.approx(exp["mean_gpa"])
        assert float(sections[key]["z_score"]) == pytest.approx(exp["z_score"])  # -0.96: no '
        assert float(sections[key]["p_value"]) == pytest.approx(exp["p_value"])
    for name, exp in want["groups"].items():
        assert float(groups[name]["stddev"]) == pytest.approx(exp["stddev"])
        assert float(groups[name]["z_score"]) == pytest.approx(exp["z_score"])


# --- --section ----------------------------------------------------------------------------------

BAR_LINE = re.compile(
    r"^(A\+|A-|A|B\+|B-|B|C\+|C-|C|D\+|D-|D|F|I|W|P|NP)(?: \(not in GPA\))?\s+(\d+)\s*(#*)\s*$"
)


def test_section_table_bar_chart_tests_and_students(store: Store) -> None:
    out = store.ok("report", "--section", S1, "--analysis", str(store.first["analysis_id"]))
    assert "count 16" in out and f"mean GPA {np.mean(points(S1)):.3f}" in out
    bars = {}
    for line in out.splitlines():
        match = BAR_LINE.match(line)
        if match:
            bars[match[1]] = (int(match[2]), len(match[3]))
    counts = grade_counts(S1)
    assert set(bars) == set(LETTERS)  # every letter, I, W, P and NP too
    assert {letter: count for letter, (count, _) in bars.items()} == counts
    assert bars["A"][1] > bars["B"][1] > bars["C"][1] > 0  # 3 > 2 > 1 grades
    assert bars["NP"][1] == bars["F"][1] > 0
    z, p, _ = ztest(points(S1), points(S1) + points(S2), FIRST_THRESHOLD)
    row = next(r for r in tokens_in(out) if r[:1] == ["COMSC210"])
    assert row[3:5] == [f"{z:.3f}", f"{p:.4f}"] and row[-1] == "no"
    good = between(out, "Good list", "Work list")
    work = between(out, "Work list")
    lists = expected_lists({S1})
    assert {r[0] for r in tokens_in(good) if r and r[0].isdigit()} == set(lists["good"])
    assert {r[0] for r in tokens_in(work) if r and r[0].isdigit()} == set(lists["work"])


def test_section_in_two_groups_table_json_csv(store: Store) -> None:
    analysis = str(store.first["analysis_id"])
    out = store.ok("report", "--section", S2, "--analysis", analysis)
    rows = tokens_in(out)
    for group, members in GROUPS.items():
        z, p, sig = ztest(points(S2), [v for s in members for v in points(s)], FIRST_THRESHOLD)
        assert sig
        row = next(r for r in rows if r[:1] == [group])
        assert row[3:5] == [f"{z:.3f}", f"{p:.4f}"] and row[-1] == "YES"

    data = json.loads(
        store.ok("report", "--section", S2, "--analysis", analysis, "--format", "json")
    )
    assert data["section"] == S2 and data["count"] == 5
    assert data["mean_gpa"] == pytest.approx(1.8)  # (1.0 + 4.0 + 2.0 + 2.0 + 0.0) / 5
    assert data["grade_counts"] == grade_counts(S2)
    assert sorted(t["group"] for t in data["tests"]) == ["COMSC210", "CORE"]
    assert [s["student_id"] for s in data["good_list"]] == ["1021"]
    assert sorted(s["student_id"] for s in data["work_list"]) == ["1002", "1024"]

    out = store.ok("report", "--section", S2, "--analysis", analysis, "--format", "csv")
    csv_rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(r["group"] for r in csv_rows) == ["COMSC210", "CORE"]
    for row in csv_rows:
        assert row["section"] == S2 and int(row["count"]) == 5
        assert {letter: int(row[letter]) for letter in LETTERS} == grade_counts(S2)
        assert float(row["z_score"]) < 0 and row["significant"] == "true"


# --- --group ------------------------------------------------------------------------------------


def test_group_report_table_json_csv(store: Store) -> None:
    analysis = str(store.first["analysis_id"])
    want = expected(GROUPS, FIRST_THRESHOLD)
    exp = want["groups"]["CORE"]
    out = store.ok("report", "--group", "CORE", "--analysis", analysis)
    assert f"count 11, mean GPA {exp['mean_gpa']:.3f}, stddev {exp['stddev']:.3f}" in out
    rows = tokens_in(out)
    group_row = next(r for r in rows if r[:2] == ["CORE", "2"])
    assert group_row[7:9] == [f"{exp['z_score']:.3f}", f"{exp['p_value']:.4f}"]
    s2 = rows.index(section_row(S2, "CORE", want, FIRST_THRESHOLD))
    s3 = rows.index(section_row(S3, "CORE", want, FIRST_THRESHOLD))
    assert s2 < s3  # sorted by z: S2 (z -0.885) before S3 (z 0.808)

    data = json.loads(
        store.ok("report", "--group", "CORE", "--analysis", analysis, "--format", "json")
    )
    assert data["group"] == "CORE" and data["count"] == 11
    assert data["stddev"] == pytest.approx(exp["stddev"])
    assert data["z_score"] == pytest.approx(exp["z_score"])
    assert [t["section"] for t in data["section_tests"]] == [S2, S3]

    out = store.ok("report", "--group", "COMSC210", "--analysis", analysis, "--format", "csv")
    csv_rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["test"], r["name"]) for r in csv_rows] == [
        ("group", "COMSC210"),
        ("section", S2),  # z -0.960
        ("section", S1),  # z 0.536
    ]
    assert float(csv_rows[0]["z_score"]) == pytest.approx(want["groups"]["COMSC210"]["z_score"])


# --- --student ----------------------------------------------------------------------------------


def test_student_report_table_json_csv(store: Store) -> None:
    first, second = store.first["analysis_id"], store.second["analysis_id"]
    out = store.ok("report", "--student", "1002")
    assert "Adams, Ann" in out
    rows = tokens_in(out)
    assert [S1, "F25", "A", "4.0"] in rows and [S2, "F25", "D", "1.0"] in rows
    for analysis in (first, second):
        assert any(r[:1] == [str(analysis)] and r[2:] == ["good", S1, "A"] for r in rows)
        assert any(r[:1] == [str(analysis)] and r[2:] == ["work", S2, "D"] for r in rows)

    data = json.loads(store.ok("report", "--student", "1002", "--format", "json"))
    assert data["student_id"] == "1002" and data["last_name"] == "Adams"
    assert sorted((e["analysis_id"], e["list"], e["section"]) for e in data["lists"]) == [
        (first, "good", S1),
        (first, "work", S2),
        (second, "good", S1),
        (second, "work", S2),
    ]

    rows_csv = list(
        csv.DictReader(io.StringIO(store.ok("report", "--student", "1002", "--format", "csv")))
    )
    by_section = {r["section"]: r for r in rows_csv}
    assert set(by_section) == {S1, S2}
    assert by_section[S1]["grade"] == "A" and float(by_section[S1]["points"]) == 4.0
    assert by_section[S1]["term"] == "F25"
    assert str(first) in by_section[S1]["lists"] and str(second) in by_section[S1]["lists"]
    assert "good" in by_section[S1]["lists"] and "work" in by_section[S2]["lists"]

    tate = store.ok("report", "--student", "1024")
    assert "OLD100.01F20 (D)" in tate  # the earlier .lst entry
    assert json.loads(store.ok("report", "--student", "1024", "--format", "json"))[
        "earlier_lists"
    ] == [{"section": "OLD100.01F20", "grade": "D"}]


# --- --list -------------------------------------------------------------------------------------


def test_list_reports_table_json_csv(store: Store) -> None:
    second = store.second["analysis_id"]
    lists = expected_lists({S1, S2})
    out = store.ok("report", "--list", "good")  # the latest analysis: COMSC210 only
    # appeared before, then the first term, end each row
    flags = {r[0]: r[-2] for r in tokens_in(out) if r and r[0] in lists["good"]}
    assert set(flags) == set(lists["good"])
    assert flags["1021"] == "yes" and flags["1002"] == "no"  # Quinn's A in MATH101 is outside

    data = json.loads(store.ok("report", "--list", "work", "--format", "json"))
    assert data["analysis_id"] == second and data["list"] == "work"
    got = {s["student_id"]: s for s in data["students"]}
    assert {k: {(e["section"], e["grade"]) for e in v["entries"]} for k, v in got.items()} == lists[
        "work"
    ]
    assert got["1024"]["appeared_before"] is True and got["1014"]["appeared_before"] is False

    out = store.ok(
        "report", "--list", "work", "--format", "csv", "--analysis", str(store.first["analysis_id"])
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    want = expected_lists({S1, S2, S3, S4})["work"]
    assert sorted((r["student_id"], r["section"], r["grade"]) for r in rows) == sorted(
        (student, section, grade) for student, entries in want.items() for section, grade in entries
    )
    assert {r["student_id"]: r["appeared_before"] for r in rows}["1024"] == "true"
    assert {r["student_id"]: r["appeared_before"] for r in rows}["1013"] == "false"


WORK_LST = (
    '"1014","-Smith, Sue", 1\n'
    '"COMSC210.01F25","D"\n'
    '"1016","@x, Max", 1\n'
    '"COMSC210.01F25","F"\n'
    '"1002","Adams, Ann", 1\n'
    '"COMSC210.02F25","D"\n'
    '"1007","Ellis, Ed", 1\n'
    '"MATH101.01F25","D+"\n'
    '"1013","Kent, Kim", 1\n'
    '"COMSC210.01F25","D+"\n'
    '"1015","Lowe, Liv", 1\n'
    '"COMSC210.01F25","D-"\n'
    '"1024","Tate, Tom", 2\n'
    '"COMSC210.02F25","F"\n'
    '"MATH101.01F25","D-"\n'
)


def test_work_list_output_lst_writes_the_legacy_layout(store: Store, tmp_path: Path) -> None:
    """That the file ingests back as list entries: integration/test_reports.py."""
    path = tmp_path / "work.lst"
    result = store.run(
        "report",
        "--list",
        "work",
        "--analysis",
        str(store.first["analysis_id"]),
        "--output",
        str(path),
    )
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "",
        f"wrote 7 students to {path}\n",
    )
    assert path.read_text(encoding="utf-8") == WORK_LST


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_output_writes_the_file_and_nothing_on_stdout(
    store: Store, tmp_path: Path, fmt: str
) -> None:
    for args in (("--section", S1), ("--list", "good"), ()):
        path = tmp_path / f"out.{fmt}"
        result = store.run("report", *args, "--format", fmt, "--output", str(path))
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""
        text = path.read_text(encoding="utf-8")
        if fmt == "json":
            json.loads(text)
        elif fmt == "csv":
            assert list(csv.DictReader(io.StringIO(text)))
        else:
            assert ESC not in text and text.strip()
        path.unlink()
    path = tmp_path / "whole.json"
    store.ok("report", "--format", "json", "--output", str(path))
    assert json.loads(path.read_text(encoding="utf-8")) == store.second


def test_failing_report_leaves_no_file(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for args in (
        ("--analysis", "99", "--format", "csv", "--output", str(out / "r.csv")),
        ("--analysis", "99", "--format", "json", "--output", str(out / "r.json")),
        ("--list", "work", "--analysis", "99", "--output", str(out / "work.lst")),
        ("--section", "NOPE", "--output", str(out / "s.csv"), "--format", "csv"),
    ):
        result = store.run("report", *args)
        assert result.exit_code == EX_NOINPUT, (args, result.stderr)
        assert list(out.iterdir()) == [], args


# --- CSV formula injection ----------------------------------------------------------------------


def test_csv_escapes_formula_names_not_numbers(store: Store) -> None:
    analysis = str(store.first["analysis_id"])
    names = {"1001": HYPERLINK, "1005": "+1", "1014": "-Smith", "1016": "@x"}
    good = list(
        csv.DictReader(
            io.StringIO(
                store.ok("report", "--list", "good", "--analysis", analysis, "--format", "csv")
            )
        )
    )
    work = list(
        csv.DictReader(
            io.StringIO(
                store.ok("report", "--list", "work", "--analysis", analysis, "--format", "csv")
            )
        )
    )
    last = {r["student_id"]: r["last_name"] for r in good + work}
    for student, name in names.items():
        assert last[student] == "'" + name, student
        row = next(
            csv.DictReader(io.StringIO(store.ok("report", "--student", student, "--format", "csv")))
        )
        assert row["last_name"] == "'" + name
    assert last["1002"] == "Adams"
    # Negative z-scores stay parseable numbers.
    rows = list(
        csv.DictReader(io.StringIO(store.ok("report", "--analysis", analysis, "--format", "csv")))
    )
    negative = [r["z_score"] for r in rows if r["z_score"].startswith("-")]
    assert negative and all(float(z) < 0 for z in negative)
    assert not any(r["z_score"].startswith("'") for r in rows)


# --- errors -------------------------------------------------------------------------------------


def test_options_that_do_not_go_together_exit_64(store: Store, tmp_path: Path) -> None:
    for args in (
        ("--section", S1, "--group", "CORE"),
        ("--student", "1002", "--list", "good"),
        ("--group", "CORE", "--list", "work"),
        ("--output", str(tmp_path / "x.lst")),
        ("--section", S1, "--output", str(tmp_path / "x.lst")),
    ):
        result = store.run("report", *args)
        assert result.exit_code == EX_USAGE, (args, result.stderr)
        one_line_error(result)
    assert not (tmp_path / "x.lst").exists()


# --- terminals, pipes and the store -------------------------------------------------------------


def test_no_colour_when_piped_and_80_columns(store: Store, tmp_path: Path) -> None:
    # One real pipe from a real process; the rest in-process, whose output is piped too.
    piped = run_gradestore("--db", store.db, "report", "--section", S1, cwd=tmp_path)
    assert piped.exit_code == 0, piped.stderr
    assert ESC not in piped.stdout and ESC not in piped.stderr
    assert "COMSC210" in piped.stdout
    no_color = run_cli("--db", store.db, "report", "--section", S1, env={"NO_COLOR": "1"})
    assert no_color.exit_code == 0, no_color.stderr
    assert ESC not in no_color.stdout and ESC not in no_color.stderr
    assert no_color.stdout == piped.stdout
    for args in (("--section", S1), ("--list", "good"), ("--student", "1002")):
        result = run_cli("--db", store.db, "report", *args, env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.stderr
        assert ESC not in result.stdout
        lines = result.stdout.splitlines()
        assert lines and max(len(line) for line in lines) <= 80, args


def test_reports_read_the_store_not_the_files(store: Store) -> None:
    assert list(store.files.iterdir()) == []
    for args in (
        (),
        ("--section", S1),
        ("--group", "COMSC210"),
        ("--student", "1021"),
        ("--list", "good"),
        ("--list", "work"),
    ):
        store.ok("report", *args)
    first = str(store.first["analysis_id"])
    data = json.loads(store.ok("report", "--section", S3, "--analysis", first, "--format", "json"))
    assert data["grade_counts"] == grade_counts(S3)


def test_output_in_a_missing_folder_is_one_line_not_a_traceback(
    store: Store, tmp_path: Path
) -> None:
    # In-process: an exception that escaped the command would fail this test (run_cli does not
    # catch it), as it would print a traceback from the installed program.
    for args in (
        ("--format", "csv", "--output", str(tmp_path / "missing" / "r.csv")),
        ("--list", "work", "--output", str(tmp_path / "missing" / "work.lst")),
    ):
        result = store.run("report", *args)
        assert result.exit_code != 0, args
        line = one_line_error(result)
        assert "missing" in line, line


# What the report path must not import: it only reads rows (docs/performance.md, start-up).
# pydantic: Typer's own conversion of option values imports it (gradestore.cli.fast_params).
HEAVY_MODULES = ("sqlalchemy.orm", "gradestore.persistence.models", "pandas", "scipy", "numpy",
                 "alembic", "pydantic")  # fmt: skip
_IMPORTS_OF_ONE_COMMAND = """
import sys
from gradestore.cli import app
try:
    app(sys.argv[1:])
except SystemExit as done:
    code = done.code
heavy = sorted({m for m in sys.modules if m.startswith(HEAVY)})
sys.stderr.write(f"exit={code} heavy={','.join(heavy)}\\n")
"""


@pytest.mark.parametrize(
    "report",
    [
        ("--section", S1),
        ("--group", "COMSC210"),
        ("--student", "1021"),
        ("--list", "work", "--format", "csv"),
        ("--list", "work"),  # to a .lst file
        ("--format", "json"),
    ],
)
def test_a_report_imports_no_orm_models_pandas_scipy_or_alembic(
    store: Store, report: tuple[str, ...], tmp_path: Path
) -> None:
    import subprocess
    import sys

    code = f"HEAVY = {HEAVY_MODULES!r}\n" + _IMPORTS_OF_ONE_COMMAND
    out = tmp_path / ("work.lst" if report == ("--list", "work") else "report.out")
    completed = subprocess.run(
        [sys.executable, "-c", code, "--db", store.db, "report", *report, "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.stderr.splitlines()[-1] == "exit=0 heavy=", completed.stderr
    assert out.stat().st_size > 0
