"""What a process sends PostgreSQL before its first query: the dialect's own questions, and
no look-up of a type gradestore does not use (HSTORE). On the real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gradestore.persistence import db


def test_the_first_connection_asks_nothing_about_hstore(
    backend: str, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL dialect's first connection")
    import psycopg

    sent: list[str] = []
    real: Callable[..., Any] = psycopg.Cursor.execute

    def execute(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(query if isinstance(query, str) else query.as_string(cursor))
        return real(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    engine = db.open_database(db_url, create=False)
    try:
        with db.connect(engine, write=False) as connection:
            assert db.current_revision(connection) == db.HEAD_REVISION
    finally:
        engine.dispose()
    assert any("pg_catalog.version()" in query for query in sent)  # the dialect did connect
    assert not [query for query in sent if "hstore" in query.lower()]
    assert engine.dialect.use_native_hstore is False  # type: ignore[attr-defined]


def test_a_sqlite_connection_may_sort_on_a_helper_thread_per_spare_core(sqlite_url: str) -> None:
    import os

    cores = len(os.sched_getaffinity(0))
    engine = db.open_database(sqlite_url, create=False)
    try:
        with engine.connect() as connection:
            threads = connection.exec_driver_sql("PRAGMA threads").scalar_one()
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    finally:
        engine.dispose()
    assert threads == min(4, cores - 1) == db.SQLITE_SORT_THREADS
    assert journal == "wal"
