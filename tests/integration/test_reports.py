"""The report use cases (gradestore.reports) and their renderings, on SQLite and PostgreSQL.

A small store is built from a CSV written here and a legacy .lst file, analysed twice, and the
CSV is deleted before any report runs (reports read the store, never the files). Every expected
figure is computed in this file from the rows below (numpy population std, scipy.stats.norm.sf)
or written out by hand; nothing is captured from gradestore's own output.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from gradestore import render, reports
from gradestore.analysis import Scope, run_analysis
from gradestore.errors import NotFoundError
from gradestore.ingest import IngestOptions, ingest_paths
from gradestore.persistence import db
from gradestore.persistence.db import Database
from tests.expected import LETTERS, POINTS, ztest
from tests.helpers import table_counts
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

# --- the store ----------------------------------------------------------------------------------


@dataclass
class Store:
    units: Database
    first: int  # every section, threshold 0.4
    second: int  # group COMSC210 only, threshold 0.05
    csv_path: Path


def ingest(engine: Engine, *paths: Path) -> None:
    report = ingest_paths(Database(engine), list(paths), IngestOptions())
    assert report.ok, [(u.path, u.errors) for u in report.units]


def write_rows(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows((*row, "F25") for row in ROWS)
    return path


def build_store(engine: Engine, files: Path) -> Store:
    files.mkdir(exist_ok=True)
    grades = write_rows(files / "grades.csv")
    history = files / "history.lst"
    history.write_text(HISTORY_LST, encoding="utf-8")
    ingest(engine, grades)
    ingest(engine, history)
    first = run_analysis(Database(engine), FIRST_THRESHOLD).analysis_id
    second = run_analysis(Database(engine), 0.05, Scope("groups", ("COMSC210",))).analysis_id
    # Reports read the store: the files are gone before any report runs.
    grades.unlink()
    history.unlink()
    return Store(Database(engine), first, second, grades)


@pytest.fixture(scope="module")
def store(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Built once per module and backend: these reports only read it."""
    engine = db.open_database(module_db_url)
    yield build_store(engine, tmp_path_factory.mktemp("files"))
    engine.dispose()


@pytest.fixture
def own_store(engine: Engine, tmp_path: Path) -> Store:
    """A store of the test's own, for a test that writes to it."""
    return build_store(engine, tmp_path / "files")


# --- the whole analysis -------------------------------------------------------------------------


def test_analysis_report_is_the_stored_analysis(store: Store) -> None:
    assert not store.csv_path.exists()
    latest = reports.analysis_report(store.units)
    assert latest.analysis_id == store.second
    check_analysis_json(latest.as_json(), expected({"COMSC210": [S1, S2]}, 0.05))

    first = reports.analysis_report(store.units, store.first).as_json()
    assert first["analysis_id"] == store.first
    assert first["threshold"] == FIRST_THRESHOLD
    check_analysis_json(first, expected(GROUPS, FIRST_THRESHOLD))
    # S2 is tested against both of its groups; S4 (no group) appears once, without a test.
    assert sorted(s["group"] for s in first["sections"] if s["section"] == S2) == [
        "COMSC210",
        "CORE",
    ]
    (art,) = [s for s in first["sections"] if s["section"] == S4]
    assert art["group"] is None and art["z_score"] is None and art["p_value"] is None
    assert art["count"] == 2 and art["mean_gpa"] == pytest.approx(3.5)
    assert sum(s["significant"] for s in first["sections"]) == 2  # both tests of S2


def test_analysis_report_lists_and_appeared_before(store: Store) -> None:
    first = reports.analysis_report(store.units, store.first).as_json()
    want = expected_lists({S1, S2, S3, S4})
    for which in ("good", "work"):
        got = {s["student_id"]: s for s in first[f"{which}_list"]}
        assert set(got) == set(want[which]), which
        for student, entries in want[which].items():
            assert {(e["section"], e["grade"]) for e in got[student]["entries"]} == entries
            # Every qualifying grade is inside this analysis: only Tate's .lst entry counts.
            assert got[student]["appeared_before"] is (student == "1024"), student

    second = reports.analysis_report(store.units, store.second).as_json()
    want = expected_lists({S1, S2})
    good = {s["student_id"]: s for s in second["good_list"]}
    work = {s["student_id"]: s for s in second["work_list"]}
    assert set(good) == set(want["good"]) and set(work) == set(want["work"])
    # Quinn's A in MATH101 and Tate's D- in MATH101 lie outside the COMSC210 scope.
    assert good["1021"]["appeared_before"] is True
    assert work["1024"]["appeared_before"] is True
    assert good["1002"]["appeared_before"] is False and work["1002"]["appeared_before"] is False
    assert good["1004"]["appeared_before"] is False


