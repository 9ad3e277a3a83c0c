"""`gradestore analyze` and `gradestore zscore` through the command line, on SQLite and PostgreSQL.

The numbers are checked against an independent computation from the sample CSV (stdlib csv,
numpy with ddof=0, scipy.stats.norm.sf), never against gradestore's own earlier output.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from tests.expected import GOOD, NOT_COUNTED, POINTS, WORK
from tests.helpers import run_cli

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_CSV = SAMPLE_DATA / "grades.csv"
SAMPLE_RUNS = SAMPLE_DATA / "legacy" / "Runs"


TOP_KEYS = {
    "analysis_id",
    "created_at",
    "threshold",
    "sections",
    "groups",
    "good_list",
    "work_list",
    # design.md section 7, statistics a chair can trust:
    "method",
    "adjust",
    "min_n",
    "overdispersion",
    "tests",
    "expected_false_flags",
}
# Beside the seed's z, p and significant, on every section and group entry.
TEST_FIGURE_KEYS = {"effect_size", "p_adjusted", "significant_adjusted", "no_test_reason"}
SECTION_KEYS = {
    "section",
    "group",
    "count",
    "mean_gpa",
    "grade_counts",
    "z_score",
    "p_value",
    "significant",
    *TEST_FIGURE_KEYS,
}
GROUP_KEYS = {
    "group",
    "sections",
    "count",
    "mean_gpa",
    "stddev",
    "z_score",
    "p_value",
    "significant",
    *TEST_FIGURE_KEYS,
}
STUDENT_KEYS = {
    "student_id",
    "first_name",
    "last_name",
    "entries",
    "appeared_before",
    # history by term (issue 14)
    "earlier_terms_on_work_list",
    "earlier_terms_on_good_list",
    "first_term_listed",
}


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def analyze_json(db_url: str, *args: str) -> dict[str, Any]:
    return json.loads(ok("--db", db_url, "analyze", "--format", "json", *args))


def one_line_error(result: Any) -> str:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def sample_db(db_url: str) -> str:
    ok("--db", db_url, "ingest", str(SAMPLE_CSV))
    return db_url


def read_sample() -> list[dict[str, str]]:
    with SAMPLE_CSV.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def independent_sample_figures(threshold: float = 0.05) -> dict[str, Any]:
    rows = read_sample()
    points: dict[str, list[float]] = defaultdict(list)
    letters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    group_of: dict[str, str] = {}
    for row in rows:
        section, grade = row["section"].strip(), row["grade"].strip().upper()
        group_of[section] = row["group"].strip()
        letters[section][grade] += 1
        if grade in POINTS:
            points[section].append(POINTS[grade])
    group_sections: dict[str, list[str]] = defaultdict(list)
    for section, group in group_of.items():
        group_sections[group].append(section)
    group_points = {
        g: [v for s in members for v in points[s]] for g, members in group_sections.items()
    }
    all_points = [v for s in group_of for v in points[s]]

    def ztest(sample: list[float], population: list[float]) -> tuple[float, float, bool]:
        std = float(np.std(population, ddof=0))
        z = (np.mean(sample) - np.mean(population)) / (std / math.sqrt(len(sample)))
        p = float(2 * norm.sf(abs(z)))
        return float(z), p, p < threshold

    sections = {}
    for section, group in group_of.items():
        z, p, significant = ztest(points[section], group_points[group])
        sections[section] = {
            "group": group,
            "count": len(points[section]),
            "mean_gpa": float(np.mean(points[section])),
            "grade_counts": dict(letters[section]),
            "z_score": z,
            "p_value": p,
            "significant": significant,
        }
    groups = {}
    for group, values in group_points.items():
        z, p, significant = ztest(values, all_points)
        groups[group] = {
            "sections": sorted(group_sections[group]),
            "count": len(values),
            "mean_gpa": float(np.mean(values)),
            "stddev": float(np.std(values, ddof=0)),
            "z_score": z,
            "p_value": p,
            "significant": significant,
        }
    good: dict[str, set[tuple[str, str]]] = defaultdict(set)
    work: dict[str, set[tuple[str, str]]] = defaultdict(set)
    names: dict[str, tuple[str, str]] = {}
    # The sample's two terms, S25 before F25: a student with a qualifying grade in S25 and an
    # entry of a list in F25 appeared before on that list (history by term, docs/history.md).
    spring_qualifying: set[str] = set()
    fall_on: dict[str, set[str]] = {"good": set(), "work": set()}
    for row in rows:
        grade = row["grade"].strip().upper()
        names[row["student_id"]] = (row["first_name"], row["last_name"])
        if grade in GOOD:
            good[row["student_id"]].add((row["section"], grade))
        if grade in WORK:
            work[row["student_id"]].add((row["section"], grade))
        if grade in GOOD or grade in WORK:
            if row["term"] == "S25":
                spring_qualifying.add(row["student_id"])
            else:
                fall_on["good" if grade in GOOD else "work"].add(row["student_id"])
    before = {which: students & spring_qualifying for which, students in fall_on.items()}
    return {
        "sections": sections,
        "groups": groups,
        "good": good,
        "work": work,
        "names": names,
        "appeared_before": before,
    }


# --- JSON shape -----------------------------------------------------------------------------------


def test_analyze_json_has_exactly_the_design_keys(sample_db: str) -> None:
    result = analyze_json(sample_db)
    assert TOP_KEYS <= set(result) <= TOP_KEYS | {"scope", "scale"}
    assert set(result["scale"]) == {"name", "points", "not_counted", "good", "work"}
    assert result["scale"]["name"] == "default"
    assert result["scale"]["points"] == POINTS
    assert list(result["sections"][0]["grade_counts"]) == [*POINTS, *NOT_COUNTED]
    assert isinstance(result["analysis_id"], int)
    created = datetime.fromisoformat(result["created_at"])
    assert created.tzinfo is not None
    assert result["threshold"] == 0.05
    assert result["sections"] and result["groups"] and result["good_list"] and result["work_list"]
    for section in result["sections"]:
        assert set(section) == SECTION_KEYS
        assert set(section["grade_counts"]) >= set(POINTS) | set(NOT_COUNTED)
        assert isinstance(section["significant"], bool)
    for group in result["groups"]:
        assert set(group) == GROUP_KEYS
        assert isinstance(group["sections"], list)
    for student in [*result["good_list"], *result["work_list"]]:
        assert set(student) == STUDENT_KEYS
        assert isinstance(student["student_id"], str)
        assert isinstance(student["appeared_before"], bool)
        for entry in student["entries"]:
            assert set(entry) == {"section", "grade"}


def test_analyze_json_numbers_on_the_sample_data(sample_db: str) -> None:
    expected = independent_sample_figures()
    result = analyze_json(sample_db)

    sections = {s["section"]: s for s in result["sections"]}
    assert len(sections) == len(result["sections"]) == 11
    assert set(sections) == set(expected["sections"])
    for name, want in expected["sections"].items():
        got = sections[name]
        assert got["group"] == want["group"]
        assert got["count"] == want["count"]
        assert {k: v for k, v in got["grade_counts"].items() if v} == want["grade_counts"]
        assert got["mean_gpa"] == pytest.approx(want["mean_gpa"], rel=1e-12)
        assert got["z_score"] == pytest.approx(want["z_score"], rel=1e-9)
        assert got["p_value"] == pytest.approx(want["p_value"], rel=1e-9)
        assert got["significant"] is want["significant"]

    groups = {g["group"]: g for g in result["groups"]}
    assert set(groups) == {"COMSC110", "COMSC210", "COMSC330"}
    for name, want in expected["groups"].items():
        got = groups[name]
        assert sorted(got["sections"]) == want["sections"]
        assert got["count"] == want["count"]
        for field in ("mean_gpa", "stddev", "z_score", "p_value"):
            assert got[field] == pytest.approx(want[field], rel=1e-9), (name, field)
        assert got["significant"] is want["significant"]

    significant = [s["section"] for s in result["sections"] if s["significant"]]
    assert significant == ["COMSC210.02F25"]
    # The README's table, to 3 significant figures: z = -4.145, p = 3.40e-05
    assert sections["COMSC210.02F25"]["z_score"] == pytest.approx(-4.145, abs=5e-4)
    assert sections["COMSC210.02F25"]["p_value"] == pytest.approx(3.40e-05, abs=5e-7)

    for key, want in (("good_list", expected["good"]), ("work_list", expected["work"])):
        got = {
            s["student_id"]: {(e["section"], e["grade"]) for e in s["entries"]} for s in result[key]
        }
        assert got == want
        before = expected["appeared_before"][key.removesuffix("_list")]
        for student in result[key]:
            first, last = expected["names"][student["student_id"]]
            assert (student["first_name"], student["last_name"]) == (first, last)
            # Nothing is outside the analysis and there is no .lst: only an earlier term counts.
            assert student["appeared_before"] is (student["student_id"] in before)
        assert sum(s["appeared_before"] for s in result[key]) == len(before)
    assert expected["appeared_before"]["good"]  # the sample has such students
    # Leading zeros are kept in listed ids.
    assert any(s["student_id"].startswith("0") for s in result["good_list"])


def test_analyze_table_output(sample_db: str) -> None:
    out = ok("--db", sample_db, "analyze")
    assert "COMSC210.02F25" in out
    assert "COMSC330" in out


# --- threshold --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        *(
            (v, "must be a number between 0 and 1 (exclusive), e.g. 0.05")
            for v in ("0", "1", "-0.1", "1.5")
        ),
        ("abc", "Input should be a valid number, unable to parse string as a number"),
    ],
)
def test_bad_threshold_is_a_usage_error(sqlite_url: str, value: str, reason: str) -> None:
    """Refused while the options are parsed, before any store is opened: one backend is enough.
    That the library refuses it too and stores nothing: integration/test_analysis.py."""
    for args in ([f"--threshold={value}"], ["--threshold", value, "--format", "json"]):
        result = run_cli("--db", sqlite_url, "analyze", *args)
        assert (result.exit_code, result.stdout) == (2, ""), result.stderr
        assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '--threshold': {reason}"


def test_threshold_is_stored_and_used(sample_db: str) -> None:
    # COMSC210.02F25 p = 3.40e-05: significant at 1e-4, not at 1e-5.
    loose = analyze_json(sample_db, "--threshold", "0.0001")
    strict = analyze_json(sample_db, "--threshold", "0.00001")
    assert loose["threshold"] == 0.0001
    assert strict["threshold"] == 0.00001
    assert [s["section"] for s in loose["sections"] if s["significant"]] == ["COMSC210.02F25"]
    assert not any(s["significant"] for s in strict["sections"])


# --- errors -------------------------------------------------------------------------------------


def test_analyze_on_an_empty_store(db_url: str) -> None:
    for args in ((), ("--format", "json")):
        result = run_cli("--db", db_url, "analyze", *args)
        assert (result.exit_code, result.stdout, result.stderr) == (
            66,
            "",
            "gradestore: no grades are stored yet: run `gradestore ingest FILE...` first\n",
        )


@pytest.fixture
def runs_db(db_url: str) -> str:
    ok("--db", db_url, "ingest", str(SAMPLE_RUNS / "FALL25.RUN"), str(SAMPLE_RUNS / "INTRO.RUN"))
    return db_url


def test_run_and_group_scopes(runs_db: str) -> None:
    intro = analyze_json(runs_db, "--run", "INTRO")
    assert {g["group"] for g in intro["groups"]} == {"COMSC110"}
    assert {s["section"] for s in intro["sections"]} == {
        "COMSC110.01S25",
        "COMSC110.01F25",
        "COMSC110.02F25",
        "COMSC110.03F25",
    }
    expected = independent_sample_figures()
    # One group in scope: the group is the whole 'all' pool (z would be 0 by construction), so
    # it is not tested, and says why.
    (group,) = intro["groups"]
    assert group["mean_gpa"] == pytest.approx(expected["groups"]["COMSC110"]["mean_gpa"])
    assert group["z_score"] is None and group["p_value"] is None
    assert group["significant"] is False
    assert group["no_test_reason"] == "only group in the analysis"

    two = analyze_json(runs_db, "--group", "COMSC210", "--group", "COMSC330")
    assert {g["group"] for g in two["groups"]} == {"COMSC210", "COMSC330"}
    values = {
        g: [POINTS[r["grade"]] for r in read_sample() if r["group"] == g and r["grade"] in POINTS]
        for g in ("COMSC210", "COMSC330")
    }
    pooled = values["COMSC210"] + values["COMSC330"]
    for g in two["groups"]:
        z = (np.mean(values[g["group"]]) - np.mean(pooled)) / (
            np.std(pooled, ddof=0) / math.sqrt(len(values[g["group"]]))
        )
        assert g["z_score"] == pytest.approx(z, rel=1e-9)
        assert g["p_value"] == pytest.approx(2 * norm.sf(abs(z)), rel=1e-9)
    # Sections against their own group do not depend on the scope.
    for s in two["sections"]:
        assert s["z_score"] == pytest.approx(expected["sections"][s["section"]]["z_score"])


def test_group_and_run_together_is_refused(sqlite_url: str) -> None:
    """Refused before any store is read: one backend is enough."""
    result = run_cli("--db", sqlite_url, "analyze", "--group", "COMSC110", "--run", "INTRO")
    assert (result.exit_code, result.stdout, result.stderr) == (
        64,
        "",
        "gradestore: give --group or --run, not both\n",
    )


# --- zscore ------------------------------------------------------------------------------------


def zscore_json(db_url: str, *args: str) -> dict[str, Any]:
    return json.loads(ok("--db", db_url, "zscore", "--format", "json", *args))


def assert_sorted_by_abs_z(zs: list[float | None]) -> None:
    present = [abs(z) for z in zs if z is not None]
    assert present == sorted(present, reverse=True)
    # Null z (no test) come last.
    assert zs[: len(present)] == [z for z in zs if z is not None]


def test_zscore_group_lists_its_tests_by_abs_z(sample_db: str) -> None:
    expected = independent_sample_figures()
    analyze_json(sample_db)
    listing = zscore_json(sample_db, "--group", "COMSC210")
    tests = listing["tests"]
    members = sorted(s for s, w in expected["sections"].items() if w["group"] == "COMSC210")
    assert sorted(t["name"] for t in tests if t["kind"] == "section") == members
    assert [t["name"] for t in tests if t["kind"] == "group"] == ["COMSC210"]
    assert all(t["against"] == "COMSC210" for t in tests if t["kind"] == "section")
    assert_sorted_by_abs_z([t["z_score"] for t in tests])
    # Expected order, computed here: |z| descending over the sections and the group itself.
    independent = [(n, abs(expected["sections"][n]["z_score"])) for n in members]
    independent.append(("COMSC210", abs(expected["groups"]["COMSC210"]["z_score"])))
    order = [n for n, _ in sorted(independent, key=lambda item: -item[1])]
    assert [t["name"] for t in tests] == order
    assert tests[0]["name"] == "COMSC210.02F25"
    for t in tests:
        want = expected["sections"][t["name"]] if t["kind"] == "section" else None
        if want is not None:
            assert t["z_score"] == pytest.approx(want["z_score"], rel=1e-9)
            assert t["p_value"] == pytest.approx(want["p_value"], rel=1e-9)
            assert t["significant"] is want["significant"]


def test_zscore_csv_parses_and_is_sorted(sample_db: str) -> None:
    analyze_json(sample_db)
    out = ok("--db", sample_db, "zscore", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 11 + 3  # every section test and every group test
    zs = [float(r["z_score"]) if r["z_score"] not in ("", "None") else None for r in rows]
    assert_sorted_by_abs_z(zs)
    assert rows[0]["name"] == "COMSC210.02F25"
    expected = independent_sample_figures()
    for row in rows:
        if row["name"] in expected["sections"]:
            assert float(row["z_score"]) == pytest.approx(
                expected["sections"][row["name"]]["z_score"], rel=1e-9
            )


def test_zscore_section(sample_db: str) -> None:
    expected = independent_sample_figures()["sections"]["COMSC110.02F25"]
    analyze_json(sample_db)
    tests = zscore_json(sample_db, "--section", "COMSC110.02F25")["tests"]
    assert len(tests) == 1
    (test,) = tests
    assert (test["kind"], test["name"], test["against"]) == (
        "section",
        "COMSC110.02F25",
        "COMSC110",
    )
    assert test["count"] == expected["count"]
    assert test["z_score"] == pytest.approx(expected["z_score"], rel=1e-9)


def test_zscore_table_output(sample_db: str) -> None:
    analyze_json(sample_db)
    out = ok("--db", sample_db, "zscore")
    assert "COMSC210.02F25" in out


def test_zscore_unknown_section_and_group(sample_db: str) -> None:
    analyze_json(sample_db)
    line = one_line_error(run_cli("--db", sample_db, "zscore", "--section", "COMSC210.02F26"))
    assert "COMSC210.02F26" in line and "COMSC210.02F25" in line
    line = one_line_error(run_cli("--db", sample_db, "zscore", "--group", "COMSC33"))
    assert "COMSC33" in line and "COMSC330" in line


def test_zscore_before_any_analysis(sample_db: str) -> None:
    line = one_line_error(run_cli("--db", sample_db, "zscore"))
    assert "gradestore analyze" in line


def test_zscore_of_an_older_analysis(sample_db: str) -> None:
    first = analyze_json(sample_db, "--threshold", "0.00001")
    second = analyze_json(sample_db)
    assert second["analysis_id"] != first["analysis_id"]
    old = zscore_json(sample_db, "--analysis", str(first["analysis_id"]))
    assert old["analysis_id"] == first["analysis_id"]
    assert old["threshold"] == 0.00001
    assert not any(t["significant"] for t in old["tests"])
    latest = zscore_json(sample_db)
    assert latest["analysis_id"] == second["analysis_id"]
    significant = {(t["kind"], t["name"]) for t in latest["tests"] if t["significant"]}
    expected = independent_sample_figures()
    assert significant == {("section", "COMSC210.02F25")} | {
        ("group", g) for g, want in expected["groups"].items() if want["significant"]
    }


_MODULES_OF_ONE_ANALYSIS = """
import sys
from gradestore.cli import app
try:
    app(sys.argv[1:])
except SystemExit as done:
    code = done.code
sys.stderr.write(f"exit={code} scipy.stats={'scipy.stats' in sys.modules}\\n")
"""


@pytest.mark.parametrize(("method", "imported"), [("z", False), ("welch", True)])
def test_a_z_analysis_does_not_import_scipy_stats(
    sample_db: str, method: str, imported: bool
) -> None:
    """scipy.stats takes over a second to import (docs/performance.md): the z-test path
    computes its p-values with scipy.special and its adjustment with numpy; Welch's test
    still asks scipy.stats."""
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-c", _MODULES_OF_ONE_ANALYSIS, "--db", sample_db, "analyze",
         "--force", "--method", method, "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.stderr.splitlines()[-1] == f"exit=0 scipy.stats={imported}", completed.stderr
