"""The revision that stamps analyses with what they read, on a store holding data, both ways."""

from __future__ import annotations

from sqlalchemy import inspect, text

from gradestore.persistence import db

REVISION, DOWN_REVISION = "0007", "0006"


def test_analyses_keep_their_rows_up_and_down(empty_db_url: str) -> None:
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, DOWN_REVISION)
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
        db.upgrade(connection, REVISION)
        # Made before the revision: it read nothing known, so no `analyze` stands on it.
        assert connection.execute(text("SELECT inputs_fingerprint FROM analyses")).all() == [
            (None,)
        ]
    with db.connect(engine, write=True) as connection:
        db.downgrade(connection, DOWN_REVISION)
        assert connection.execute(text("SELECT COUNT(*) FROM analyses")).scalar() == 1
        assert connection.execute(text("SELECT COUNT(*) FROM analysis_sections")).scalar() == 1
    columns = {column["name"] for column in inspect(engine).get_columns("analyses")}
    assert "inputs_fingerprint" not in columns
    engine.dispose()


PROVENANCE_REVISION, TERMS_REVISION = "0009", "0008"
PROVENANCE_TABLES = ("students", "sections", "groups", "group_sections", "runs", "run_groups")


def _rows(connection: object, table: str) -> list[tuple[object, ...]]:
    rows = connection.execute(text(f"SELECT * FROM {table}"))  # type: ignore[attr-defined]
    return sorted(tuple(row) for row in rows)


def test_provenance_columns_on_a_store_holding_data_both_ways(empty_db_url: str) -> None:
    """0009 adds a null provenance to the rows an ingest creates; its downgrade keeps every row."""
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, TERMS_REVISION)
        for statement in (
            "INSERT INTO students (id, fname, lname, student_id) VALUES (1, 'Ada', 'Byron', '7')",
            "INSERT INTO sections (id, name) VALUES (1, 'S1')",
            "INSERT INTO groups (id, name) VALUES (1, 'G')",
            "INSERT INTO group_sections (group_id, section_id) VALUES (1, 1)",
            "INSERT INTO runs (id, name) VALUES (1, 'R')",
            "INSERT INTO run_groups (run_id, group_id) VALUES (1, 1)",
            "INSERT INTO source_files (id, path, sha256, ingested_at, row_count)"
            " VALUES (1, 'a.csv', 'ff', '2026-01-01 00:00:00', 1)",
            "INSERT INTO enrollments (section_id, student_id, grade, source_file_id)"
            " VALUES (1, 1, 'A', 1)",
        ):
            connection.execute(text(statement))
        before = {table: _rows(connection, table) for table in PROVENANCE_TABLES}
    # As `gradestore db upgrade` and `db downgrade` run (SQLite: foreign keys off, checked after).
    with db.migrating(engine) as connection:
        db.upgrade(connection, PROVENANCE_REVISION)
        for table in PROVENANCE_TABLES:
            assert _rows(connection, table) == [(*row, None) for row in before[table]], table
    with db.connect(engine, write=True) as connection:
        # A removed file leaves what it created, no longer naming it.
        connection.execute(text("UPDATE students SET source_file_id = 1"))
        connection.execute(text("DELETE FROM enrollments"))
        connection.execute(text("DELETE FROM source_files"))
        assert _rows(connection, "students") == [(*before["students"][0], None)]
    with db.migrating(engine) as connection:
        db.downgrade(connection, TERMS_REVISION)
        for table in PROVENANCE_TABLES:
            assert _rows(connection, table) == before[table], table
    inspector = inspect(engine)
    for table in PROVENANCE_TABLES:
        assert "source_file_id" not in {column["name"] for column in inspector.get_columns(table)}
    engine.dispose()
