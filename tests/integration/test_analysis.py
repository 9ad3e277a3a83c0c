"""run_analysis on SQLite and PostgreSQL: every stored number against an independent computation.

The expected figures are computed here from the rows written to the CSV files, with a grade
scale written out in this file, numpy (population std, ddof=0) and scipy.stats.norm.sf; small
cases are also worked out by hand in comments.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm
from sqlalchemy import Connection, Engine, inspect, text

from gradestore.analysis import Scope, run_analysis
from gradestore.errors import NotFoundError, UsageError
from gradestore.ingest import IngestOptions, ingest_paths
from gradestore.persistence.db import Database
from gradestore.reports import analysis_report, zscore_listing
from tests.expected import GOOD, LETTERS, POINTS, WORK
from tests.helpers import run_cli, table_counts

HEADER = ("section", "student_id", "last_name", "first_name", "grade", "group")

Row = tuple[str, str, str, str, str, str]  # section, student_id, last, first, grade, group

# Three groups, a section in no group (N1), W/I/P/NP grades that count only in grade_counts.
BASE_ROWS: list[Row] = [
    ("S1", "0000101", "Adams", "Ann", "A", "G1"),
    ("S1", "0000102", "Brown", "Ben", "B", "G1"),
    ("S1", "0000103", "Clark", "Cat", "C", "G1"),
    ("S1", "0000104", "Davis", "Dan", "W", "G1"),
    ("S1", "0000105", "Evans", "Eve", "I", "G1"),
    ("S2", "0000106", "Foster", "Fay", "A-", "G1"),
    ("S2", "0000107", "Green", "Gus", "B+", "G1"),
    ("S2", "0000108", "Hall", "Hal", "D", "G1"),
    ("S2", "0000109", "Irwin", "Ida", "F", "G1"),
    ("S2", "0000110", "Jones", "Jon", "P", "G1"),
    ("S3", "0000111", "King", "Kay", "B", "G2"),
    ("S3", "0000112", "Lee", "Lou", "B-", "G2"),
    ("S3", "0000113", "Moore", "Max", "C+", "G2"),
    ("S3", "0000101", "Adams", "Ann", "D+", "G2"),
    ("S4", "0000114", "Nash", "Ned", "A+", "G2"),
    ("S4", "0000115", "Owens", "Ola", "A", "G2"),
    ("S4", "0000116", "Price", "Pam", "NP", "G2"),
    ("S4", "0000102", "Brown", "Ben", "C-", "G2"),
    ("S5", "0000117", "Quinn", "Quy", "B", "G3"),
    ("S5", "0000118", "Reed", "Ray", "B", "G3"),
    ("S5", "0000119", "Scott", "Sam", "C", "G3"),
    ("S5", "0000106", "Foster", "Fay", "A", "G3"),
    ("N1", "0000120", "Turner", "Tia", "A", ""),
    ("N1", "0000108", "Hall", "Hal", "B", ""),
]
BASE_GROUPS = {"G1": ["S1", "S2"], "G2": ["S3", "S4"], "G3": ["S5"]}


# --- helpers ------------------------------------------------------------------------------------


def write_csv(directory: Path, name: str, rows: list[Row]) -> Path:
    path = directory / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def ingest(engine: Engine, *paths: Path, group: str | None = None) -> None:
    report = ingest_paths(Database(engine), list(paths), IngestOptions(group=group))
    assert report.ok, [(u.path, u.errors) for u in report.units]


def analysed(units: Database, **options: Any) -> dict[str, Any]:
    """Analyse, then read the whole analysis back as stored (its JSON, lists included)."""
    summary = run_analysis(units, **options)
    return analysis_report(units, summary.analysis_id).as_json()


def section_points(rows: list[Row], section: str) -> list[float]:
    return [POINTS[r[4]] for r in rows if r[0] == section and r[4] in POINTS]


def pool(values: list[float]) -> tuple[int, float | None, float | None]:
    if not values:
        return 0, None, None
    return len(values), float(np.mean(values)), float(np.std(values, ddof=0))


def ztest(
    sample: list[float], population: list[float], threshold: float
) -> tuple[float | None, float | None, bool]:
    """The design's one-sample z-test, computed here with numpy and scipy. A sample that is
    its whole population (the only section of its group, the only group) is not tested."""
    if not sample or not population or len(sample) == len(population):
        return None, None, False
    std = float(np.std(population, ddof=0))
    if std == 0.0 or math.isclose(std, 0.0, abs_tol=1e-12):
        return None, None, False
    z = (float(np.mean(sample)) - float(np.mean(population))) / (std / math.sqrt(len(sample)))
    p = float(2 * norm.sf(abs(z)))
    return z, p, p < threshold


def expected_analysis(
    rows: list[Row], groups: dict[str, list[str]], threshold: float = 0.05
) -> dict[str, Any]:
    """Sections (keyed by (section, group)), groups and the 'all' pool, independently."""
    all_sections = sorted({r[0] for r in rows})
    grouped = sorted({s for members in groups.values() for s in members})
    all_pool = [p for s in grouped for p in section_points(rows, s)]
    sections: dict[tuple[str, str | None], dict[str, Any]] = {}
    for section in all_sections:
        values = section_points(rows, section)
        count, mean, _ = pool(values)
        grade_counts = {letter: 0 for letter in LETTERS}
        for r in rows:
            if r[0] == section:
                grade_counts[r[4]] += 1
        section_groups = [g for g, members in groups.items() if section in members]
        for group in section_groups or [None]:
            if group is None:
                z, p, sig = None, None, False
            else:
                group_values = [v for s in groups[group] for v in section_points(rows, s)]
                z, p, sig = ztest(values, group_values, threshold)
            sections[(section, group)] = {
                "count": count,
                "mean_gpa": mean,
                "grade_counts": grade_counts,
                "z_score": z,
                "p_value": p,
                "significant": sig,
            }
    group_stats = {}
    for group, members in groups.items():
        values = [v for s in members for v in section_points(rows, s)]
        count, mean, std = pool(values)
        z, p, sig = ztest(values, all_pool, threshold)
        group_stats[group] = {
            "sections": sorted(members),
            "count": count,
            "mean_gpa": mean,
            "stddev": std,
            "z_score": z,
            "p_value": p,
            "significant": sig,
        }
    return {"sections": sections, "groups": group_stats, "all": all_pool}


def close(actual: float | None, expected: float | None) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return actual == pytest.approx(expected, rel=1e-9, abs=1e-12)


def assert_matches(result_json: dict[str, Any], expected: dict[str, Any]) -> None:
    got_sections = {(s["section"], s["group"]): s for s in result_json["sections"]}
    assert len(got_sections) == len(result_json["sections"]), "a (section, group) test repeats"
    assert set(got_sections) == set(expected["sections"])
    for key, want in expected["sections"].items():
        got = got_sections[key]
        assert got["count"] == want["count"], key
        assert got["grade_counts"] == want["grade_counts"], key
        for field in ("mean_gpa", "z_score", "p_value"):
            assert close(got[field], want[field]), (key, field, got[field], want[field])
        assert got["significant"] is want["significant"], key
    got_groups = {g["group"]: g for g in result_json["groups"]}
    assert set(got_groups) == set(expected["groups"])
    for name, want in expected["groups"].items():
        got = got_groups[name]
        assert got["count"] == want["count"], name
        assert sorted(got["sections"]) == want["sections"], name
        for field in ("mean_gpa", "stddev", "z_score", "p_value"):
            assert close(got[field], want[field]), (name, field, got[field], want[field])
        assert got["significant"] is want["significant"], name


def listed(result_json: dict[str, Any], which: str) -> dict[str, dict[str, Any]]:
    return {student["student_id"]: student for student in result_json[which]}


def entries_of(student: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["section"], e["grade"]) for e in student["entries"]}


@pytest.fixture
def base_store(engine: Engine, tmp_path: Path) -> Engine:
    ingest(engine, write_csv(tmp_path, "base.csv", BASE_ROWS))
    return engine


# --- section, group and z statistics ------------------------------------------------------------


def test_section_statistics_by_hand(base_store: Engine) -> None:
    result = analysed(Database(base_store))
    s1 = next(s for s in result["sections"] if s["section"] == "S1")
    # S1: A 4.0, B 3.0, C 2.0 counted; W and I stored but not counted.
    # count = 3, mean = (4 + 3 + 2) / 3 = 3.0
    assert s1["count"] == 3
    assert s1["mean_gpa"] == pytest.approx(3.0)
    assert s1["grade_counts"]["A"] == 1
    assert s1["grade_counts"]["B"] == 1
    assert s1["grade_counts"]["C"] == 1
    assert s1["grade_counts"]["W"] == 1
    assert s1["grade_counts"]["I"] == 1
    assert sum(s1["grade_counts"].values()) == 5
    # S2: A- 3.7, B+ 3.3, D 1.0, F 0.0 counted, P not: mean = 8.0 / 4 = 2.0
    s2 = next(s for s in result["sections"] if s["section"] == "S2")
    assert s2["count"] == 4
    assert s2["mean_gpa"] == pytest.approx(2.0)
    assert s2["grade_counts"]["P"] == 1
    assert sum(s2["grade_counts"].values()) == 5


def test_group_stats_and_section_z_by_hand(base_store: Engine) -> None:
    result = analysed(Database(base_store))
    g1 = next(g for g in result["groups"] if g["group"] == "G1")
    # G1 pool: 4, 3, 2 (S1) and 3.7, 3.3, 1, 0 (S2): n = 7, sum = 17.0, mean = 17/7
    mean = 17.0 / 7
    squares = sum((v - mean) ** 2 for v in (4, 3, 2, 3.7, 3.3, 1, 0))
    std = math.sqrt(squares / 7)  # population: divide by N = 7
    assert g1["count"] == 7
    assert g1["mean_gpa"] == pytest.approx(mean)
    assert g1["stddev"] == pytest.approx(std)
    s1 = next(s for s in result["sections"] if s["section"] == "S1")
    # z(S1) = (3.0 - 17/7) / (std / sqrt(3))
    z = (3.0 - mean) / (std / math.sqrt(3))
    assert s1["z_score"] == pytest.approx(z)
    assert s1["p_value"] == pytest.approx(2 * norm.sf(abs(z)))


def test_all_statistics_match_numpy(base_store: Engine) -> None:
    result = analysed(Database(base_store))
    assert_matches(result, expected_analysis(BASE_ROWS, BASE_GROUPS))


def test_section_in_two_groups_gets_one_test_per_group(
    base_store: Engine, db_url: str, tmp_path: Path
) -> None:
    # The same grades of S2 again, now put in G2 as well with `ingest --group G2`.
    s2_rows = [(*r[:5], "") for r in BASE_ROWS if r[0] == "S2"]
    again = write_csv(tmp_path, "s2_again.csv", s2_rows)
    cli = run_cli("--db", db_url, "ingest", str(again), "--group", "G2")
    assert cli.exit_code == 0, cli.stderr

    groups = {"G1": ["S1", "S2"], "G2": ["S2", "S3", "S4"], "G3": ["S5"]}
    result = analysed(Database(base_store))
    s2_tests = [s for s in result["sections"] if s["section"] == "S2"]
    assert sorted(s["group"] for s in s2_tests) == ["G1", "G2"]
    first, second = s2_tests
    assert (first["count"], first["mean_gpa"], first["grade_counts"]) == (
        second["count"],
        second["mean_gpa"],
        second["grade_counts"],
    )
    assert first["z_score"] != second["z_score"]
    assert_matches(result, expected_analysis(BASE_ROWS, groups))


def test_all_pool_counts_each_enrollment_once(base_store: Engine, tmp_path: Path) -> None:
    # S2 in G1 and G2: 'all' is S1..S5 once each, not G1 + G2 + G3 (which would hold S2 twice).
    ingest(
        base_store,
        write_csv(tmp_path, "s2.csv", [r for r in BASE_ROWS if r[0] == "S2"]),
        group="G2",
    )
    result = analysed(Database(base_store))
    all_values = [v for s in ("S1", "S2", "S3", "S4", "S5") for v in section_points(BASE_ROWS, s)]
    assert len(all_values) == 18  # 3 + 4 + 4 + 3 + 4; N1 (no group) is not in 'all'
    all_mean = float(np.mean(all_values))
    all_std = float(np.std(all_values, ddof=0))
    groups = {g["group"]: g for g in result["groups"]}
    assert set(groups) == {"G1", "G2", "G3"}
    for name, members in {"G1": ["S1", "S2"], "G2": ["S2", "S3", "S4"], "G3": ["S5"]}.items():
        values = [v for s in members for v in section_points(BASE_ROWS, s)]
        z = (float(np.mean(values)) - all_mean) / (all_std / math.sqrt(len(values)))
        assert groups[name]["count"] == len(values)
        assert groups[name]["z_score"] == pytest.approx(z, rel=1e-9)
        assert groups[name]["p_value"] == pytest.approx(2 * norm.sf(abs(z)), rel=1e-9)


def test_section_in_no_group(base_store: Engine) -> None:
    result = analysed(Database(base_store))
    n1 = [s for s in result["sections"] if s["section"] == "N1"]
    assert len(n1) == 1
    (n1,) = n1
    # N1: A 4.0 and B 3.0 -> count 2, mean 3.5
    assert n1["group"] is None
    assert n1["count"] == 2
    assert n1["mean_gpa"] == pytest.approx(3.5)
    assert n1["z_score"] is None and n1["p_value"] is None and n1["significant"] is False
    assert all("N1" not in g["sections"] for g in result["groups"])
    # Its students are on the lists: Turner's A (good) and Hall's B (not qualifying).
    good = listed(result, "good_list")
    assert ("N1", "A") in entries_of(good["0000120"])
    assert all(e["section"] != "N1" for s in result["work_list"] for e in s["entries"])


# --- null cases -------------------------------------------------------------------------------


def test_group_of_equal_grades_has_stddev_zero_and_null_z(engine: Engine, tmp_path: Path) -> None:
    rows: list[Row] = [
        ("E1", "0000201", "A", "A", "A-", "EQ"),
        ("E1", "0000202", "B", "B", "A-", "EQ"),
        ("E2", "0000203", "C", "C", "A-", "EQ"),
        ("E2", "0000204", "D", "D", "W", "EQ"),
        ("V1", "0000205", "E", "E", "B", "VAR"),
        ("V1", "0000206", "F", "F", "D", "VAR"),
    ]
    ingest(engine, write_csv(tmp_path, "eq.csv", rows))
    result = analysed(Database(engine))
    eq = next(g for g in result["groups"] if g["group"] == "EQ")
    assert eq["count"] == 3
    assert eq["mean_gpa"] == pytest.approx(3.7)
    assert eq["stddev"] == 0.0
    for section in (s for s in result["sections"] if s["group"] == "EQ"):
        assert section["z_score"] is None
        assert section["p_value"] is None
        assert section["significant"] is False
    # Against 'all' (3.7 x3, 3.0, 1.0) the EQ group still has a z:
    all_values = [3.7, 3.7, 3.7, 3.0, 1.0]
    z = (3.7 - np.mean(all_values)) / (np.std(all_values) / math.sqrt(3))
    assert eq["z_score"] == pytest.approx(z)
    assert_matches(result, expected_analysis(rows, {"EQ": ["E1", "E2"], "VAR": ["V1"]}))


def test_section_with_only_w_grades(engine: Engine, tmp_path: Path) -> None:
    rows: list[Row] = [
        ("WW", "0000301", "A", "A", "W", "G"),
        ("WW", "0000302", "B", "B", "W", "G"),
        ("OK", "0000303", "C", "C", "B", "G"),
        ("OK", "0000304", "D", "D", "C", "G"),
    ]
    ingest(engine, write_csv(tmp_path, "w.csv", rows))
    result = analysed(Database(engine))
    ww = next(s for s in result["sections"] if s["section"] == "WW")
    assert ww["count"] == 0
    assert ww["mean_gpa"] is None
    assert ww["grade_counts"]["W"] == 2
    assert ww["z_score"] is None and ww["p_value"] is None and ww["significant"] is False
    group = result["groups"][0]
    # Pool: B 3.0 and C 2.0 -> mean 2.5, population std 0.5
    assert group["count"] == 2
    assert group["mean_gpa"] == pytest.approx(2.5)
    assert group["stddev"] == pytest.approx(0.5)
    with base_connection(engine) as connection:
        count, mean = connection.execute(
            text("SELECT count, mean_gpa FROM sections WHERE name = 'WW'")
        ).one()
    assert (count, mean) == (0, None)


# --- threshold ----------------------------------------------------------------------------------


def test_threshold_boundary_through_stored_analysis(base_store: Engine) -> None:
    expected = expected_analysis(BASE_ROWS, BASE_GROUPS)
    p = expected["sections"][("S1", "G1")]["p_value"]
    assert p is not None and 0 < p < 1
    above = analysed(Database(base_store), threshold=p * (1 + 1e-9))
    below = analysed(Database(base_store), threshold=p * (1 - 1e-9))

    def s1(result: dict[str, Any]) -> dict[str, Any]:
        return next(s for s in result["sections"] if s["section"] == "S1")

    assert s1(above)["significant"] is True
    assert s1(below)["significant"] is False
    assert above["threshold"] == pytest.approx(p * (1 + 1e-9), rel=1e-15)
    # The stored verdicts read back the same.
    for result, verdict in ((above, True), (below, False)):
        listing = zscore_listing(
            Database(base_store), section="S1", analysis_id=result["analysis_id"]
        )
        assert [row.significant for row in listing.rows] == [verdict]


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1, 1.5])
def test_threshold_out_of_range_is_refused(base_store: Engine, threshold: float) -> None:
    before = table_counts(base_store)
    with pytest.raises(UsageError):
        run_analysis(Database(base_store), threshold=threshold)
    assert table_counts(base_store) == before


def test_empty_store_is_refused(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="gradestore ingest"):
        run_analysis(Database(engine))


# --- lists ----------------------------------------------------------------------------------------


def test_good_and_work_lists(base_store: Engine) -> None:
    result = analysed(Database(base_store))
    expected_good: dict[str, set[tuple[str, str]]] = defaultdict(set)
    expected_work: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for section, student, _last, _first, grade, _group in BASE_ROWS:
        if grade in GOOD:
            expected_good[student].add((section, grade))
        if grade in WORK:
            expected_work[student].add((section, grade))
    good = listed(result, "good_list")
    work = listed(result, "work_list")
    assert {k: entries_of(v) for k, v in good.items()} == expected_good
    assert {k: entries_of(v) for k, v in work.items()} == expected_work
    # By hand: Foster has A- in S2 and A in S5; Adams is on both lists (A in S1, D+ in S3).
    assert entries_of(good["0000106"]) == {("S2", "A-"), ("S5", "A")}
    assert entries_of(good["0000101"]) == {("S1", "A")}
    assert entries_of(work["0000101"]) == {("S3", "D+")}
    assert (good["0000106"]["first_name"], good["0000106"]["last_name"]) == ("Fay", "Foster")
    # Everything is in the analysis and there is no .lst: nobody appeared before.
    assert not any(s["appeared_before"] for s in [*result["good_list"], *result["work_list"]])


def test_appeared_before(base_store: Engine) -> None:
    result = analysed(Database(base_store), scope=Scope("groups", ("G1",)))
    good = listed(result, "good_list")
    work = listed(result, "work_list")
    assert set(good) == {"0000101", "0000106"}
    assert set(work) == {"0000108", "0000109"}
    # Adams: A in S1 (G1), and a D+ in S3 (G2, outside the scope) -> true
    assert good["0000101"]["appeared_before"] is True
    # Foster: A- in S2 (G1), and an A in S5 (G3, outside) -> true
    assert good["0000106"]["appeared_before"] is True
    # Hall: D in S2, B in N1 (outside, but B does not qualify) -> false
    assert work["0000108"]["appeared_before"] is False
    # Irwin: F in S2 only -> false
    assert work["0000109"]["appeared_before"] is False

    # Analysing G2: Adams' D+ in S3 is on the work list, and G1 (outside) holds her A -> true.
    g2 = analysed(Database(base_store), scope=Scope("groups", ("G2",)))
    assert set(listed(g2, "work_list")) == {"0000101"}
    assert listed(g2, "work_list")["0000101"]["appeared_before"] is True
    # Nash and Owens (A+ and A in S4) have no grade outside G2 -> false.
    assert {k: v["appeared_before"] for k, v in listed(g2, "good_list").items()} == {
        "0000114": False,
        "0000115": False,
    }
    # Analysing G3: Foster's A in S5 has her A- in S2 (G1, now outside) -> true.
    g3 = analysed(Database(base_store), scope=Scope("groups", ("G3",)))
    assert set(listed(g3, "good_list")) == {"0000106"}
    assert listed(g3, "good_list")["0000106"]["appeared_before"] is True


def test_appeared_before_from_lst_file(base_store: Engine, tmp_path: Path) -> None:
    history = tmp_path / "old.lst"
    # Irwin (F in S2 only) was on an earlier list for a section the store does not hold.
    history.write_text('"0000109","Irwin, Ida", 1\n"OLD101.01F20","F"\n', encoding="utf-8")
    ingest(base_store, history)
    result = analysed(Database(base_store))
    work = listed(result, "work_list")
    assert work["0000109"]["appeared_before"] is True
    # Hall (D in S2) has no qualifying grade elsewhere and no .lst entry.
    assert work["0000108"]["appeared_before"] is False


# --- analyses are kept ---------------------------------------------------------------------------


def analysis_row_counts(engine: Engine, analysis_id: int) -> dict[str, int]:
    with base_connection(engine) as connection:
        return {
            table: connection.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE {column} = :a"), {"a": analysis_id}
            ).scalar_one()
            for table, column in (
                ("analyses", "id"),
                ("zscores", "analysis_id"),
                ("performances", "analysis_id"),
                ("analysis_sections", "analysis_id"),
                ("analysis_groups", "analysis_id"),
            )
        }


def test_second_analysis_keeps_the_first(base_store: Engine, db_url: str, tmp_path: Path) -> None:
    first = analysed(Database(base_store))
    assert first["analysis_id"] == 1
    counts = analysis_row_counts(base_store, first["analysis_id"])
    # 5 grouped sections -> 5 section z-tests; good entries: S1 A, S2 A-, S4 A+ A, S5 A, N1 A = 6;
    # work entries: S2 D F, S3 D+ = 3.
    assert counts == {
        "analyses": 1,
        "zscores": 5,
        "performances": 9,
        "analysis_sections": 6,
        "analysis_groups": 3,
    }
    # New grades, then a second analysis with another threshold and scope.
    extra: list[Row] = [("S6", "0000130", "Young", "Yan", "F", "G3")]
    ingest(base_store, write_csv(tmp_path, "more.csv", extra))
    second = analysed(Database(base_store), threshold=0.2, scope=Scope("groups", ("G3",)))
    assert second["analysis_id"] != first["analysis_id"]
    assert analysis_row_counts(base_store, first["analysis_id"]) == counts

    listing = zscore_listing(Database(base_store), analysis_id=first["analysis_id"])
    assert listing.threshold == pytest.approx(0.05)
    assert {(row.kind, row.name, row.against) for row in listing.rows} == {
        ("section", "S1", "G1"),
        ("section", "S2", "G1"),
        ("section", "S3", "G2"),
        ("section", "S4", "G2"),
        ("section", "S5", "G3"),
        ("group", "G1", "all groups"),
        ("group", "G2", "all groups"),
        ("group", "G3", "all groups"),
    }
    expected = expected_analysis(BASE_ROWS, BASE_GROUPS)
    for row in listing.rows:
        if row.kind == "section":
            assert close(row.z_score, expected["sections"][(row.name, row.against)]["z_score"])
        else:
            assert close(row.z_score, expected["groups"][row.name]["z_score"])
    cli = run_cli("--db", db_url, "zscore", "--analysis", "1", "--format", "json")
    assert cli.exit_code == 0, cli.stderr
    answered = json.loads(cli.stdout)
    assert answered["analysis_id"] == 1
    assert answered["threshold"] == pytest.approx(0.05)
    assert {(t["kind"], t["name"]) for t in answered["tests"]} == {
        (row.kind, row.name) for row in listing.rows
    }
    for test in answered["tests"]:
        if test["kind"] == "section":
            assert close(
                test["z_score"], expected["sections"][(test["name"], test["against"])]["z_score"]
            )
    # The latest is the second analysis.
    assert zscore_listing(Database(base_store)).analysis_id == second["analysis_id"]


def test_unknown_analysis_id(base_store: Engine) -> None:
    run_analysis(Database(base_store))
    with pytest.raises(NotFoundError, match="999"):
        zscore_listing(Database(base_store), analysis_id=999)


# --- the seed's tables ----------------------------------------------------------------------------


@contextmanager
def base_connection(engine: Engine) -> Iterator[Connection]:
    """A read connection to the store, closed on exit."""
    with engine.connect() as connection:
        yield connection


def test_seed_tables_hold_the_numbers(base_store: Engine) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    result = analysed(Database(base_store), threshold=0.1)
    after = datetime.now(UTC) + timedelta(seconds=5)
    expected = expected_analysis(BASE_ROWS, BASE_GROUPS, threshold=0.1)
    assert_matches(result, expected)
    with base_connection(base_store) as connection:
        sections = {
            name: (mean, count)
            for name, mean, count in connection.execute(
                text("SELECT name, mean_gpa, count FROM sections")
            )
        }
        groups = {
            name: (mean, std)
            for name, mean, std in connection.execute(
                text("SELECT name, mean_gpa, stddev FROM groups")
            )
        }
        zscores = connection.execute(
            text(
                "SELECT s.name, g.name, z.z_score, z.p_value, z.significant, z.threshold,"
                " z.timestamp FROM zscores z JOIN sections s ON s.id = z.section_id"
                " LEFT JOIN groups g ON g.id = z.group_id WHERE z.analysis_id = :a"
            ),
            {"a": result["analysis_id"]},
        ).all()
        performances = {
            (section, student, grade, category)
            for section, student, grade, category in connection.execute(
                text(
                    "SELECT s.name, st.student_id, p.grade, p.category FROM performances p"
                    " JOIN sections s ON s.id = p.section_id"
                    " JOIN students st ON st.id = p.student_id WHERE p.analysis_id = :a"
                ),
                {"a": result["analysis_id"]},
            )
        }
    for entry in result["sections"]:
        mean, count = sections[entry["section"]]
        assert count == entry["count"]
        assert close(mean, entry["mean_gpa"])
    for entry in result["groups"]:
        mean, std = groups[entry["group"]]
        assert close(mean, entry["mean_gpa"])
        assert close(std, entry["stddev"])
    json_tests = {
        (s["section"], s["group"]): s for s in result["sections"] if s["group"] is not None
    }
    assert len(zscores) == len(json_tests) == 5
    for section, group, z, p, significant, threshold, timestamp in zscores:
        want = json_tests[(section, group)]
        assert close(z, want["z_score"]) and close(p, want["p_value"])
        assert bool(significant) is want["significant"]
        assert threshold == pytest.approx(0.1)
        assert timestamp is not None
        stamp = timestamp if isinstance(timestamp, datetime) else datetime.fromisoformat(timestamp)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        assert before <= stamp <= after
    json_performances = {
        (e["section"], s["student_id"], e["grade"], category)
        for key, category in (("good_list", "good"), ("work_list", "bad"))
        for s in result[key]
        for e in s["entries"]
    }
    assert performances == json_performances
    assert {c for *_, c in performances} == {"good", "bad"}


# --- scopes --------------------------------------------------------------------------------------


def test_group_scope_with_a_shared_section(base_store: Engine, tmp_path: Path) -> None:
    s2 = write_csv(tmp_path, "s2.csv", [r for r in BASE_ROWS if r[0] == "S2"])
    ingest(base_store, s2, group="G2")
    result = analysed(Database(base_store), scope=Scope("groups", ("G1", "G2")))
    assert sorted((s["section"], s["group"]) for s in result["sections"]) == [
        ("S1", "G1"),
        ("S2", "G1"),
        ("S2", "G2"),
        ("S3", "G2"),
        ("S4", "G2"),
    ]
    rows = [r for r in BASE_ROWS if r[0] in {"S1", "S2", "S3", "S4"}]
    # 'all' holds S1..S4 once each (14 grades), though S2 is in both groups.
    expected = expected_analysis(rows, {"G1": ["S1", "S2"], "G2": ["S2", "S3", "S4"]})
    assert len(expected["all"]) == 14
    assert_matches(result, expected)
    assert result["scope"] == {"kind": "groups", "names": ["G1", "G2"], "terms": []}


def test_group_scope(base_store: Engine) -> None:
    result = analysed(Database(base_store), scope=Scope("groups", ("G2", "G3")))
    assert {s["section"] for s in result["sections"]} == {"S3", "S4", "S5"}
    groups = {"G2": ["S3", "S4"], "G3": ["S5"]}
    rows = [r for r in BASE_ROWS if r[0] in {"S3", "S4", "S5"}]
    # 'all' is the pool of G2 and G3 only.
    assert_matches(result, expected_analysis(rows, groups))


def test_unknown_group_scope_names_close_groups(base_store: Engine) -> None:
    with pytest.raises(NotFoundError, match="G9") as error:
        run_analysis(Database(base_store), scope=Scope("groups", ("G9",)))
    assert "G1" in str(error.value)


def write_legacy_run(root: Path) -> Path:
    """Runs/R1.RUN -> Groups/LG1.GRP (L1, L2) and Groups/LG2.GRP (L3); LG3.GRP (L4) not in R1."""
    (root / "Runs").mkdir(parents=True)
    (root / "Groups").mkdir()
    (root / "Sections").mkdir()
    sections = {
        "L1": [
            ("Ames, Al", "0000401", "A"),
            ("Bell, Bo", "0000402", "C"),
            ("Cole, Cy", "0000403", "W"),
        ],
        "L2": [("Dunn, Di", "0000404", "B+"), ("Ames, Al", "0000401", "D-")],
        "L3": [
            ("Fox, Fe", "0000406", "B-"),
            ("Gray, Gi", "0000407", "A-"),
            ("Hunt, Hu", "0000408", "F"),
        ],
        "L4": [("Ives, Io", "0000409", "A"), ("Bell, Bo", "0000402", "A+")],
    }
    for name, students in sections.items():
        lines = [f"{name} 3.0"] + [f'"{n}","{i}","{g}"' for n, i, g in students]
        (root / "Sections" / f"{name}.SEC").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "Groups" / "LG1.GRP").write_text("LG1\nL1.SEC\nL2.SEC\n", encoding="utf-8")
    (root / "Groups" / "LG2.GRP").write_text("LG2\nL3.SEC\n", encoding="utf-8")
    (root / "Groups" / "LG3.GRP").write_text("LG3\nL4.SEC\n", encoding="utf-8")
    (root / "Runs" / "R1.RUN").write_text("R1\nLG1.GRP\nLG2.GRP\n", encoding="utf-8")
    return root


def test_run_scope(engine: Engine, tmp_path: Path) -> None:
    root = write_legacy_run(tmp_path / "legacy")
    ingest(engine, root / "Runs" / "R1.RUN", root / "Groups" / "LG3.GRP")
    result = analysed(Database(engine), scope=Scope("run", ("R1",)))
    assert {s["section"] for s in result["sections"]} == {"L1", "L2", "L3"}
    assert {g["group"] for g in result["groups"]} == {"LG1", "LG2"}
    rows: list[Row] = [
        ("L1", "0000401", "Ames", "Al", "A", "LG1"),
        ("L1", "0000402", "Bell", "Bo", "C", "LG1"),
        ("L1", "0000403", "Cole", "Cy", "W", "LG1"),
        ("L2", "0000404", "Dunn", "Di", "B+", "LG1"),
        ("L2", "0000401", "Ames", "Al", "D-", "LG1"),
        ("L3", "0000406", "Fox", "Fe", "B-", "LG2"),
        ("L3", "0000407", "Gray", "Gi", "A-", "LG2"),
        ("L3", "0000408", "Hunt", "Hu", "F", "LG2"),
    ]
    assert_matches(result, expected_analysis(rows, {"LG1": ["L1", "L2"], "LG2": ["L3"]}))
    good = listed(result, "good_list")
    # Bell's A+ is in L4 (LG3, outside the run): Bell has only a C in the run -> not listed;
    assert "0000402" not in good
    # Ames is on both lists within the run, with nothing outside -> false.
    assert good["0000401"]["appeared_before"] is False
    assert entries_of(listed(result, "work_list")["0000401"]) == {("L2", "D-")}
    assert scope_json(result) == {"kind": "run", "names": ["R1"], "terms": []}


def scope_json(result: dict[str, Any]) -> Any:
    return result.get("scope")


def test_unknown_run_scope(engine: Engine, tmp_path: Path) -> None:
    root = write_legacy_run(tmp_path / "legacy")
    ingest(engine, root / "Runs" / "R1.RUN")
    with pytest.raises(NotFoundError, match="R2") as error:
        run_analysis(Database(engine), scope=Scope("run", ("R2",)))
    assert "R1" in str(error.value)


def test_list_rows_of_a_first_and_a_later_analysis_keep_the_student_index_whole(
    engine: Engine, tmp_path: Path
) -> None:
    """The first analysis loads performances with its student index built after the load;
    later ones (small beside the table) keep it up row by row. Both leave it answering."""
    ingest(engine, write_csv(tmp_path, "base.csv", BASE_ROWS))
    for _ in range(6):
        run_analysis(Database(engine))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        per_analysis = connection.execute(
            text(
                "SELECT p.analysis_id, COUNT(*) FROM performances p"
                " JOIN students st ON st.id = p.student_id WHERE st.student_id = :sid"
                " GROUP BY p.analysis_id ORDER BY p.analysis_id"
            ),
            {"sid": "0000101"},
        ).all()
        indexes = {ix["name"] for ix in inspect(connection).get_indexes("performances")}
    # 0000101 has an A in S1 (good) and a D+ in S3 (work): two rows in each analysis.
    assert [count for _, count in per_analysis] == [2] * 6
    assert "ix_performances_student_id" in indexes


# --- the analysis' unit of work: no foreign-key checks on SQLite ----------------------------------


def test_an_analysis_stores_only_keys_that_hold(base_store: Engine) -> None:
    """SQLite writes an analysis without checking its foreign keys (each key is one it has just
    read or inserted under its write lock): every stored row still refers to a row that exists,
    and the connection checks keys again afterwards."""
    units = Database(base_store)
    run_analysis(units)
    run_analysis(units, scope=Scope.from_options(["G2"], None))
    with units(write=False) as unit:
        connection = unit.connection
        assert connection.execute(text("SELECT COUNT(*) FROM performances")).scalar_one() > 0
        assert connection.execute(text("SELECT COUNT(*) FROM zscores")).scalar_one() > 0
        if base_store.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        dangling = connection.execute(
            text(
                "SELECT COUNT(*) FROM performances p"
                " LEFT JOIN students st ON st.id = p.student_id"
                " LEFT JOIN sections s ON s.id = p.section_id"
                " LEFT JOIN analyses a ON a.id = p.analysis_id"
                " WHERE st.id IS NULL OR s.id IS NULL OR a.id IS NULL"
            )
        ).scalar_one()
        assert dangling == 0


def _keys_and_indexes(connection: Connection, table: str) -> list[str]:
    inspector = inspect(connection)
    return sorted(
        [repr(sorted(key.items())) for key in inspector.get_foreign_keys(table)]
        + [repr(sorted(index.items())) for index in inspector.get_indexes(table)]
    )


def test_postgresql_writes_the_figures_with_their_keys_checked_after(base_store: Engine) -> None:
    """PostgreSQL: the first analysis' figures (as many rows as the tables hold) go in with
    the foreign keys and indexes of analysis_sections, analysis_groups and zscores dropped and
    made again after (one check of each key for the table, not a trigger per row): the same
    keys and indexes after, every key holds, and a later analysis, small beside the tables,
    keeps them."""
    from sqlalchemy import event

    if base_store.dialect.name != "postgresql":
        pytest.skip("SQLite checks no key in the analysis' unit")
    tables = ("analysis_sections", "analysis_groups", "zscores")
    with base_store.connect() as connection:
        before = {table: _keys_and_indexes(connection, table) for table in tables}
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(str(args[2]))  # (conn, cursor, statement, ...)

    event.listen(base_store, "before_cursor_execute", listener)
    try:
        units = Database(base_store)
        run_analysis(units)
        first = list(statements)
        for _ in range(4):
            run_analysis(units)
        statements.clear()
        run_analysis(units)  # the sixth: a sixth of what the tables then hold
    finally:
        event.remove(base_store, "before_cursor_execute", listener)
    for table in tables:
        assert any(f"ALTER TABLE {table} DROP CONSTRAINT" in sql for sql in first), table
        assert any(f"ALTER TABLE {table} ADD CONSTRAINT" in sql for sql in first), table
    assert not [sql for sql in statements for table in tables if f"TABLE {table} DROP" in sql]
    with base_store.connect() as connection:
        assert {table: _keys_and_indexes(connection, table) for table in tables} == before
        dangling = connection.execute(
            text(
                "SELECT COUNT(*) FROM zscores z LEFT JOIN sections s ON s.id = z.section_id"
                " LEFT JOIN groups g ON g.id = z.group_id"
                " LEFT JOIN analysis_sections a ON a.analysis_id = z.analysis_id"
                " AND a.section_id = z.section_id"
                " WHERE s.id IS NULL OR (z.group_id IS NOT NULL AND g.id IS NULL)"
                " OR a.count IS NULL"
            )
        ).scalar_one()
        assert dangling == 0


def test_an_analysis_that_fails_at_its_last_write_stores_nothing(base_store: Engine) -> None:
    """A failure after the figures are written (here the lists' insert, refused by a trigger)
    rolls the whole analysis back; the next unit checks foreign keys again."""
    from gradestore.errors import DatabaseUnavailableError

    with base_store.begin() as connection:
        if base_store.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_lists BEFORE INSERT ON performances"
                " BEGIN SELECT RAISE(ABORT, 'lists refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_lists() RETURNS trigger AS"
                " $$ BEGIN RAISE EXCEPTION 'lists refused'; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_lists BEFORE INSERT ON performances"
                " FOR EACH STATEMENT EXECUTE FUNCTION refuse_lists()"
            )
    try:
        before = table_counts(base_store)
        units = Database(base_store)
        with pytest.raises(DatabaseUnavailableError, match="lists refused"):
            run_analysis(units)
        assert table_counts(base_store) == before
        assert before["analyses"] == before["analysis_sections"] == 0
        if base_store.dialect.name == "sqlite":
            with units(write=True) as unit:
                assert unit.connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        with base_store.begin() as connection:
            # The next test may get this database back (emptied of rows, not of triggers).
            connection.exec_driver_sql(
                "DROP TRIGGER refuse_lists ON performances"
                if base_store.dialect.name == "postgresql"
                else "DROP TRIGGER refuse_lists"
            )
            if base_store.dialect.name == "postgresql":
                connection.exec_driver_sql("DROP FUNCTION refuse_lists()")


@pytest.mark.parametrize(
    "letters",
    [
        list(LETTERS),
        ["B", "A", "NP", "W"],  # a part of the letters, in another order: the rest unknown
        [f"L{i}" for i in range(120)] + ["A", "C"],  # more letters than one-character codes
    ],
)
def test_scope_grade_counts_against_the_rows(base_store: Engine, letters: list[str]) -> None:
    """Each section's count of each letter and its total, against a count of BASE_ROWS."""
    units = Database(base_store)
    with units(write=False) as unit:
        table = unit.analysis.scope_grade_counts(None, letters)
        rows = unit.connection.execute(text("SELECT id, name FROM sections")).all()
    names = {section_id: name for section_id, name in rows}
    expected = {
        section: [sum(1 for r in BASE_ROWS if r[0] == section and r[4] == x) for x in letters]
        + [sum(1 for r in BASE_ROWS if r[0] == section)]
        for section in {row[0] for row in BASE_ROWS}
    }
    assert table[:, 0].tolist() == sorted(names)
    assert {names[row[0]]: row[1:] for row in table.tolist()} == expected


@pytest.mark.parametrize(
    "letters",
    [
        list(LETTERS),  # counted as written
        [*LETTERS, "É"],  # a letter beyond ASCII: counted by codes
        ["A", "A,", ""],  # a comma, an empty letter: by codes
    ],
)
@pytest.mark.parametrize("with_comma", [False, True])
def test_scope_grade_counts_of_odd_grades_against_the_rows(
    base_store: Engine, letters: list[str], with_comma: bool
) -> None:
    """Grades as a hand-edited store may hold them (empty, lower case, beyond ASCII, with a
    comma: the separator of the grades as written, so their block is counted by codes):
    each section's count of each letter and its total, against a count of the stored rows."""
    odd = ["", "a", "É", *(["A,"] if with_comma else [])]
    with base_store.begin() as connection:
        keys = connection.execute(
            text("SELECT section_id, student_id FROM enrollments ORDER BY 1, 2")
        ).all()
        for (section_id, student_id), grade in zip(keys[1::3], odd, strict=False):
            connection.execute(
                text("UPDATE enrollments SET grade = :g WHERE section_id = :s AND student_id = :t"),
                {"g": grade, "s": section_id, "t": student_id},
            )
    units = Database(base_store)
    with units(write=False) as unit:
        table = unit.analysis.scope_grade_counts(None, letters)
        as_written = unit.analysis._scope_grade_counts_as_written(None, list(LETTERS))
        stored = unit.connection.execute(text("SELECT section_id, grade FROM enrollments")).all()
        sections = unit.connection.execute(text("SELECT id FROM sections ORDER BY id")).scalars()
        section_ids = list(sections)
    expected = [
        [section]
        + [sum(1 for s, g in stored if s == section and g == x) for x in letters]
        + [sum(1 for s, _ in stored if s == section)]
        for section in section_ids
    ]
    assert table.tolist() == expected
    assert (as_written is None) == with_comma
    if as_written is not None and letters == list(LETTERS):
        assert as_written.tolist() == expected


def test_a_table_of_the_store_named_like_the_history_table_is_left_alone(
    base_store: Engine,
) -> None:
    """The lists' temporary table is always named with its temporary schema."""
    with base_store.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE list_history (kept INTEGER)")
        connection.exec_driver_sql("INSERT INTO list_history VALUES (7)")
    try:
        units = Database(base_store)
        run_analysis(units)
        run_analysis(units)
        with base_store.connect() as connection:
            assert connection.exec_driver_sql("SELECT kept FROM list_history").all() == [(7,)]
    finally:
        with base_store.begin() as connection:
            connection.exec_driver_sql("DROP TABLE list_history")


# --- an analysis of everything on SQLAlchemy Core alone -----------------------------------------


def test_an_analysis_of_everything_imports_no_orm(base_store: Engine) -> None:
    """SQLite: the models and sqlalchemy.orm stay out of an analysis of everything (0.2 s of
    its start at 1M grades), and it is stored as before."""
    import subprocess
    import sys

    if base_store.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's large loads read the keys to drop from the models")
    script = (
        "import sys\n"
        "from gradestore.analysis import run_analysis\n"
        "from gradestore.persistence.db import Database, open_database\n"
        f"run_analysis(Database(open_database({str(base_store.url)!r})))\n"
        "print(sorted(name for name in sys.modules if name.startswith("
        "('sqlalchemy.orm', 'gradestore.persistence.models'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    with base_store.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM analyses")).scalar_one() == 1


