"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from pytest_alembic.tests import (  # noqa: F401 - collected as tests
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Engine, inspect, text

from gradestore.persistence import db

SEED_COLUMNS = {
    "students": {"id", "fname", "lname", "student_id"},
    "sections": {"id", "name", "mean_gpa", "count"},
    "groups": {"id", "name", "mean_gpa", "stddev"},
    "performances": {"id", "section_id", "student_id", "grade", "category"},
    "zscores": {"id", "section_id", "z_score", "p_value", "significant", "threshold", "timestamp"},
}


@pytest.fixture
def alembic_config() -> dict[str, str]:
    return {"script_location": str(db.migrations_dir())}


@pytest.fixture
def alembic_engine(empty_db_url: str) -> Engine:
    return db.create_engine_for(empty_db_url)


def test_seed_tables_have_the_seed_columns(empty_db_url: str) -> None:
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection)
    inspector = inspect(engine)
    for table, columns in SEED_COLUMNS.items():
        found = {column["name"] for column in inspector.get_columns(table)}
        assert columns <= found, f"{table} lacks {columns - found}"
    engine.dispose()


def test_upgrade_downgrade_to_base_and_upgrade_again(empty_db_url: str) -> None:
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection)
        assert db.current_revision(connection) == db.head_revision()
    with db.connect(engine, write=True) as connection:
        db.downgrade(connection, "base")
        assert db.current_revision(connection) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection)
        assert db.current_revision(connection) == db.head_revision()
    assert set(SEED_COLUMNS) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_empty_database_is_created_at_the_latest_schema(empty_db_url: str) -> None:
    engine = db.open_database(empty_db_url)
    with db.connect(engine, write=False) as connection:
        assert db.current_revision(connection) == db.head_revision()
    engine.dispose()


def test_out_of_date_schema_is_refused_with_the_upgrade_command(empty_db_url: str) -> None:
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0001")
    with pytest.raises(db.SchemaError, match=r"out of date .*gradestore db upgrade"):
        db.ensure_schema(engine)
    engine.dispose()


def test_a_schema_newer_than_the_program_is_refused(empty_db_url: str) -> None:
    engine = db.open_database(empty_db_url)
    with db.connect(engine, write=True) as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")
    with pytest.raises(db.SchemaError, match="newer than this gradestore"):
        db.ensure_schema(engine)
    engine.dispose()


def test_a_database_of_someone_else_is_not_touched(empty_db_url: str) -> None:
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        connection.exec_driver_sql("CREATE TABLE payroll (id INTEGER PRIMARY KEY)")
    with pytest.raises(db.SchemaError, match="holds tables but no gradestore schema"):
        db.ensure_schema(engine)
    assert inspect(engine).get_table_names() == ["payroll"]
    engine.dispose()


def test_the_head_revision_constant_is_alembics_head() -> None:
    assert db.head_revision() == db.HEAD_REVISION


def _store_at_0003_with_grades(engine: Engine) -> None:
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0003")
        connection.execute(
            text(
                "INSERT INTO students (id, fname, lname, student_id) VALUES"
                " (1, 'Ada', 'Byron', '007'), (2, 'Alan', 'Turing', '042')"
            )
        )
        connection.execute(text("INSERT INTO sections (id, name) VALUES (1, 'S1'), (2, 'S2')"))
        connection.execute(
            text(
                "INSERT INTO source_files (id, path, sha256, ingested_at, row_count)"
                " VALUES (1, 'a.csv', 'ff', '2026-01-01 00:00:00', 3)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO enrollments (section_id, student_id, grade, source_file_id)"
                " VALUES (2, 1, 'B', 1), (1, 2, 'A', 1), (1, 1, 'F', NULL)"
            )
        )


def _grades(engine: Engine) -> list[tuple[object, ...]]:
    with db.connect(engine, write=False) as connection:
        rows = connection.execute(
            text(
                "SELECT section_id, student_id, grade, source_file_id FROM enrollments"
                " ORDER BY section_id, student_id"
            )
        )
        return [tuple(row) for row in rows]


