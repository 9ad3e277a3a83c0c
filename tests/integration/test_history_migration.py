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
