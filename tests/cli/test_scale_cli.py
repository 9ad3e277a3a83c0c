"""Grade scales that belong to the store (issue 12), through the command line, on SQLite and
PostgreSQL. Means are checked against a hand computation from the sample CSV under the points
written out here, never against gradestore's own output."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gradestore.errors import UsageError
from gradestore.persistence import service
from tests.expected import LETTERS, NOT_COUNTED, POINTS
from tests.helpers import run_cli, table_counts

SAMPLE_CSV = Path(__file__).resolve().parents[2] / "sample_data" / "grades.csv"
THIRDS = {
    **POINTS,
    "A-": 3.67,
    "B+": 3.33,
    "B-": 2.67,
    "C+": 2.33,
    "C-": 1.67,
    "D+": 1.33,
    "D-": 0.67,
}
SU_FILE = (
    'name = "su"\n'
    'not_counted = ["i", "W", "P", "NP", "S", "U"]\n'
    'good = ["A+", "A", "A-"]\n'
    'work = ["D+", "D", "D-", "F", "U"]\n'
    "[points]\n" + "".join(f'"{letter}" = {points}\n' for letter, points in POINTS.items())
)
S_CSV = (
    "section,student_id,last_name,first_name,grade\n"
    "SU.01F25,900,Doe,Jo,s\n"
    "SU.01F25,901,Roe,Al,A\n"
    "SU.01F25,902,Poe,Ed,U\n"
)


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def one_line_error(*args: str) -> tuple[int, str]:
    result = run_cli(*args)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return result.exit_code, lines[0]


def analyze_json(db_url: str, *args: str) -> dict[str, Any]:
    return json.loads(ok("--db", db_url, "analyze", "--format", "json", *args))


def store_scale_name(db_url: str) -> str:
    return json.loads(ok("--db", db_url, "scale", "show", "--format", "json"))["name"]


def hand_means(points: dict[str, float]) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Section means and group (mean, population stddev) of the sample CSV under ``points``."""
    sections: dict[str, list[float]] = defaultdict(list)
    groups: dict[str, list[float]] = defaultdict(list)
    with SAMPLE_CSV.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            grade = row["grade"].strip().upper()
            if grade in points:
                sections[row["section"].strip()].append(points[grade])
                groups[row["group"].strip()].append(points[grade])
    return (
        {name: sum(values) / len(values) for name, values in sections.items()},
        {name: (float(np.mean(v)), float(np.std(v, ddof=0))) for name, v in groups.items()},
    )


def assert_figures(result: dict[str, Any], points: dict[str, float]) -> None:
    section_means, group_figures = hand_means(points)
    assert {s["section"]: s["mean_gpa"] for s in result["sections"]} == pytest.approx(
        section_means, abs=1e-12
    )
    for group in result["groups"]:
        mean, stddev = group_figures[group["group"]]
        assert group["mean_gpa"] == pytest.approx(mean, abs=1e-12)
        assert group["stddev"] == pytest.approx(stddev, abs=1e-12)


def test_thirds_means_are_the_hand_computation_and_a_what_if_leaves_the_store(
    db_url: str,
) -> None:
    ok("--db", db_url, "ingest", str(SAMPLE_CSV))
    assert ok("--db", db_url, "scale", "set", "thirds") == (
        "the store's grade scale is now thirds (was default)\n"
    )
    under_thirds = analyze_json(db_url)
    assert under_thirds["scale"]["name"] == "thirds"
    assert under_thirds["scale"]["points"] == THIRDS
    assert_figures(under_thirds, THIRDS)
    # Thirds differ from the contract: the hand computations disagree, and so does gradestore.
    assert hand_means(THIRDS)[0] != hand_means(POINTS)[0]

    what_if = analyze_json(db_url, "--scale", "default")
    assert what_if["scale"]["name"] == "default"
    assert_figures(what_if, POINTS)
    assert list(what_if["sections"][0]["grade_counts"]) == list(LETTERS)
    assert store_scale_name(db_url) == "thirds"
    # Under thirds the grade counts list thirds' letters, in its order.
    assert list(under_thirds["sections"][0]["grade_counts"]) == [
        *THIRDS,
        *("I", "W", "P", "NP", "S", "U", "CR", "NC", "AU"),
    ]