def test_enrollments_holding_grades_convert_to_the_section_student_key_and_back(
    empty_db_url: str,
) -> None:
    """0004 rebuilds enrollments in place: every grade and its provenance stays, both ways."""
    engine = db.create_engine_for(empty_db_url)
    _store_at_0003_with_grades(engine)
    expected = [(1, 1, "F", None), (1, 2, "A", 1), (2, 1, "B", 1)]
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0004")
    assert _grades(engine) == expected
    inspector = inspect(engine)
    key = inspector.get_pk_constraint("enrollments")["constrained_columns"]
    assert key == ["section_id", "student_id"]
    assert "id" not in {column["name"] for column in inspector.get_columns("enrollments")}
    assert {index["name"] for index in inspector.get_indexes("enrollments")} == {
        "ix_enrollments_student_id",
        "ix_enrollments_source_file_id",
    }
    if engine.dialect.name == "sqlite":
        with db.connect(engine, write=False) as connection:
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'enrollments'"
            ).scalar_one()
        assert sql.rstrip().upper().endswith("WITHOUT ROWID")
    with db.connect(engine, write=True) as connection:
        db.downgrade(connection, "0003")
    assert _grades(engine) == expected
    with db.connect(engine, write=False) as connection:
        ids = connection.execute(text("SELECT id FROM enrollments ORDER BY id")).scalars().all()
    assert sorted(ids) == [1, 2, 3]
    engine.dispose()


def test_grade_scale_revision_keeps_analyses_both_ways(empty_db_url: str) -> None:
    """0006: analyses made before it get the default scale; its downgrade loses no analysis."""
    from gradestore.grades import DEFAULT_SCALE

    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0005")
        connection.execute(
            text(
                "INSERT INTO analyses (id, created_at, threshold, scope_kind, scope_names)"
                " VALUES (1, '2026-01-01 00:00:00', 0.05, 'all', '[]')"
            )
        )
        connection.execute(text("INSERT INTO sections (id, name) VALUES (1, 'S1')"))
        connection.execute(
            text(
                "INSERT INTO analysis_sections (analysis_id, section_id, count, grade_counts)"
                " VALUES (1, 1, 0, '{}')"
            )
        )
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0006")
        row = connection.execute(text("SELECT scale_name, scale FROM analyses")).one()
        assert connection.execute(text("SELECT COUNT(*) FROM store_scale")).scalar() == 0
    scale = row[1] if isinstance(row[1], dict) else json.loads(row[1])
    assert row[0] == "default"
    assert scale == DEFAULT_SCALE.as_json()
    assert list(scale["points"]) == list(DEFAULT_SCALE.points)
    with db.connect(engine, write=True) as connection:
        db.downgrade(connection, "0005")
        assert connection.execute(text("SELECT COUNT(*) FROM analyses")).scalar() == 1
        assert connection.execute(text("SELECT COUNT(*) FROM analysis_sections")).scalar() == 1
    assert "scale" not in {column["name"] for column in inspect(engine).get_columns("analyses")}
    engine.dispose()


def test_the_version_table_is_found_as_the_inspector_finds_it(empty_db_url: str) -> None:
    """db._has_version_table asks PostgreSQL's catalog in plain SQL: the same answer as
    SQLAlchemy's inspector, for no table, a table elsewhere, a view, and the table."""
    engine = db.create_engine_for(empty_db_url)
    postgres = engine.dialect.name == "postgresql"
    steps = ["SELECT 1"]  # nothing yet
    if postgres:
        steps += [
            "CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.alembic_version (version_num text)",
            "CREATE VIEW alembic_version AS SELECT 'x'::text AS version_num",
            "DROP VIEW alembic_version; CREATE TABLE alembic_version (version_num text)",
        ]
    else:
        steps += [
            "CREATE VIEW alembic_version AS SELECT 'x' AS version_num",
            "DROP VIEW alembic_version",
            "CREATE TABLE alembic_version (version_num TEXT)",
        ]
    answers = []
    try:
        for step in steps:
            with db.connect(engine, write=True) as connection:
                for statement in step.split("; "):
                    connection.execute(text(statement))
            with db.connect(engine, write=False) as connection:
                found = db._has_version_table(connection)
                assert found == inspect(connection).has_table("alembic_version"), step
                answers.append(found)
    finally:
        engine.dispose()
    assert answers == ([False, False, True, True] if postgres else [False, True, False, True])


