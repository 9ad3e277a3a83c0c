"""Engine, transactions and migrations.

SQLite is opened with foreign keys on, WAL and a busy timeout, and every write transaction starts
with ``BEGIN IMMEDIATE`` so that two cron jobs on one file wait for each other instead of failing
with "database is locked". On PostgreSQL, write transactions take one advisory lock for the same
reason: ingests and analyses are serialised, readers are never blocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Engine, NestedTransaction, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from gradestore.errors import ConfigurationError, DatabaseUnavailableError, SchemaError

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
    from alembic.config import Config

    from gradestore.persistence.analysis_store import AnalysisStore
    from gradestore.persistence.ingest_store import IngestStore
    from gradestore.persistence.report_queries import ReportQueries
    from gradestore.persistence.seed_store import SeedStore

# The newest migration. Kept here so that the everyday check of the schema needs neither
# Alembic nor the migration scripts (start-up time); a test keeps it equal to Alembic's head.
HEAD_REVISION = "0003"
SQLITE_BUSY_TIMEOUT_MS = 120_000
# Any constant works; it only has to be the same in every gradestore process.
POSTGRES_WRITE_LOCK_KEY = 0x6772_6164
UPGRADE_HINT = "run `gradestore db upgrade`"


def masked_url(url: str) -> str:
    """The URL with any password replaced by ***, for printing."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def migrations_dir() -> Path:
    """The packaged migrations (wheel install), else the repository's top-level folder."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "migrations", package_dir.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise ConfigurationError("gradestore's migrations are missing from this installation")


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level so that SQLAlchemy's "begin" event decides how to BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):
        _switch_to_wal(cursor)
    # Safe with WAL: a power cut may lose the last commit, never corrupt the file.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
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


def create_engine_for(url: str) -> Engine:
    """An engine for ``url``; creates the folder of a SQLite file if needed."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ConfigurationError(f"not a database URL: {masked_url(url)!r}") from error
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except ModuleNotFoundError as error:
        raise ConfigurationError(
            f"no driver for {parsed.get_backend_name()} ({error.name}): "
            "install gradestore[postgres]"
        ) from error


class UnitOfWork:
    """One transaction and the stores that work in it: rolled back unless ``commit()`` is
    called before the block ends.

    ``write=True`` serialises writers across processes (BEGIN IMMEDIATE on SQLite, an advisory
    lock on PostgreSQL); readers never wait for writers. The stores (``ingest``, ``analysis``,
    ``reports``, ``seed``) share the unit's one connection.
    """

    def __init__(self, engine: Engine, *, write: bool) -> None:
        self._engine = engine
        self._write = write

    def __enter__(self) -> UnitOfWork:
        try:
            connection = self._engine.connect()
        except OperationalError as error:
            raise DatabaseUnavailableError(
                f"cannot connect to {masked_url(str(self._engine.url))}: {_first_line(error)}"
            ) from error
        if self._write:
            connection.execution_options(gradestore_write=True)
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

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self.connection.close()


class Savepoint:
    def __init__(self, nested: NestedTransaction) -> None:
        self._nested = nested

    def rollback(self) -> None:
        """Undo what the block did so far; the unit of work goes on."""
        self._nested.rollback()


class UnitOfWorkFactory(Protocol):
    """What use cases take: ``units(write=...)`` opens a unit of work on the store."""

    def __call__(self, *, write: bool) -> UnitOfWork: ...


class Database:
    """A store's unit-of-work factory (one engine underneath, shared by its units)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool) -> UnitOfWork:
        return UnitOfWork(self.engine, write=write)

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def connect(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """A transaction that commits when the block ends normally (for short, simple work)."""
    with UnitOfWork(engine, write=write) as unit:
        yield unit.connection
        unit.commit()


def _first_line(error: BaseException) -> str:
    message = str(getattr(error, "orig", None) or error).strip()
    return message.splitlines()[0] if message else type(error).__name__


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


def upgrade(connection: Connection, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(connection), revision)


def open_database(url: str) -> Engine:
    """An engine on ``url`` whose schema is the latest (created if the database is empty)."""
    engine = create_engine_for(url)
    ensure_schema(engine)
    return engine


def open_store(url: str) -> Database:
    """The unit-of-work factory of the store at ``url`` (see :func:`open_database`)."""
    return Database(open_database(url))


def _stored_revision(connection: Connection) -> str | None:
    """The revision in alembic_version, read without Alembic (None: no such table or row)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> None:
    """Create an empty database at the latest schema; refuse one that is out of date."""
    with connect(engine, write=False) as connection:
        revision = _stored_revision(connection)
    if revision == HEAD_REVISION:
        return
    head = head_revision()
    if revision == head:
        return
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
