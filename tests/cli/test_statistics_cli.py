"""`analyze --method --adjust --min-n` on SQLite and PostgreSQL: every new figure of the JSON
(p_adjusted, significant_adjusted, effect_size, no_test_reason, and the analysis' method,
adjust, min_n, overdispersion, tests, expected_false_flags) against a computation done here
from the sample CSV with numpy and scipy directly."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats
from scipy.stats.mstats import winsorize

from tests.expected import POINTS
from tests.helpers import run_cli

SAMPLE_CSV = Path(__file__).resolve().parents[2] / "sample_data" / "grades.csv"
SIGNIFICANT_SECTION = "COMSC210.02F25"


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def analyze_json(db_url: str, *args: str) -> dict[str, Any]:
    return json.loads(ok("--db", db_url, "analyze", "--format", "json", *args))


@pytest.fixture
def sample_db(db_url: str) -> str:
    ok("--db", db_url, "ingest", str(SAMPLE_CSV))
    return db_url


def sample_points() -> tuple[dict[str, list[float]], dict[str, str]]:
    """Counted grade points of each section, and each section's group, read with stdlib csv."""
    points: dict[str, list[float]] = defaultdict(list)
    group_of: dict[str, str] = {}
    with SAMPLE_CSV.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            group_of[row["section"]] = row["group"]
            if row["grade"] in POINTS:
                points[row["section"]].append(POINTS[row["grade"]])
    return points, group_of


def group_points(points: dict[str, list[float]], group_of: dict[str, str], group: str) -> list:
    return [v for section, g in group_of.items() if g == group for v in points[section]]


def by_section(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["section"]: entry for entry in result["sections"]}


def test_sample_z_with_bh_keeps_the_significant_section(sample_db: str) -> None:
    result = analyze_json(sample_db)
    points, group_of = sample_points()
    sections = sorted(points)
    z, d = [], []
    for section in sections:
        group = np.array(group_points(points, group_of, group_of[section]))
        mean, std = group.mean(), group.std(ddof=0)
        z.append((np.mean(points[section]) - mean) / (std / math.sqrt(len(points[section]))))
        d.append((np.mean(points[section]) - mean) / std)
    p = 2 * scipy_stats.norm.sf(np.abs(z))
    p_bh = scipy_stats.false_discovery_control(p, method="bh")
    got = by_section(result)
    for i, section in enumerate(sections):
        entry = got[section]
        assert entry["z_score"] == pytest.approx(z[i], rel=1e-9)
        assert entry["p_adjusted"] == pytest.approx(p_bh[i], rel=1e-9)
        assert entry["significant_adjusted"] is bool(p_bh[i] < 0.05)
        assert entry["effect_size"] == pytest.approx(d[i], rel=1e-9)
        assert entry["no_test_reason"] is None
    assert [s for s, e in got.items() if e["significant_adjusted"]] == [SIGNIFICANT_SECTION]
    assert (result["method"], result["adjust"], result["min_n"]) == ("z", "bh", 1)
    assert result["tests"] == 11
    assert result["expected_false_flags"] == pytest.approx(0.05 * 11)
    phi = float(np.mean(np.asarray(winsorize(np.array(z), limits=(0.1, 0.1))) ** 2))
    assert result["overdispersion"] == pytest.approx(phi, rel=1e-9)


def test_sample_group_tests_are_adjusted_among_themselves(sample_db: str) -> None:
    result = analyze_json(sample_db, "--adjust", "bonferroni")
    points, group_of = sample_points()
    everything = np.array([v for values in points.values() for v in values])
    groups = sorted(set(group_of.values()))
    got = {entry["group"]: entry for entry in result["groups"]}
    for group in groups:
        values = np.array(group_points(points, group_of, group))
        std = everything.std(ddof=0)
        z = (values.mean() - everything.mean()) / (std / math.sqrt(len(values)))
        p = 2 * scipy_stats.norm.sf(abs(z))
        # Bonferroni over the 3 group tests, not over the 11 section tests as well.
        assert got[group]["p_adjusted"] == pytest.approx(min(1.0, 3 * p), rel=1e-9)
        assert got[group]["effect_size"] == pytest.approx(
            (values.mean() - everything.mean()) / std, rel=1e-9
        )