def _proofs(engine: Engine) -> list[tuple[int, ...]]:
    with db.connect(engine, write=False) as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("source_files")}
        sections = ", sections_stored" if "sections_stored" in columns else ""
        rows = connection.execute(
            text(f"SELECT id, grades_stored{sections} FROM source_files ORDER BY id")
        )
        return [tuple(int(value) for value in row) for row in rows]


def test_stored_proofs_are_filled_in_place_and_kept_by_triggers_both_ways(
    empty_db_url: str,
) -> None:
    """0010 gives each file that still holds every grade it stored its section count, clears
    the proof of one that lost a grade (what the count said before), and its triggers clear a
    proof when a grade goes; its downgrade leaves 0009's schema (no column, no trigger)."""
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0009")
        connection.execute(
            text(
                "INSERT INTO students (id, fname, lname, student_id) VALUES"
                " (1, 'Ada', 'Byron', '007'), (2, 'Alan', 'Turing', '042')"
            )
        )
        connection.execute(
            text("INSERT INTO sections (id, name) VALUES (1, 'S1'), (2, 'S2'), (3, 'S3')")
        )
        connection.execute(
            text(
                "INSERT INTO source_files (id, path, sha256, ingested_at, row_count, grades_stored)"
                " VALUES (1, 'whole.csv', 'aa', '2026-01-01 00:00:00', 3, 3),"
                " (2, 'lost-one.csv', 'bb', '2026-01-01 00:00:00', 2, 2),"
                " (3, 'never-whole.csv', 'cc', '2026-01-01 00:00:00', 1, 0)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO enrollments (section_id, student_id, grade, source_file_id) VALUES"
                " (1, 1, 'A', 1), (1, 2, 'B', 1), (2, 1, 'C', 1), (3, 1, 'D', 2),"
                " (3, 2, 'F', 3)"
            )
        )
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0010")
    assert _proofs(engine) == [(1, 3, 2), (2, 0, 0), (3, 0, 0)]

    with db.connect(engine, write=True) as connection:
        connection.execute(text("DELETE FROM enrollments WHERE section_id = 3"))
    assert _proofs(engine) == [(1, 3, 2), (2, 0, 0), (3, 0, 0)]  # not file 1's grades
    with db.connect(engine, write=True) as connection:
        connection.execute(text("UPDATE enrollments SET grade = 'A-' WHERE section_id = 2"))
    assert _proofs(engine) == [(1, 0, 2), (2, 0, 0), (3, 0, 0)]

    with db.connect(engine, write=True) as connection:
        db.downgrade(connection, "0009")
        connection.execute(text("UPDATE source_files SET grades_stored = 3 WHERE id = 1"))
        connection.execute(text("DELETE FROM enrollments WHERE section_id = 2"))
    assert _proofs(engine) == [(1, 3), (2, 0), (3, 0)]  # no trigger at 0009
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0010")  # file 1 holds 2 of its 3 grades now
    assert _proofs(engine) == [(1, 0, 0), (2, 0, 0), (3, 0, 0)]
    engine.dispose()


def test_the_ingest_lengths_are_those_of_the_columns_that_store_them() -> None:
    """lengths.MAX_LENGTHS (what the readers check, without the ORM) says what models.py
    declares: a column made longer or shorter must change both."""
    from gradestore.persistence.lengths import MAX_LENGTHS
    from gradestore.persistence.models import column_length

    columns = {
        "section": ("sections", "name"),
        "student_id": ("students", "student_id"),
        "last_name": ("students", "lname"),
        "first_name": ("students", "fname"),
        "group": ("groups", "name"),
        "run": ("runs", "name"),
        "term": ("sections", "term"),
        "header": ("sections", "header_name"),
        "path": ("source_files", "path"),
    }
    assert {name: column_length(*column) for name, column in columns.items()} == MAX_LENGTHS
