"""What an analysis read, as a fingerprint: every change an analysis could see changes it, and
undoing the change gives it back, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gradestore.grades import DEFAULT_SCALE
from gradestore.ingest import ingest_paths
from gradestore.persistence import db
from tests.history_dataset import first_csv

# Each changes something an analysis reads; none changes the number of grades but the last.
CHANGES = {
    "a grade": "UPDATE enrollments SET grade = 'B' WHERE section_id = 1 AND student_id = 1",
    "two students' grades swapped": (
        "UPDATE enrollments SET grade = CASE WHEN student_id = 1 THEN 'B' ELSE 'A' END"
        " WHERE section_id = 1 AND student_id IN (1, 6)"
    ),
    "a grade moved to another section": (
        "UPDATE enrollments SET section_id = 2 WHERE section_id = 1 AND student_id = 1"
    ),
    "a grade given to another student": (
        "UPDATE enrollments SET student_id = 61 WHERE section_id = 1 AND student_id = 1"
    ),
    "a membership taken back": "DELETE FROM group_sections WHERE section_id = 1",
    "a section's term": "UPDATE sections SET term = 'S25' WHERE id = 1",
    "an empty section": "INSERT INTO sections (name) VALUES ('EMPTY')",
    "a run": "INSERT INTO runs (name) VALUES ('R')",
    "a .lst entry": (
        "INSERT INTO list_appearances (student_id, section_name, grade) VALUES (1, 'OLD', 'F')"
    ),
    "a grade removed": "DELETE FROM enrollments WHERE section_id = 1 AND student_id = 1",
}


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> Engine:
    report = ingest_paths(db.Database(engine), [first_csv(tmp_path)])
    assert report.ok
    return engine


def fingerprint(unit: db.UnitOfWork) -> str:
    return unit.history.inputs_fingerprint(DEFAULT_SCALE.letters)


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_an_analysis_reads_changes_the_fingerprint(store: Engine, change: str) -> None:
    with db.UnitOfWork(store, write=True) as unit:
        before = fingerprint(unit)
        assert fingerprint(unit) == before
        with unit.savepoint() as savepoint:
            unit.connection.execute(text(CHANGES[change]))
            assert fingerprint(unit) != before
            savepoint.rollback()
        assert fingerprint(unit) == before


def test_what_an_analysis_does_not_read_leaves_the_fingerprint(store: Engine) -> None:
    with db.UnitOfWork(store, write=True) as unit:
        before = fingerprint(unit)
        unit.connection.execute(text("UPDATE students SET fname = 'Renamed'"))
        unit.connection.execute(text("UPDATE sections SET mean_gpa = 1.5, count = 3"))
        unit.connection.execute(text("UPDATE source_files SET path = 'elsewhere.csv'"))
        assert fingerprint(unit) == before
