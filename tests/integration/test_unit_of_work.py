"""The unit of work on both backends: nothing is kept without commit(), a savepoint undoes only
its own block."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from gradestore.persistence.db import Database
from tests.helpers import table_counts


def test_leaving_a_unit_without_commit_keeps_nothing(engine: Engine) -> None:
    units = Database(engine)
    with units(write=True) as unit:
        unit.ingest.ensure_groups(["G1"])
    assert table_counts(engine)["groups"] == 0
    with units(write=True) as unit:
        unit.ingest.ensure_groups(["G1"])
        unit.commit()
    assert table_counts(engine)["groups"] == 1


def test_an_error_in_a_unit_rolls_it_back(engine: Engine) -> None:
    units = Database(engine)
    with pytest.raises(RuntimeError), units(write=True) as unit:
        unit.ingest.ensure_groups(["G1"])
        raise RuntimeError("stop")
    assert table_counts(engine)["groups"] == 0


def test_a_savepoint_rolls_back_only_its_block(engine: Engine) -> None:
    units = Database(engine)
    with units(write=True) as unit:
        unit.ingest.ensure_groups(["kept"])
        with unit.savepoint() as savepoint:
            unit.ingest.ensure_groups(["undone"])
            savepoint.rollback()
        with unit.savepoint():
            unit.ingest.ensure_groups(["also kept"])
        with pytest.raises(RuntimeError), unit.savepoint():
            unit.ingest.ensure_groups(["undone by the error"])
            raise RuntimeError("stop")
        assert unit.reports.group_names() == ["also kept", "kept"]
        unit.commit()
    with units(write=False) as unit:
        assert unit.reports.group_names() == ["also kept", "kept"]


def test_the_stores_of_a_unit_share_its_connection(engine: Engine) -> None:
    with Database(engine)(write=False) as unit:
        stores = (unit.ingest, unit.analysis, unit.reports, unit.seed)
        assert {id(store.connection) for store in stores} == {id(unit.connection)}


def test_a_database_failure_in_a_unit_is_one_line_for_the_user(engine: Engine) -> None:
    from sqlalchemy import text

    from gradestore.errors import DatabaseUnavailableError

    # A failure of the server or the file, not of gradestore's SQL: on PostgreSQL the server
    # ends the session; SQLite reports a missing table as an OperationalError.
    postgres = engine.dialect.name == "postgresql"
    failing = "SELECT pg_terminate_backend(pg_backend_pid())" if postgres else "SELECT * FROM gone"
    with pytest.raises(DatabaseUnavailableError) as raised, Database(engine)(write=False) as unit:
        unit.connection.execute(text(failing))
    message = str(raised.value)
    assert message.startswith("database error: ")
    assert ("terminating connection" if postgres else "no such table: gone") in message
    assert "\n" not in message
