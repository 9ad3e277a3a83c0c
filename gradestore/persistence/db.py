"""Engine, transactions and migrations.

SQLite is opened with foreign keys on, WAL and a busy timeout, and every write transaction starts
with ``BEGIN IMMEDIATE`` so that two cron jobs on one file wait for each other instead of failing
with "database is locked". On PostgreSQL, write transactions take one advisory lock for the same
reason: ingests and analyses are serialised, readers are never blocked.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, unquote

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    NestedTransaction,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from gradestore.config import mask_secrets
from gradestore.errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    GradestoreError,
    NotFoundError,
    SchemaError,
    UsageError,
)
from gradestore.persistence import quick_postgres, quick_sqlite

__all__ = [
    "Database",
    "SchemaError",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "connect",
    "open_database",
    "open_store",
]

if TYPE_CHECKING:
    import sqlite3

    from alembic.config import Config

    from gradestore.persistence.analysis_store import AnalysisStore
    from gradestore.persistence.history_store import HistoryStore
    from gradestore.persistence.ingest_store import IngestStore
    from gradestore.persistence.report_queries import ReportQueries
    from gradestore.persistence.scale_store import ScaleStore
    from gradestore.persistence.seed_store import SeedStore
    from gradestore.persistence.sources_store import SourcesStore

# The newest migration (kept in quick_sqlite, which must not import SQLAlchemy), so that the
# everyday check of the schema needs neither Alembic nor the migration scripts (start-up
# time); a test keeps it equal to Alembic's head.
HEAD_REVISION = quick_sqlite.HEAD_REVISION
SQLITE_BUSY_TIMEOUT_MS = 120_000
# Any constant works; it only has to be the same in every gradestore process (kept in
# quick_postgres, whose answer for stored bytes takes it too, without SQLAlchemy).
POSTGRES_WRITE_LOCK_KEY = quick_postgres.POSTGRES_WRITE_LOCK_KEY
UPGRADE_HINT = "run `gradestore db upgrade`"
# The PostgreSQL drivers whose SQLAlchemy dialect looks HSTORE up when it first connects.
_HSTORE_DRIVERS = ("psycopg", "psycopg2", "psycopg2cffi")


def masked_url(url: str) -> str:
    """The URL with every secret in it replaced by ***, for printing (see mask_secrets)."""
    return mask_secrets(url)


def migrations_dir() -> Path:
    """The packaged migrations (wheel install), else the repository's top-level folder."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "migrations", package_dir.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise ConfigurationError("gradestore's migrations are missing from this installation")


