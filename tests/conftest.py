"""Fixtures shared by every level: real SQLite files and a real PostgreSQL server.

PostgreSQL tests read the server's URL from GRADESTORE_TEST_POSTGRES_URL (any database on the
server; tests create and drop their own). Without it they are skipped, except under CI=true,
where a missing or unreachable server fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from gradestore.persistence import db
from tests.helpers import IN_CI, POSTGRES_ENV, postgres_server_url

# Output laid out for a terminal of the developer's (or pytest-xdist's worker, which sets
# COLUMNS=80 LINES=24) would differ from what a pipe gets: tests that want a width set their own.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

settings.register_profile("ci", deadline=None, max_examples=60)
settings.register_profile("dev", deadline=None, max_examples=30)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _require_postgres() -> str:
    url = postgres_server_url()
    if url is None:
        if IN_CI:
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: PostgreSQL tests must run in CI")
        pytest.skip(f"set {POSTGRES_ENV} to run PostgreSQL tests")
    return url


class PostgresServer:
    """Hands out databases on the test server.

    Databases are reused, never dropped while the session runs: DROP DATABASE waits for a
    checkpoint, seconds each on a busy server (CREATE from a template is cheaper, a schema
    reset cheaper still). After a test a migrated database has its tables truncated and goes
    back to the migrated pool; one whose schema the test changed, and every empty database,
    has its schemas dropped and goes to the empty pool. The session drops them all at its end,
    at once.
    """

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.prefix = f"gs_test_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self._template: str | None = None
        self._clean: list[str] = []
        self._empty: list[str] = []

    def _url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> str:
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return self._url_of(name)

    def empty_database(self) -> str:
        """A database without any table; give it back with ``give_back`` (or leave it to the
        end of the session)."""
        if self._empty:
            return self._url_of(self._empty.pop())
        return self._create(f"{self.prefix}_{uuid.uuid4().hex[:8]}")

    def lease_migrated_database(self) -> str:
        if self._clean:
            return self._url_of(self._clean.pop())
        return self.migrated_database()

    def give_back(self, url: str, *, empty: bool = False) -> None:
        """Truncate a leased database still at the latest schema for the next test; empty any
        other, and every database handed out ``empty`` (whatever a test made of it)."""
        from gradestore.persistence.models import Base

        name = make_url(url).database
        assert name is not None
        self._end_other_sessions(name)
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SET lock_timeout = '10s'"))
                revision = db.current_revision(connection)
                tables = set(inspect(connection).get_table_names())
                at_head = revision == db.head_revision() and set(Base.metadata.tables) <= tables
                if at_head and not empty:
                    names = ", ".join(f'"{name}"' for name in Base.metadata.tables)
                    connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                    connection.commit()
                    self._clean.append(name)
                    return
                _drop_every_schema(connection)
                connection.commit()
                self._empty.append(name)
        finally:
            engine.dispose()

    def _end_other_sessions(self, name: str) -> None:
        """A test may leave a connection open (an engine not disposed): it would hold locks."""
        with self.admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )

    def copy_of(self, url: str) -> str:
        """A new database holding what the one at ``url`` holds now (its other sessions are
        ended first: a template may have no one connected)."""
        name = make_url(url).database
        assert name is not None
        self._end_other_sessions(name)
        return self._create(f"{self.prefix}_{uuid.uuid4().hex[:8]}", template=name)

    def migrated_database(self) -> str:
        if self._template is None:
            template_name = f"{self.prefix}_template"
            engine = db.open_database(self._create(template_name))
            engine.dispose()
            self._template = template_name
        return self._create(f"{self.prefix}_{uuid.uuid4().hex[:8]}", template=self._template)

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        # Concurrent drops share the checkpoints they wait for.
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.drop, self.created))
        self.admin.dispose()


def _drop_every_schema(connection: Connection) -> None:
    """Leave the database as CREATE DATABASE makes it: an empty public schema and no other."""
    schemas = connection.execute(
        text(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
            " AND nspname <> 'information_schema'"
        )
    ).scalars()
    for schema in list(schemas):
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = _require_postgres()
    try:
        server = PostgresServer(url)
        with server.admin.connect():
            pass
    except Exception as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {make_url(url)!r} is unreachable in CI: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    yield server
    server.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.open_database(f"sqlite:///{path}")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite store at the latest schema, for what does not depend on the backend (an
    option refused before any store is read, the words of a message)."""
    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database at the latest schema, on each backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "store.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.lease_migrated_database()
    request.addfinalizer(lambda: server.give_back(url))
    return url


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the latest schema shared by the tests of one module, on each backend: for
    stores that are built once and only read."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("module-store") / "store.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.lease_migrated_database()
    request.addfinalizer(lambda: server.give_back(url))
    return url


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database (no schema), on each backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.empty_database()
    request.addfinalizer(lambda: server.give_back(url, empty=True))
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = db.open_database(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's config or writes the user's default database."""
    monkeypatch.delenv("GRADESTORE_DATABASE_URL", raising=False)
    # Not a GRADESTORE_CONFIG naming a missing file: that is an error (exit 78) now.
    monkeypatch.delenv("GRADESTORE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on PostgreSQL, so a CI log shows they were not skipped."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in counts:
        for report in terminalreporter.stats.get(outcome, []):
            on_postgres = "[postgresql" in getattr(report, "nodeid", "")
            # A test counts once: its call, or the setup that skipped or failed it.
            if on_postgres and (report.when == "call" or outcome != "passed"):
                counts[outcome] += 1
    server = postgres_server_url()
    where = make_url(server).render_as_string(hide_password=True) if server else "not configured"
    terminalreporter.write_line(
        f"PostgreSQL ({where}): {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped"
    )
