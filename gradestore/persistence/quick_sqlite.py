"""A SQLite store's answer for bytes stored already, read with the standard library's sqlite3.

A re-ingest of an unchanged file is one row of ``source_files`` (SourcesStore.unchanged_source);
SQLAlchemy, its dialect and the engine cost that command most of its start-up. This module
asks the same question without them, and only of a store it is sure of (quick_postgres asks
it of a PostgreSQL store with psycopg alone). ``open_at_head`` returns None, and the caller
takes the usual path (the engine, ensure_schema and their messages), unless every one of
these holds:

- the URL is a plain ``sqlite:///PATH``: no query, no ``%`` escape, no ``~``, neither memory
  nor a ``file:`` URI, so SQLAlchemy's own parse gives PATH as written (a test checks it);
- PATH is a file this process may write, in a folder it may write (the usual path opens it
  for writing, or says why not). It is opened ``mode=rw``: a missing file is never created;
- its journal is WAL already (the usual path would switch it to WAL);
- no other process holds the write lock: ``BEGIN IMMEDIATE`` without waiting, held until the
  store is closed, as the usual path holds it while it answers (it waits for that writer,
  whose work may change the answer);
- ``alembic_version`` holds one row, the revision this gradestore expects (a store that needs
  `db upgrade`, or is newer, gets its message from the usual path).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

# The newest migration: persistence.db.HEAD_REVISION is this one (a test keeps it equal to
# Alembic's head). Here, because this module must not import SQLAlchemy.
HEAD_REVISION = "0010"
_PREFIX = "sqlite:///"
# SourcesStore.unchanged_source's query (a test compares their answers).
_UNCHANGED_SOURCE = (
    "SELECT sections_stored, grades_stored FROM source_files"
    " WHERE sha256 = :sha256 AND grades_stored > 0 ORDER BY id DESC LIMIT 1"
)


def plain_sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:///PATH`` URL names when SQLAlchemy reads PATH as it is written;
    None for any other URL (a driver named, a query, an escape, memory, a URI, ``~``)."""
    if not url.startswith(_PREFIX):
        return None
    database = url[len(_PREFIX) :]
    if not database or database == ":memory:" or database.startswith(("file:", "~")):
        return None
    if any(character in database for character in "?%#\x00"):
        return None
    return Path(os.path.abspath(database))  # what the pysqlite dialect opens


class QuickSources:
    """The one question of SourcesStore this store answers, in its write transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def unchanged_source(self, sha256: str) -> tuple[int, int] | None:
        row = self._connection.execute(_UNCHANGED_SOURCE, {"sha256": sha256}).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def close(self) -> None:
        """Roll back (nothing was written) and close: the write lock goes."""
        try:
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
        finally:
            self._connection.close()


def open_at_head(url: str) -> QuickSources | None:
    """The store at ``url`` in a write transaction, when it is one this module is sure of (see
    the module's docstring); None otherwise. Raises sqlite3.Error or OSError for a file that
    cannot be read as a store (the caller takes the usual path for those too)."""
    path = plain_sqlite_file(url)
    if path is None or not path.is_file():
        return None
    if not (os.access(path, os.R_OK | os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)):
        return None
    connection = sqlite3.connect(
        f"file:{quote(str(path))}?mode=rw", uri=True, timeout=0, isolation_level=None
    )
    store = QuickSources(connection)
    try:
        if _is_sure(connection):
            return store
    except BaseException:
        store.close()
        raise
    store.close()
    return None


def _is_sure(connection: sqlite3.Connection) -> bool:
    """WAL, the write lock taken without waiting, and the expected schema revision."""
    if connection.execute("PRAGMA journal_mode").fetchone() != ("wal",):
        return False
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:  # another writer: the usual path waits for it
        return False
    has_version_table = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version' AND type IN ('table', 'view')"
    ).fetchone()
    if has_version_table is None:
        return False
    revisions = connection.execute("SELECT version_num FROM alembic_version LIMIT 2").fetchall()
    return revisions == [(HEAD_REVISION,)]