def test_an_s_grade_is_refused_under_default_and_stored_after_scale_set_file(
    db_url: str, tmp_path: Path, engine: Any
) -> None:
    grades = tmp_path / "su.csv"
    grades.write_text(S_CSV, encoding="utf-8")
    scale_file = tmp_path / "su.toml"
    scale_file.write_text(SU_FILE, encoding="utf-8")
    before = table_counts(engine)
    result = run_cli("--db", db_url, "ingest", str(grades))
    assert result.exit_code == 65
    assert (
        f"{grades}:2: unknown grade 's': not a letter of the store's grade scale 'default' "
        "(`gradestore scale show` lists them; `gradestore scale set NAME|FILE` changes it)"
    ) in result.stderr.splitlines()
    assert table_counts(engine) == before

    ok("--db", db_url, "scale", "set", str(scale_file))
    assert store_scale_name(db_url) == "su"
    ok("--db", db_url, "ingest", str(grades))
    result_json = analyze_json(db_url)
    (section,) = result_json["sections"]
    assert section["count"] == 1 and section["mean_gpa"] == 4.0  # S and U are not counted
    assert section["grade_counts"] == {
        **dict.fromkeys([*POINTS, "I", "W", "P", "NP"], 0),
        "A": 1,
        "S": 1,
        "U": 1,
    }
    assert list(section["grade_counts"]) == [*POINTS, "I", "W", "P", "NP", "S", "U"]
    # U is on this scale's work list although it is not counted.
    assert [(s["student_id"], s["entries"]) for s in result_json["work_list"]] == [
        ("902", [{"section": "SU.01F25", "grade": "U"}])
    ]
    report = ok("--db", db_url, "report", "--section", "SU.01F25", "--format", "csv")
    header, row = list(csv.reader(report.splitlines()))
    counts = dict(zip(header, row, strict=True))
    assert (counts["S"], counts["U"], counts["A"]) == ("1", "1", "1")
    table = ok("--db", db_url, "report", "--section", "SU.01F25")
    assert "S (not in GPA)" in table and "U (not in GPA)" in table


def test_scale_set_is_refused_naming_the_letters_and_accepted_when_they_fit(
    db_url: str, tmp_path: Path, engine: Any
) -> None:
    (tmp_path / "su.toml").write_text(SU_FILE, encoding="utf-8")
    (tmp_path / "su.csv").write_text(S_CSV, encoding="utf-8")
    ok("--db", db_url, "scale", "set", str(tmp_path / "su.toml"))
    ok("--db", db_url, "ingest", str(tmp_path / "su.csv"))
    before = table_counts(engine)
    code, line = one_line_error("--db", db_url, "scale", "set", "default")
    assert code == 65
    assert line == (
        "gradestore: cannot set the grade scale to 'default': stored grades use letters that "
        "scale 'default' does not know: S (1 grade), U (1 grade)"
    )
    assert table_counts(engine) == before
    assert store_scale_name(db_url) == "su"
    # thirds knows S and U (not counted): accepted.
    ok("--db", db_url, "scale", "set", "thirds")
    assert store_scale_name(db_url) == "thirds"
    assert ok("--db", db_url, "scale", "set", "thirds") == (
        "unchanged: the store's grade scale is already thirds\n"
    )
    code, line = one_line_error("--db", db_url, "analyze", "--scale", "default")
    assert (code, line) == (
        65,
        "gradestore: cannot analyse under grade scale 'default': stored grades use letters "
        "that scale 'default' does not know: S (1 grade), U (1 grade)",
    )