def test_open_analysis_streams_the_same_report(store: Store) -> None:
    whole = reports.analysis_report(store.units, store.first).as_json()
    with reports.open_analysis(store.units, store.first) as streamed:
        out = io.StringIO()
        render.write_analysis_json(streamed, out)
    assert json.loads(out.getvalue()) == whole


def test_full_report_csv_has_a_row_per_test(store: Store) -> None:
    result = reports.analysis_report(store.units, store.first)
    rows = list(csv.DictReader(io.StringIO(render.full_report_csv(result))))
    want = expected(GROUPS, FIRST_THRESHOLD)
    sections = [r for r in rows if r["test"] == "section"]
    groups = [r for r in rows if r["test"] == "group"]
    assert len(sections) == len(want["sections"]) + 1  # and S4 in no group
    assert {r["name"] for r in groups} == set(want["groups"])
    for row in sections:
        if row["name"] == S4:
            assert row["against"] == "" and row["z_score"] == ""
            continue
        exp = want["sections"][(row["name"], row["against"])]
        # Negative z-scores stay numbers: no formula escaping of numeric cells.
        assert float(row["z_score"]) == pytest.approx(exp["z_score"])
        assert float(row["p_value"]) == pytest.approx(exp["p_value"])
        assert int(row["count"]) == exp["count"]
        assert row["significant"] == ("true" if exp["significant"] else "false")
    assert any(float(r["z_score"]) < 0 for r in rows if r["z_score"])


# --- one section, one group ---------------------------------------------------------------------


def test_section_report_every_letter_and_its_tests(store: Store) -> None:
    report = reports.section_report(store.units, S1, store.first)
    assert report.count == 16  # 20 grades, I, W, P and NP not counted
    assert report.mean_gpa == pytest.approx(np.mean(points(S1)))
    assert report.grade_counts == grade_counts(S1)
    assert set(report.grade_counts) == set(LETTERS)  # all 17, zeros included
    assert report.term == "F25"
    data = report.as_json()
    (test,) = data["tests"]
    z, p, sig = ztest(points(S1), points(S1) + points(S2), FIRST_THRESHOLD)
    assert test["group"] == "COMSC210"
    assert test["z_score"] == pytest.approx(z) and test["p_value"] == pytest.approx(p)
    assert test["significant"] is sig is False
    want = expected_lists({S1})
    assert {s["student_id"] for s in data["good_list"]} == set(want["good"])
    assert {s["student_id"] for s in data["work_list"]} == set(want["work"])
    assert {s["student_id"] for s in data["good_list"]} == {"1001", "1002", "1003", "1004", "1005"}


def test_section_in_two_groups_shows_two_tests(store: Store) -> None:
    report = reports.section_report(store.units, S2, store.first)
    data = report.as_json()
    by_group = {t["group"]: t for t in data["tests"]}
    assert set(by_group) == {"COMSC210", "CORE"}
    for group, members in GROUPS.items():
        pool = [v for s in members for v in points(s)]
        z, p, sig = ztest(points(S2), pool, FIRST_THRESHOLD)
        assert by_group[group]["z_score"] == pytest.approx(z)
        assert by_group[group]["p_value"] == pytest.approx(p)
        assert by_group[group]["significant"] is sig is True
    assert {s["student_id"] for s in data["good_list"]} == {"1021"}
    assert {s["student_id"] for s in data["work_list"]} == {"1002", "1024"}
    # The lists hold only this section's entries.
    tate = next(s for s in data["work_list"] if s["student_id"] == "1024")
    assert tate["entries"] == [{"section": S2, "grade": "F"}]

    rows = list(csv.DictReader(io.StringIO(render.section_report_csv(report))))
    assert sorted(r["group"] for r in rows) == ["COMSC210", "CORE"]
    for row in rows:
        for letter in LETTERS:
            assert int(row[letter]) == grade_counts(S2)[letter], letter
        assert float(row["z_score"]) < 0