def test_an_analysis_row_is_stored_as_the_model_stores_it(engine: Engine) -> None:
    """create_analysis writes its row in SQL with the models' column types: the same stored
    values, byte for byte, as an insert of the model (timestamps, JSON, nulls)."""
    from sqlalchemy import insert

    from gradestore.persistence.models import Analysis
    from gradestore.persistence.rows import Testing

    created = datetime(2026, 12, 1, 23, 0, 1, 123456, tzinfo=UTC)
    testing = Testing(overdispersion=1.25, tests=7, expected_false_flags=0.35)
    scale = {"name": "x", "points": {"A": 4.0, 'é"': 1.0}}
    cases = [
        (0.05, "all", [], None, Testing(), ()),
        (0.01, "groups", ["G 1", 'é"x'], scale, testing, ("F25", "Fall 2025")),
    ]
    columns = (
        "created_at, threshold, scope_kind, scope_names, scope_terms, method, adjust, min_n,"
        " overdispersion, tests, expected_false_flags, scale_name, scale, inputs_fingerprint"
    )
    if engine.dialect.name == "sqlite":
        shown = ", ".join(f"quote({c}), typeof({c})" for c in columns.split(", "))
    else:
        shown = ", ".join(f"{c}::text, pg_typeof({c})::text" for c in columns.split(", "))
    units = Database(engine)
    with units(write=True) as unit:
        rows = []
        for threshold, kind, names, used_scale, tested, terms in cases:
            ours = unit.analysis.create_analysis(
                threshold,
                kind,
                names,
                created_at=created,
                testing=tested,
                scale=used_scale,
                scope_terms=terms,
            )
            model = unit.connection.execute(
                insert(Analysis)
                .values(
                    created_at=created,
                    threshold=threshold,
                    scope_kind=kind,
                    scope_names=names,
                    scope_terms=list(terms),
                    method=tested.method,
                    adjust=tested.adjust,
                    min_n=tested.min_n,
                    overdispersion=tested.overdispersion,
                    tests=tested.tests,
                    expected_false_flags=tested.expected_false_flags,
                    scale_name=used_scale["name"] if used_scale else None,
                    scale=used_scale,
                )
                .returning(Analysis.id)
            ).scalar_one()
            rows.append(
                [
                    tuple(
                        unit.connection.execute(
                            text(f"SELECT {shown} FROM analyses WHERE id = :id"), {"id": row_id}
                        ).one()
                    )
                    for row_id in (ours, model)
                ]
            )
    for ours_row, model_row in rows:
        assert ours_row == model_row