def test_sample_welch_p_values_are_scipy_ttest_ind_on_section_and_rest(sample_db: str) -> None:
    result = analyze_json(sample_db, "--method", "welch", "--adjust", "holm")
    assert result["method"] == "welch" and result["adjust"] == "holm"
    points, group_of = sample_points()
    got = by_section(result)
    p_values = {}
    for section, values in points.items():
        rest = [
            v for other, g in group_of.items() if g == group_of[section] and other != section
            for v in points[other]
        ]  # fmt: skip
        expected = scipy_stats.ttest_ind(values, rest, equal_var=False)
        assert got[section]["z_score"] == pytest.approx(float(expected.statistic), rel=1e-9)
        assert got[section]["p_value"] == pytest.approx(float(expected.pvalue), rel=1e-9)
        p_values[section] = float(expected.pvalue)
        # d keeps its one definition: against the whole group, population stddev.
        group = np.array(group_points(points, group_of, group_of[section]))
        d = (np.mean(values) - group.mean()) / group.std(ddof=0)
        assert got[section]["effect_size"] == pytest.approx(d, rel=1e-9)
    # Holm by hand: the k-th smallest p times (11 - k + 1), running maximum, at most 1.
    ordered = sorted(p_values, key=p_values.__getitem__)
    running = 0.0
    for k, section in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - k) * p_values[section]))
        assert got[section]["p_adjusted"] == pytest.approx(running, rel=1e-9)
    assert got[SIGNIFICANT_SECTION]["significant_adjusted"] is True


def test_min_n_boundary_through_the_command(sample_db: str) -> None:
    points, _ = sample_points()
    n = len(points[SIGNIFICANT_SECTION])  # 18 counted grades
    at = by_section(analyze_json(sample_db, "--min-n", str(n)))[SIGNIFICANT_SECTION]
    assert at["z_score"] is not None and at["no_test_reason"] is None
    above = analyze_json(sample_db, "--min-n", str(n + 1))
    entry = by_section(above)[SIGNIFICANT_SECTION]
    assert entry["z_score"] is None and entry["p_value"] is None
    assert entry["significant"] is False and entry["significant_adjusted"] is False
    assert entry["effect_size"] is None and entry["p_adjusted"] is None
    assert entry["no_test_reason"] == f"fewer than {n + 1} counted grades"
    # Its figures stay.
    assert entry["count"] == n
    assert entry["mean_gpa"] == pytest.approx(float(np.mean(points[SIGNIFICANT_SECTION])))
    assert above["min_n"] == n + 1
    assert above["tests"] == sum(len(values) >= n + 1 for values in points.values())


def test_adjust_none_leaves_p_as_it_is(sample_db: str) -> None:
    result = analyze_json(sample_db, "--adjust", "none")
    for entry in result["sections"]:
        assert entry["p_adjusted"] == entry["p_value"]
        assert entry["significant_adjusted"] is entry["significant"]


def test_a_store_where_every_group_has_one_section_tests_nothing(
    db_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "one_each.csv"
    data.write_text(
        "section,student_id,last_name,first_name,grade,group\n"
        "A.01,1,Ash,Al,A,GA\nA.01,2,Birch,Bo,C,GA\nA.01,3,Cedar,Cy,W,GA\n"
        "B.01,4,Dale,Di,B,GB\nB.01,5,Elm,Ed,D,GB\n"
        "C.01,6,Fir,Fay,A,GC\nC.01,7,Gum,Gil,A,GC\n"
        "N.01,8,Hazel,Hu,B,\n",
        encoding="utf-8",
    )
    ok("--db", db_url, "ingest", str(data))
    result = analyze_json(db_url)
    reasons = {entry["section"]: entry["no_test_reason"] for entry in result["sections"]}
    assert reasons == {
        "A.01": "only section of its group",
        "B.01": "only section of its group",
        "C.01": "only section of its group",
        "N.01": "in no group",
    }
    for entry in result["sections"]:
        assert entry["z_score"] is None and entry["p_value"] is None
        assert entry["significant"] is False
    assert result["tests"] == 0 and result["expected_false_flags"] == 0
    assert result["overdispersion"] is None
    # The groups are still tested against all: {4, 2}, {3, 1}, {4, 4} against the 6 grades.
    everything = np.array([4.0, 2.0, 3.0, 1.0, 4.0, 4.0])
    group = next(entry for entry in result["groups"] if entry["group"] == "GC")
    z = (4.0 - everything.mean()) / (everything.std(ddof=0) / math.sqrt(2))
    assert group["z_score"] == pytest.approx(z, rel=1e-12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--method", "t"), "'t' is not one of 'z', 'welch'"),
        (("--adjust", "sidak"), "'sidak' is not one of"),
        (("--min-n", "0"), "--min-n"),
    ],
)
def test_bad_options_are_usage_errors(db_url: str, args: tuple[str, ...], message: str) -> None:
    result = run_cli("--db", db_url, "analyze", *args)
    assert result.exit_code == 2
    assert message in result.stderr