def test_an_old_analysis_keeps_its_numbers_after_a_scale_change(db_url: str) -> None:
    ok("--db", db_url, "ingest", str(SAMPLE_CSV))
    first = analyze_json(db_url)
    ok("--db", db_url, "scale", "set", "plus-4.33")
    second = analyze_json(db_url)
    assert second["scale"]["points"]["A+"] == 4.33
    assert_figures(second, {**THIRDS, "A+": 4.33})
    stored = json.loads(
        ok("--db", db_url, "report", "--analysis", str(first["analysis_id"]), "--format", "json")
    )
    assert stored == first
    assert stored["scale"]["name"] == "default"
    assert_figures(stored, POINTS)
    zscores = json.loads(
        ok("--db", db_url, "zscore", "--analysis", str(first["analysis_id"]), "--format", "json")
    )
    by_name = {s["section"]: s["mean_gpa"] for s in first["sections"]}
    for test in zscores["tests"]:
        if test["kind"] == "section":
            assert test["mean_gpa"] == by_name[test["name"]]


def test_scale_show_and_list(db_url: str, tmp_path: Path) -> None:
    shown = json.loads(ok("--db", db_url, "scale", "show", "--format", "json"))
    assert shown == {
        "name": "default",
        "points": POINTS,
        "not_counted": list(NOT_COUNTED),
        "good": ["A+", "A", "A-"],
        "work": ["D+", "D", "D-", "F"],
    }
    table = ok("--db", db_url, "scale", "show")
    assert table.splitlines()[0] == "Grade scale default (the store's)"
    assert any(line.split() == ["A-", "3.7", "good"] for line in table.splitlines())
    assert any(line.split() == ["W", "not", "counted"] for line in table.splitlines())
    listed = json.loads(ok("scale", "list", "--format", "json"))
    assert [scale["name"] for scale in listed] == ["default", "thirds", "plus-4.33"]
    side_by_side = ok("scale", "list").splitlines()
    assert ["A+", "4", "4", "4.33"] in [line.split() for line in side_by_side]
    (tmp_path / "su.toml").write_text(SU_FILE, encoding="utf-8")
    assert json.loads(ok("scale", "show", str(tmp_path / "su.toml"), "--format", "json"))[
        "not_counted"
    ] == ["I", "W", "P", "NP", "S", "U"]


def test_a_bad_scale_file_is_one_line_and_changes_nothing(
    db_url: str, tmp_path: Path, engine: Any
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[points]\nA = 4\n"B" = 7\n', encoding="utf-8")
    before = table_counts(engine)
    code, line = one_line_error("--db", db_url, "scale", "set", str(bad))
    assert (code, line) == (
        65,
        f'gradestore: {bad}:4: points."B": points must be from 0 to 5, not 7',
    )
    code, line = one_line_error("--db", db_url, "scale", "set", "thrids")
    assert code == 66 and "built-in scales: default, thirds, plus-4.33" in line
    assert table_counts(engine) == before
    assert store_scale_name(db_url) == "default"


def test_the_seed_api_checks_letters_against_the_stores_scale(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADESTORE_DATABASE_URL", db_url)
    service.configure(None)
    frame = pd.DataFrame({"id": ["7"], "first_name": ["Jo"], "last_name": ["Doe"], "grade": ["s"]})
    try:
        with pytest.raises(UsageError, match="grade scale 'default'"):
            service.persist_performances(frame, section_name="SU.01F25", category="good")
        (tmp_path / "su.toml").write_text(SU_FILE, encoding="utf-8")
        ok("--db", db_url, "scale", "set", str(tmp_path / "su.toml"))
        assert service.persist_performances(frame, section_name="SU.01F25", category="good") == 1
        # The seed API's S now counts as a stored letter: default would not know it.
        code, line = one_line_error("--db", db_url, "scale", "set", "default")
        assert code == 65 and line.endswith("does not know: S (1 grade)")
    finally:
        for seed_engine in service._databases.values():
            seed_engine.dispose()
        service._databases.clear()