def _helper_threads() -> int:
    """Threads SQLite may add to a large sort: one per core this process may run on beyond
    its own, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(0, min(4, cores - 1))


# A large sort (a list of 100,000s of rows read back in name order, an index built after a
# large load) merges on helper threads: at 1M grades on 2 cores the two lists of `analyze
# --format json` were read 0.2 s faster (docs/performance.md). SQLite's default is none.
SQLITE_SORT_THREADS = _helper_threads()


def _on_sqlite_connect(
    dbapi_connection: sqlite3.Connection, _record: object, read_only: bool = False
) -> None:
    # Autocommit at the driver level so that SQLAlchemy's "begin" event decides how to BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    journal_mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    # A store opened read-only (mode=ro) keeps the journal mode its writer set.
    if journal_mode not in ("wal", "memory") and not read_only:
        _switch_to_wal(cursor)
    # Safe with WAL: a power cut may lose the last commit, never corrupt the file.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA threads = {SQLITE_SORT_THREADS}")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """WAL is set once per file and kept. SQLite does not wait for a lock to change the
    journal mode, so a process that finds another one creating the same new file retries."""
    import sqlite3
    import time

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _on_sqlite_begin(connection: Connection) -> None:
    mode = "IMMEDIATE" if connection.get_execution_options().get("gradestore_write") else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


def create_engine_for(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url``. ``create`` (commands that write) makes the folder of a new SQLite
    file; without it a missing SQLite file is ``no database at PATH`` and one this process may
    not write is opened read-only, so that a read-only store can be reported from."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise ConfigurationError(f"not a database URL: {masked_url(url)!r}") from error
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None and create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif path is not None:
            parsed = _sqlite_for_reading(parsed, path)
        engine = create_engine(parsed)
        read_only = parsed.query.get("mode") == "ro"
        event.listen(engine, "connect", functools.partial(_on_sqlite_connect, read_only=read_only))
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    # No HSTORE column anywhere: without this the psycopg dialects ask the catalog for the
    # hstore type on the first connection of every process (a round trip, a few ms).
    hstore = {"use_native_hstore": False} if parsed.get_driver_name() in _HSTORE_DRIVERS else {}
    try:
        return create_engine(parsed, pool_pre_ping=True, **hstore)
    except ModuleNotFoundError as error:
        raise ConfigurationError(
            f"no driver for {parsed.get_backend_name()} ({error.name}): "
            "install gradestore[postgres]"
        ) from error


def _sqlite_file(parsed: URL) -> Path | None:
    """The file a SQLite URL names (None for memory and ``file:`` URIs)."""
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _sqlite_for_reading(parsed: URL, path: Path) -> URL:
    """The URL to read an existing SQLite file with: read-only when this process may not
    write it (or its folder, where SQLite keeps its WAL files).

    In a folder we may not write, with no ``-shm`` file (so no process has the store open),
    SQLite cannot set up WAL reading: the file is then read as immutable, which is safe while
    nobody writes it (a writer would have to be its owner, during the second a report takes).
    """
    if not path.is_file():
        raise NotFoundError(f"no database at {path}")
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        return parsed
    query = {**parsed.query, "mode": "ro", "uri": "true"}
    if not os.access(path.parent, os.W_OK) and not Path(f"{path}-shm").exists():
        query["immutable"] = "1"
    return parsed.set(database=f"file:{quote(str(path.resolve()))}", query=query)


class UnitOfWork:
    """One transaction and the stores that work in it: rolled back unless ``commit()`` is
    called before the block ends.

    ``write=True`` serialises writers across processes (BEGIN IMMEDIATE on SQLite, an advisory
    lock on PostgreSQL); readers never wait for writers. The stores (``ingest``, ``analysis``,
    ``reports``, ``seed``, ``scales``, ``history``, ``sources``) share the unit's one connection.
    """

    def __init__(self, engine: Engine, *, write: bool, foreign_keys: bool = True) -> None:
        self._engine = engine
        self._write = write
        self._foreign_keys = foreign_keys

    def __enter__(self) -> UnitOfWork:
        try:
            connection = self._engine.connect()
        except DBAPIError as error:
            raise _connect_error(self._engine, error) from error
        if self._write:
            connection.execution_options(gradestore_write=True)
        if not self._foreign_keys and connection.dialect.name == "sqlite":
            # A pragma that only works outside a transaction: sent before BEGIN, undone on exit.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        self.connection = connection
        self._transaction = connection.begin()
        if self._write and connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_WRITE_LOCK_KEY}
            )
        return self

    @cached_property
    def ingest(self) -> IngestStore:
        from gradestore.persistence.ingest_store import IngestStore

        return IngestStore(self.connection)

    @cached_property
    def analysis(self) -> AnalysisStore:
        from gradestore.persistence.analysis_store import AnalysisStore

        return AnalysisStore(self.connection)

    @cached_property
    def reports(self) -> ReportQueries:
        from gradestore.persistence.report_queries import ReportQueries

        return ReportQueries(self.connection)

    @cached_property
    def seed(self) -> SeedStore:
        from gradestore.persistence.seed_store import SeedStore

        return SeedStore(self.connection)

    @cached_property
    def scales(self) -> ScaleStore:
        from gradestore.persistence.scale_store import ScaleStore

        return ScaleStore(self.connection)

    @cached_property
    def history(self) -> HistoryStore:
        from gradestore.persistence.history_store import HistoryStore

        return HistoryStore(self.connection)

    @cached_property
    def sources(self) -> SourcesStore:
        from gradestore.persistence.sources_store import SourcesStore

        return SourcesStore(self.connection)

    @contextmanager
    def savepoint(self) -> Iterator[Savepoint]:
        """A nested transaction: kept when the block ends, unless rolled back in it (or an
        exception leaves it)."""
        nested = self.connection.begin_nested()
        try:
            yield Savepoint(nested)
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
        if nested.is_active:
            nested.commit()

    def commit(self) -> None:
        self._transaction.commit()

    def __exit__(self, _type: object, error: BaseException | None, _tb: object) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
            if not self._foreign_keys and self.connection.dialect.name == "sqlite":
                self.connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]
        except SQLAlchemyError:
            if error is None:
                raise
        finally:
            self.connection.close()
        if isinstance(error, SQLAlchemyError):
            raise database_error(error) from error


class Savepoint:
    def __init__(self, nested: NestedTransaction) -> None:
        self._nested = nested

    def rollback(self) -> None:
        """Undo what the block did so far; the unit of work goes on."""
        self._nested.rollback()


class UnitOfWorkFactory(Protocol):
    """What use cases take: ``units(write=...)`` opens a unit of work on the store."""

    def __call__(self, *, write: bool, foreign_keys: bool = True) -> UnitOfWork: ...


class Database:
    """A store's unit-of-work factory (one engine underneath, shared by its units)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool, foreign_keys: bool = True) -> UnitOfWork:
        """``foreign_keys=False``: SQLite does not check foreign keys in this unit (for a
        writer whose every key is one it has just read or inserted: the direct load)."""
        return UnitOfWork(self.engine, write=write, foreign_keys=foreign_keys)

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def connect(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """A transaction that commits when the block ends normally (for short, simple work)."""
    with UnitOfWork(engine, write=write) as unit:
        yield unit.connection
        unit.commit()


def database_error(error: SQLAlchemyError) -> DatabaseUnavailableError:
    """A database failure (lost connection, a lock, a full disk) as one line for the user."""
    return DatabaseUnavailableError(f"database error: {_first_line(error)}")


def _first_line(error: BaseException) -> str:
    message = str(getattr(error, "orig", None) or error).strip()
    return mask_secrets(message.splitlines()[0] if message else type(error).__name__)


def _connect_error(engine: Engine, error: DBAPIError) -> GradestoreError:
    """One line for a database that cannot be opened: not SQLite (78), else unreachable (69)."""
    reason = _first_line(error)
    if engine.dialect.name == "sqlite" and not isinstance(error, OperationalError):
        return ConfigurationError(
            f"{where(engine)} is not a SQLite database, or is damaged ({reason})"
        )
    return DatabaseUnavailableError(f"cannot connect to {where(engine)}: {reason}")


def where(engine: Engine) -> str:
    """The database for a message: a SQLite file's path, else the URL without its secrets."""
    database = engine.url.database or ""
    if engine.dialect.name == "sqlite" and database.startswith("file:"):
        return unquote(database.removeprefix("file:").partition("?")[0])
    if engine.dialect.name == "sqlite" and database:
        return database
    return masked_url(engine.url.render_as_string(hide_password=False))


# --- migrations -----------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """A write transaction for `db upgrade` / `db downgrade`, committed when the block ends.

    On SQLite, foreign keys are off while it runs (SQLite's own recipe for schema changes):
    batch mode copies a table and drops the original, which other tables' rows still reference.
    Before the commit, any row left without its parent is refused (the work is rolled back).
    """
    with UnitOfWork(engine, write=True, foreign_keys=False) as unit:
        yield unit.connection
        if engine.dialect.name == "sqlite":
            orphans = unit.connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if orphans:
                tables = sorted({row[0] for row in orphans})
                raise SchemaError(
                    f"the migration would leave rows of {', '.join(tables)} without the rows "
                    "they refer to: nothing was changed"
                )
        unit.commit()


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(connection), revision)
    except CommandError as error:
        raise UsageError(f"cannot upgrade to {revision!r}: {error}") from error


def downgrade(connection: Connection, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.downgrade(alembic_config(connection), revision)
    except CommandError as error:
        raise UsageError(f"cannot downgrade to {revision!r}: {error}") from error


@dataclass(frozen=True, slots=True)
class SchemaState:
    """A database's schema revision, before and after a command (equal when it only looked)."""

    url: str  # password masked
    before: str | None
    after: str | None
    head: str


def schema_state(url: str) -> SchemaState:
    """The revision of the database at ``url``, creating nothing (the `db current` use case)."""
    engine = create_engine_for(url, create=False)
    try:
        with connect(engine, write=False) as connection:
            revision = current_revision(connection)
    finally:
        engine.dispose()
    return SchemaState(masked_url(url), revision, revision, head_revision())


def change_schema(url: str, revision: str, *, up: bool) -> SchemaState:
    """Upgrade or downgrade the database at ``url`` to ``revision`` (`db upgrade/downgrade`)."""
    engine = create_engine_for(url)
    try:
        with migrating(engine) as connection:
            before = current_revision(connection)
            (upgrade if up else downgrade)(connection, revision)
            after = current_revision(connection)
    finally:
        engine.dispose()
    return SchemaState(masked_url(url), before, after, head_revision())


def open_database(url: str, *, create: bool = True) -> Engine:
    """An engine on ``url`` whose schema is the latest (created if the database is empty).

    ``create=False`` is for commands that only read: nothing is created, a missing SQLite file
    or an empty database is a NotFoundError (exit 66).
    """
    engine = create_engine_for(url, create=create)
    try:
        ensure_schema(engine, create=create)
    except BaseException:
        engine.dispose()
        raise
    return engine


def open_store(url: str, *, create: bool = True) -> Database:
    """The unit-of-work factory of the store at ``url`` (see :func:`open_database`)."""
    return Database(open_database(url, create=create))


def _stored_revision(connection: Connection) -> str | None:
    """The revision in alembic_version, read without Alembic (None: no such table or row)."""
    if not _has_version_table(connection):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _has_version_table(connection: Connection) -> bool:
    """Whether alembic_version is a table (or view) this connection sees. On PostgreSQL the
    inspector's own question is asked in plain SQL (a table-like relation visible in the search
    path, outside pg_catalog): the inspector builds and compiles it first, 5 ms of a report."""
    if connection.dialect.name == "postgresql":
        found = connection.execute(text(_POSTGRES_HAS_VERSION_TABLE)).scalar()
        return found is not None
    return inspect(connection).has_table("alembic_version")


# Asked by quick_postgres too, without SQLAlchemy.
_POSTGRES_HAS_VERSION_TABLE = quick_postgres.POSTGRES_HAS_VERSION_TABLE


def ensure_schema(engine: Engine, *, create: bool = True) -> None:
    """Create an empty database at the latest schema (unless ``create`` is False); refuse one
    that is out of date."""
    with connect(engine, write=False) as connection:
        revision = _stored_revision(connection)
    if revision == HEAD_REVISION:
        return
    head = head_revision()
    if revision == head:
        return
    if revision is None and not create:
        raise NotFoundError(
            f"no gradestore store in {where(engine)} yet: `gradestore ingest` some grades first"
        )
    if revision is None:
        with connect(engine, write=True) as connection:
            # Another process may have created it while we waited for the lock.
            revision = current_revision(connection)
            if revision is None:
                if set(inspect(connection).get_table_names()) - {"alembic_version"}:
                    raise SchemaError(
                        f"{masked_url(str(engine.url))} holds tables but no gradestore schema "
                        "revision: point --db at a gradestore database or an empty one"
                    )
                upgrade(connection)
                return
    if revision == head:
        return
    if revision not in known_revisions():
        raise SchemaError(
            f"the database schema ({revision}) is newer than this gradestore ({head}): "
            "upgrade gradestore"
        )
    raise SchemaError(
        f"the database schema is out of date ({revision}, latest {head}): {UPGRADE_HINT}"
    )