# --- tables, CSV -----------------------------------------------------------------------------


def independent_z() -> dict[str, float]:
    points, group_of = sample_points()
    z = {}
    for section, values in points.items():
        group = np.array(group_points(points, group_of, group_of[section]))
        z[section] = (np.mean(values) - group.mean()) / (group.std(ddof=0) / math.sqrt(len(values)))
    return z


def test_table_puts_adjusted_flags_first_and_says_what_chance_gives(sample_db: str) -> None:
    out = ok("--db", sample_db, "analyze")
    header = next(line for line in out.splitlines() if line.startswith("section"))
    assert header.split()[-3:] == ["adj.", "flag", "flag"]
    assert (
        "Significant sections: 1 after Benjamini-Hochberg adjustment; 1 by p alone, where "
        "chance alone would give 0.55 (0.050 x 11 tests)."
    ) in out
    z = np.array(list(independent_z().values()))
    phi = float(np.mean(np.asarray(winsorize(z, limits=(0.1, 0.1))) ** 2))
    assert f"Over-dispersion phi {phi:.2f}: about 1 when sections differ" in out
    row = next(line.split() for line in out.splitlines() if line.startswith(SIGNIFICANT_SECTION))
    # section, group, n, mean, diff, d, z, p, adj. p, adj. flag, flag
    assert row[-2:] == ["YES", "YES"]
    assert row[6] == f"{independent_z()[SIGNIFICANT_SECTION]:.3f}"


def test_welch_tables_say_t_and_the_method(sample_db: str) -> None:
    out = ok("--db", sample_db, "analyze", "--method", "welch", "--adjust", "holm")
    assert "Welch's t-test against the rest of the group, Holm adjustment, min-n 1" in out
    header = next(line for line in out.splitlines() if line.startswith("section"))
    assert " t " in header and " z " not in header
    listing = ok("--db", sample_db, "zscore")
    assert "Welch's t-test against the rest of the group, Holm adjustment" in listing


def test_tables_and_csv_show_why_there_is_no_test(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "one_each.csv"
    data.write_text(
        "section,student_id,last_name,first_name,grade,group\n"
        "A.01,1,Ash,Al,A,GA\nA.01,2,Birch,Bo,C,GA\nB.01,3,Dale,Di,B,GB\nB.01,4,Elm,Ed,D,GB\n",
        encoding="utf-8",
    )
    ok("--db", db_url, "ingest", str(data))
    out = ok("--db", db_url, "analyze")
    for section in ("A.01", "B.01"):
        line = next(line for line in out.splitlines() if line.startswith(section))
        assert "only section of its group" in line
    assert "chance alone would give 0.00 (0.050 x 0 tests)" in out
    assert "Over-dispersion phi: none (no section was tested)." in out
    rows = list(csv.DictReader(io.StringIO(ok("--db", db_url, "zscore", "--format", "csv"))))
    sections = [row for row in rows if row["test"] == "section"]
    assert {row["no_test_reason"] for row in sections} == {"only section of its group"}
    assert all(row["z_score"] == "" and row["significant_adjusted"] == "false" for row in sections)
    # Two groups {4, 2} and {3, 1} against all four grades: mean 2.5, stddev sqrt(1.25).
    group = next(row for row in rows if row["name"] == "GA")
    z = (3.0 - 2.5) / (math.sqrt(1.25) / math.sqrt(2))
    assert float(group["z_score"]) == pytest.approx(z, rel=1e-12)
    # BH over the two group tests: both have the same |z|, so both p equal p.
    p = 2 * scipy_stats.norm.sf(abs(z))
    assert float(group["p_adjusted"]) == pytest.approx(p, rel=1e-9)
    assert float(group["effect_size"]) == pytest.approx(0.5 / math.sqrt(1.25), rel=1e-12)
