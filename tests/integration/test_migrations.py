"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

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


def test_data_stored_at_the_first_schema_survives_every_upgrade(empty_db_url: str) -> None:
    """A store made by the first release upgrades without losing a row."""
    engine = db.create_engine_for(empty_db_url)
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection, "0001")
        connection.execute(
            text("INSERT INTO students (fname, lname, student_id) VALUES ('Ada', 'Byron', '007')")
        )
    with db.connect(engine, write=True) as connection:
        db.upgrade(connection)
    db.ensure_schema(engine)
    with db.connect(engine, write=False) as connection:
        rows = connection.execute(text("SELECT fname, lname, student_id FROM students")).all()
    assert [tuple(row) for row in rows] == [("Ada", "Byron", "007")]
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