def test_group_report_sections_sorted_by_z(store: Store) -> None:
    report = reports.group_report(store.units, "CORE", store.first)
    data = report.as_json()
    want = expected(GROUPS, FIRST_THRESHOLD)["groups"]["CORE"]
    pool = points(S2) + points(S3)
    assert data["count"] == len(pool) == 11
    assert data["mean_gpa"] == pytest.approx(np.mean(pool))
    assert data["stddev"] == pytest.approx(np.std(pool, ddof=0))
    assert data["z_score"] == pytest.approx(want["z_score"])
    assert data["p_value"] == pytest.approx(want["p_value"])
    # S2 (mean 1.8) is below CORE's mean, S3 (2.833) above: S2 first.
    assert [t["section"] for t in data["section_tests"]] == [S2, S3]
    zs = [t["z_score"] for t in data["section_tests"]]
    assert zs == sorted(zs) and zs[0] < 0 < zs[1]

    rows = list(csv.DictReader(io.StringIO(render.group_report_csv(report))))
    assert [(r["test"], r["name"]) for r in rows] == [
        ("group", "CORE"),
        ("section", S2),
        ("section", S3),
    ]
    assert float(rows[0]["stddev"]) == pytest.approx(np.std(pool, ddof=0))


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_a_group_is_against_the_pool_of_every_grouped_section_summed_in_section_order(
    store: Store, group: str
) -> None:
    from sqlalchemy import text

    report = reports.group_report(store.units, group, store.first)
    grouped = sorted({s for members in GROUPS.values() for s in members})  # S2 once, no S4
    pool = [v for section in grouped for v in points(section)]
    assert report.group.against_mean_gpa == pytest.approx(np.mean(pool))
    # Exactly the section figures summed one after another in section-id order, on both
    # backends (not in whatever order a plan visits them).
    with store.units(write=False) as unit:
        ids = dict(unit.connection.execute(text("SELECT name, id FROM sections")).all())
    total, count = 0.0, 0
    for section in sorted(grouped, key=ids.__getitem__):
        figures = reports.section_report(store.units, section, store.first)
        assert figures.mean_gpa is not None
        total, count = total + figures.count * figures.mean_gpa, count + figures.count
    assert report.group.against_mean_gpa == total / count


# --- one student, one list ----------------------------------------------------------------------


def test_student_report_grades_and_lists_in_every_analysis(store: Store) -> None:
    report = reports.student_report(store.units, "1002")
    data = report.as_json()
    assert (data["last_name"], data["first_name"]) == ("Adams", "Ann")
    assert sorted((g["section"], g["term"], g["grade"], g["points"]) for g in data["grades"]) == [
        (S1, "F25", "A", 4.0),
        (S2, "F25", "D", 1.0),
    ]
    assert sorted(
        (e["analysis_id"], e["list"], e["section"], e["grade"]) for e in data["lists"]
    ) == [
        (store.first, "good", S1, "A"),
        (store.first, "work", S2, "D"),
        (store.second, "good", S1, "A"),
        (store.second, "work", S2, "D"),
    ]
    assert data["earlier_lists"] == []

    tate = reports.student_report(store.units, "1024").as_json()
    assert tate["earlier_lists"] == [{"section": "OLD100.01F20", "grade": "D"}]
    assert sorted((e["analysis_id"], e["list"], e["section"]) for e in tate["lists"]) == [
        (store.first, "work", S2),
        (store.first, "work", S3),
        (store.second, "work", S2),
    ]
    # Not-counted letters have no points.
    mann = reports.student_report(store.units, "1017").as_json()
    assert mann["grades"] == [{"section": S1, "term": "F25", "grade": "I", "points": None}]
    assert mann["lists"] == []


def test_list_reports(store: Store) -> None:
    for analysis, scope in ((store.first, {S1, S2, S3, S4}), (store.second, {S1, S2})):
        want = expected_lists(scope)
        for which in ("good", "work"):
            with reports.open_list(store.units, which, analysis) as listing:
                students = list(listing.students)
                assert listing.size == len(want[which])
            got = {s.student_id: {(e.section, e.grade) for e in s.entries} for s in students}
            assert got == want[which], (analysis, which)


