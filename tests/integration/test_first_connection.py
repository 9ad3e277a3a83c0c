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
