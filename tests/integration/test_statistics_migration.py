"""The migration of the test figures (0005) on a store holding analyses, on SQLite and
PostgreSQL: down to 0004 keeps every analysis; up again, an analysis made before the figures
reads as what it was (the z-test, min_n 1) with null for what it never computed."""

from __future__ import annotations

from pathlib import Path

from gradestore import reports
from gradestore.analysis import run_analysis
from gradestore.ingest import IngestOptions, ingest_paths
from gradestore.persistence import db

SAMPLE_CSV = Path(__file__).resolve().parents[2] / "sample_data" / "grades.csv"


def test_figures_migrate_down_and_up_on_a_store_with_analyses(db_url: str) -> None:
    engine = db.open_database(db_url)
    units = db.Database(engine)
    assert ingest_paths(units, [SAMPLE_CSV], IngestOptions()).ok
    # The whole analysis as stored (run_analysis returns a summary without the lists).
    before = reports.analysis_report(units, run_analysis(units).analysis_id).as_json()
    assert before["adjust"] == "bh"
    # As `gradestore db downgrade` and `db upgrade` run (SQLite: foreign keys off, checked after).
    with db.migrating(engine) as connection:
        db.downgrade(connection, "0004")
    with db.migrating(engine) as connection:
        db.upgrade(connection)
    after = reports.analysis_report(units).as_json()
    engine.dispose()

    assert (after["method"], after["min_n"]) == ("z", 1)
    for key in ("adjust", "overdispersion", "tests", "expected_false_flags"):
        assert after[key] is None, key
    seed = ("section", "group", "count", "mean_gpa", "grade_counts", "z_score", "p_value")
    for old, new in zip(before["sections"], after["sections"], strict=True):
        assert {k: new[k] for k in (*seed, "significant")} == {
            k: old[k] for k in (*seed, "significant")
        }
        assert new["p_adjusted"] is None and new["significant_adjusted"] is None
        assert new["effect_size"] is None
    assert len(after["good_list"]) == len(before["good_list"])