def test_legacy_list_layout_exactly(store: Store) -> None:
    out = io.StringIO()
    with reports.open_list(store.units, "work", store.first) as listing:
        written = render.write_legacy_list(listing, out)
    assert written == 7
    # By last name, then first name; entries by section. Written out by hand.
    assert out.getvalue() == (
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


def test_a_lst_file_from_the_rows_equals_the_one_from_the_students(store: Store) -> None:
    """`report --list ... --output X.lst` writes from the query's rows (no object per row)."""
    for analysis in (store.first, store.second):
        for which in ("good", "work"):
            from_students, from_rows = io.StringIO(), io.StringIO()
            with reports.open_list(store.units, which, analysis) as listing:
                written = render.write_legacy_list(listing, from_students)
            with reports.open_list_rows(store.units, which, analysis) as rows:
                assert render.write_legacy_list_rows(rows, from_rows) == written
            assert from_rows.getvalue() == from_students.getvalue(), (analysis, which)
            assert written > 0


def test_legacy_list_ingests_back(own_store: Store, tmp_path: Path) -> None:
    store = own_store
    path = tmp_path / "work.lst"
    with reports.open_list(store.units, "work", store.first) as listing, path.open("w") as out:
        render.write_legacy_list(listing, out)
    before = table_counts(store.units.engine)
    ingest(store.units.engine, path)
    after = table_counts(store.units.engine)
    assert after["list_appearances"] - before["list_appearances"] == 8
    assert after["students"] == before["students"]
    assert after["enrollments"] == before["enrollments"]
    tate = reports.student_report(store.units, "1024").as_json()
    assert sorted((e["section"], e["grade"]) for e in tate["earlier_lists"]) == [
        (S2, "F"),
        (S3, "D-"),
        ("OLD100.01F20", "D"),
    ]


# --- CSV formula escaping -----------------------------------------------------------------------


def test_csv_cells_escaped_against_formulas_numbers_kept(store: Store) -> None:
    for which, names in (("good", {HYPERLINK, "+1"}), ("work", {"-Smith", "@x"})):
        out = io.StringIO()
        with reports.open_list(store.units, which, store.first) as listing:
            render.write_list_csv(listing, out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        last_names = {r["last_name"] for r in rows}
        for name in names:
            assert "'" + name in last_names
            assert name not in last_names
        assert "Adams" in last_names  # plain names untouched

    for student, name in (("1001", HYPERLINK), ("1014", "-Smith"), ("1016", "@x"), ("1005", "+1")):
        text = render.student_report_csv(reports.student_report(store.units, student))
        (row,) = list(csv.DictReader(io.StringIO(text)))
        assert row["last_name"] == "'" + name
        assert float(row["points"]) == POINTS[row["grade"]]

    assert render.escape_cell(-1.25) == -1.25
    assert render.escape_cell(-3) == -3
    assert render.escape_cell("-Smith") == "'-Smith"
    assert render.escape_cell("Smith-Jones") == "Smith-Jones"


# --- errors -------------------------------------------------------------------------------------


def test_unknown_names_suggest_the_closest(store: Store) -> None:
    with pytest.raises(NotFoundError, match=r"COMSC210\.02F2'.*COMSC210\.02F25"):
        reports.section_report(store.units, "COMSC210.02F2")
    with pytest.raises(NotFoundError, match=r"'CORF'.*CORE"):
        reports.group_report(store.units, "CORF")
    with pytest.raises(NotFoundError, match="'9999'"):
        reports.student_report(store.units, "9999")
    with pytest.raises(NotFoundError, match="unknown analysis 99"):
        reports.analysis_report(store.units, 99)
    with (
        pytest.raises(NotFoundError, match="unknown analysis 99"),
        reports.open_list(store.units, "good", 99),
    ):
        pass


def test_section_outside_the_analysis(store: Store) -> None:
    # MATH101 is stored but analysis 2 covered only COMSC210.
    with pytest.raises(NotFoundError, match=r"MATH101\.01F25.*not in analysis"):
        reports.section_report(store.units, S3, store.second)
    with pytest.raises(NotFoundError, match=r"CORE.*not in analysis"):
        reports.group_report(store.units, "CORE", store.second)


def test_empty_store_and_store_without_analysis(engine: Engine, tmp_path: Path) -> None:
    for call in (
        lambda: reports.analysis_report(Database(engine)),
        lambda: reports.section_report(Database(engine), S1),
        lambda: reports.group_report(Database(engine), "CORE"),
        lambda: reports.student_report(Database(engine), "1002"),
    ):
        with pytest.raises(NotFoundError, match="gradestore ingest"):
            call()
    ingest(engine, write_rows(tmp_path / "grades.csv"))
    with pytest.raises(NotFoundError, match="gradestore analyze"):
        reports.analysis_report(Database(engine))
    with (
        pytest.raises(NotFoundError, match="gradestore analyze"),
        reports.open_list(Database(engine), "work"),
    ):
        pass
    # A student report needs no analysis.
    assert reports.student_report(Database(engine), "1002").as_json()["lists"] == []
