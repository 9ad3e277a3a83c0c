"""`gradestore report --suppress-below K` in every format, on SQLite and PostgreSQL.

The store is test_report_cli's (tests/report_dataset.py): S1 has 16 counted grades (A three
times, B twice, every other counted letter once, and I, W, P, NP), S2 5, S3 6, S4 2. The
expected figures come from that file's rows, counted here, and from the unsuppressed JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_report_cli import Store, build_store, one_line_error
from tests.expected import LETTERS
from tests.report_dataset import ROWS, S1, S2, S3, S4, expected_lists, grade_counts, points

EX_USAGE = 64
FIGURES = (
    "mean_gpa",
    "z_score",
    "p_value",
    "significant",
    "effect_size",
    "p_adjusted",
    "significant_adjusted",
    "no_test_reason",
)
# Every student id and name of the store: none may appear in a suppressed report.
PEOPLE = sorted({cell for row in ROWS for cell in (row[1], row[2], row[3])})


@pytest.fixture(scope="module")
def store(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build_store(module_db_url, tmp_path_factory.mktemp("files"))


def first_id(store: Store) -> str:
    return str(store.first["analysis_id"])  # the analysis of every section


def assert_names_no_one(text: str) -> None:
    # A time's digits are no student's (ids here are four digits: "00:14:11.371018").
    text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?", "", text)
    named = [person for person in PEOPLE if person in text]
    assert not named, named


def test_counts_of_the_dataset() -> None:
    # What the other tests rely on, counted from the rows.
    assert [len(points(s)) for s in (S1, S2, S3, S4)] == [16, 5, 6, 2]
    assert grade_counts(S1)["A"] == 3 and grade_counts(S1)["B"] == 2


def test_json_withholds_small_sections_counts_and_every_student(store: Store) -> None:
    full = json.loads(store.ok("report", "--analysis", first_id(store), "--format", "json"))
    text = store.ok(
        "report", "--analysis", first_id(store), "--format", "json", "--suppress-below", "6"
    )
    got = json.loads(text)
    assert_names_no_one(text)
    assert got["suppress_below"] == 6
    assert got["good_list"] is None and got["work_list"] is None
    assert got["good_list_size"] == len(full["good_list"]) >= 6
    assert got["work_list_size"] == len(full["work_list"]) >= 6
    pairs = zip(got["sections"], full["sections"], strict=True)
    for masked, whole in pairs:
        assert masked["suppressed"] is True  # every section has a letter counted below 6
        assert masked["section"] == whole["section"] and masked["group"] == whole["group"]
        assert masked["grade_counts"] == {
            letter: n if n >= 6 else None for letter, n in whole["grade_counts"].items()
        }
        if whole["count"] < 6:  # S2 (5) and S4 (2)
            assert masked["section"] in (S2, S4)
            assert masked["count"] is None
            assert all(masked[key] is None for key in FIGURES), masked
        else:
            assert masked["section"] in (S1, S3)
            assert {key: masked[key] for key in ("count", *FIGURES)} == {
                key: whole[key] for key in ("count", *FIGURES)
            }
    # Groups hold 21 (COMSC210) and 11 (CORE) counted grades: shown as they are.
    assert got["groups"] == full["groups"]


def test_table_shows_less_than_k_and_withheld_tests(store: Store) -> None:
    text = store.ok("report", "--analysis", first_id(store), "--suppress-below", "6")
    assert_names_no_one(text)
    rows = {tuple(line.split()[:3]) for line in text.splitlines()}
    assert (S2, "COMSC210", "<6") in rows and (S2, "CORE", "<6") in rows
    assert (S4, "-", "<6") in rows
    assert (S1, "COMSC210", "16") in rows and (S3, "CORE", "6") in rows
    s2 = [line for line in text.splitlines() if line.startswith(S2)]
    assert all(line.split()[3:] == ["-", "withheld"] for line in s2), s2
    lists = expected_lists({S1, S2, S3, S4})
    assert len(lists["work"]) == 7 and len(lists["good"]) == 9
    assert "Work list (D+, D, D-, F): 7 students (not listed: names are withheld)" in text
    assert "Good list (A+, A, A-): 9 students (not listed: names are withheld)" in text


def test_csv_of_the_whole_report(store: Store) -> None:
    text = store.ok(
        "report", "--analysis", first_id(store), "--format", "csv", "--suppress-below", "6"
    )
    assert_names_no_one(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    withheld = [row for row in rows if row["name"] in (S2, S4)]
    assert len(withheld) == 3  # S2 in two groups, S4 in none
    for row in withheld:
        assert row["count"] == "<6"
        assert all(row[key] == "" for key in FIGURES if key in row), row
    assert {row["name"]: row["count"] for row in rows if row["name"] in (S1, S3)} == {
        S1: "16",
        S3: "6",
    }


def test_section_report_every_format(store: Store) -> None:
    args = ("report", "--section", S1, "--analysis", first_id(store), "--suppress-below", "3")
    rows = list(csv.DictReader(io.StringIO(store.ok(*args, "--format", "csv"))))
    counts = grade_counts(S1)
    assert [row["count"] for row in rows] == ["16"]
    assert {letter: rows[0][letter] for letter in LETTERS} == {
        letter: str(n) if n >= 3 else "<3" for letter, n in counts.items()
    }
    got = json.loads(store.ok(*args, "--format", "json"))
    assert got["grade_counts"] == {k: n if n >= 3 else None for k, n in counts.items()}
    assert got["count"] == 16 and got["suppressed"] is True
    assert got["good_list"] is None and got["good_list_size"] == 5  # A+, A x3, A-
    table = store.ok(*args)
    assert_names_no_one(table)
    bars = {tuple(line.split()[:2]) for line in table.splitlines()}
    assert ("A", "3") in bars and ("F", "<3") in bars and ("W", "(not") in bars
    assert "count 16, mean GPA" in table


def test_small_section_report_shows_no_mean_and_no_test(store: Store) -> None:
    args = ("report", "--section", S2, "--analysis", first_id(store), "--suppress-below", "6")
    got = json.loads(store.ok(*args, "--format", "json"))
    assert got["count"] is None and got["mean_gpa"] is None
    assert len(got["tests"]) == 2
    assert all(test.get(key) is None for test in got["tests"] for key in FIGURES)
    assert all(test["z_score"] is None and test["suppressed"] for test in got["tests"])
    table = store.ok(*args)
    assert "count <6, mean GPA withheld" in table
    assert_names_no_one(table)


def test_group_report(store: Store) -> None:
    args = ("report", "--group", "CORE", "--analysis", first_id(store), "--suppress-below", "6")
    got = json.loads(store.ok(*args, "--format", "json"))
    assert got["count"] == 11 and got["mean_gpa"] is not None
    by_section = {test["section"]: test for test in got["section_tests"]}
    assert by_section[S2]["count"] is None and by_section[S2]["z_score"] is None
    assert by_section[S3]["count"] == 6 and by_section[S3]["z_score"] is not None
    rows = list(csv.DictReader(io.StringIO(store.ok(*args, "--format", "csv"))))
    assert {row["name"]: row["count"] for row in rows} == {"CORE": "11", S2: "<6", S3: "6"}


def test_a_group_below_k_is_withheld_too(store: Store) -> None:
    args = ("report", "--analysis", first_id(store), "--suppress-below", "12")
    got: dict[str, Any] = json.loads(store.ok(*args, "--format", "json"))
    groups = {group["group"]: group for group in got["groups"]}
    assert groups["CORE"]["count"] is None and groups["CORE"]["mean_gpa"] is None
    assert groups["CORE"]["stddev"] is None and groups["CORE"]["suppressed"] is True
    assert groups["COMSC210"]["count"] == 21 and "suppressed" not in groups["COMSC210"]
    assert "Group CORE: count <12, mean GPA and stddev withheld" in store.ok(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--list", "work"),
            "gradestore: --suppress-below leaves out student names and ids: --list has "
            "nothing else to show (report the whole analysis, a --section or a --group)",
        ),
        (
            ("--student", "1001"),
            "gradestore: --suppress-below leaves out student names and ids: --student has "
            "nothing else to show (report the whole analysis, a --section or a --group)",
        ),
    ],
)
def test_reports_of_students_are_refused(store: Store, args: tuple[str, ...], message: str) -> None:
    result = store.run("report", *args, "--suppress-below", "5")
    assert result.exit_code == EX_USAGE
    assert one_line_error(result) == message
    assert result.stdout == ""


def test_k_below_two_is_refused(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = store.run("report", "--suppress-below", "1", "--output", str(out))
    assert result.exit_code == EX_USAGE
    assert one_line_error(result) == "gradestore: --suppress-below must be at least 2 (got 1)"
    assert not out.exists()
