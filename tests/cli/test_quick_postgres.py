"""The re-ingest of stored bytes on PostgreSQL answered with psycopg alone
(persistence/quick_postgres.py): the URLs it takes are read as SQLAlchemy reads them, and
whatever it is not sure of (a URL, a lock, a revision, a schema, a login) goes the usual
path, whose bytes and exit code the command then gives. The answer itself on both backends:
tests/cli/test_quick_noop.py. A real server (GRADESTORE_TEST_POSTGRES_URL); nothing mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url

from gradestore.ingest import answer_unchanged
from gradestore.persistence import db, quick_postgres
from tests.cli.test_quick_noop import (
    GRADES,
    execute,
    first_ingest,
    imported,
    postgres_rows,
    run,
    usual_url,
)
from tests.conftest import PostgresServer

PASSWORD = "s3cr3t-pw@:/x"


@pytest.fixture
def pg_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    url = postgres_server.lease_migrated_database()
    request.addfinalizer(lambda: postgres_server.give_back(url))
    return url


@pytest.fixture
def copy_of(
    postgres_server: PostgresServer, request: pytest.FixtureRequest
) -> Callable[[str], str]:
    """A new database made from the store at a URL as it is now (its URL)."""

    def copy(url: str) -> str:
        made = postgres_server.copy_of(url)
        request.addfinalizer(lambda: postgres_server.give_back(made))
        return made

    return copy


@pytest.fixture
def grades(tmp_path: Path) -> Path:
    path = tmp_path / "grades.csv"
    path.write_text(GRADES)
    return path


def with_password(url: str, password: str = PASSWORD) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


# --- the URLs taken are read as SQLAlchemy reads them ----------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "postgresql://postgres@127.0.0.1/test",
        "postgresql+psycopg://db.example.org/grades",
        "postgresql+psycopg://u:p%40ss@h/db",
        "postgresql+psycopg://u:p%40%3A%2Fx%25@h:6543/db",
        "postgresql+psycopg://u:pa:ss@h/db",
        "postgresql+psycopg://u:@h/db",
        "postgresql+psycopg://u:p+q&r$!~@h/db",
        "postgresql+psycopg://%C3%BCser:pw@my-host.local:05432/db%20name",
        "postgresql+psycopg://u@h/db?sslmode=require",
        "postgresql+psycopg://u@h/db?sslmode=",
        "postgresql+psycopg://u@h/db?application_name=a+b%20c&connect_timeout=10",
        "postgresql+psycopg://u@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
    ],
)
def test_a_plain_postgresql_url_gives_psycopg_what_sqlalchemy_gives_it(url: str) -> None:
    expected_args, expected = PGDialect_psycopg().create_connect_args(make_url(url))
    expected.pop("context", None)  # psycopg's adapters map: no connection parameter
    assert expected_args == []
    assert quick_postgres.connection_parameters(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://u@h/db",
        "postgresql+asyncpg://u@h/db",
        "postgres://u@h/db",  # config.normalize_url makes it postgresql+psycopg://
        "POSTGRESQL://u@h/db",
        "postgresql+psycopg://u@h/",
        "postgresql+psycopg://u@h",
        "postgresql+psycopg:///db",  # a socket, or PGHOST
        "postgresql+psycopg://u@/db",
        "postgresql+psycopg://u@h1,h2/db",
        "postgresql+psycopg://u@h1:5432,h2:5433/db",
        "postgresql+psycopg://u@[::1]:5432/db",
        "postgresql+psycopg://u@%2Ftmp/db",
        "postgresql+psycopg://u@h:0/db",
        "postgresql+psycopg://u@h:port/db",
        "postgresql+psycopg://u:p@ss@h/db",
        "postgresql+psycopg://u:p/ss@h/db",
        "postgresql+psycopg://:pw@h/db",
        "postgresql+psycopg://u@h/db/more",
        "postgresql+psycopg://u@h/db#fragment",
        "postgresql+psycopg://u@h/db?options=-csearch_path%3Dother",
        "postgresql+psycopg://u@h/db?host=elsewhere",
        "postgresql+psycopg://u@h/db?port=5433",
        "postgresql+psycopg://u@h/db?dbname=other",
        "postgresql+psycopg://u@h/db?user=other",
        "postgresql+psycopg://u@h/db?password=secret",
        "postgresql+psycopg://u@h/db?service=grades",
        "postgresql+psycopg://u@h/db?autocommit=true",
        "postgresql+psycopg://u@h/db?prepare_threshold=0",
        "postgresql+psycopg://u@h/db?target_session_attrs=any",
        "postgresql+psycopg://u@h/db?sslmode=require&sslmode=disable",
        "postgresql+psycopg://u@h/db?sslmode=require#x",
        "postgresql+psycopg://u@h/d%00b",
        "sqlite:///store.db",
    ],
)
def test_other_postgresql_urls_are_not_taken(url: str) -> None:
    assert quick_postgres.connection_parameters(url) is None
    assert quick_postgres.open_at_head(url) is None


def test_the_write_lock_and_the_version_question_are_the_usual_path_s() -> None:
    assert db.POSTGRES_WRITE_LOCK_KEY == quick_postgres.POSTGRES_WRITE_LOCK_KEY
    assert db._POSTGRES_HAS_VERSION_TABLE == quick_postgres.POSTGRES_HAS_VERSION_TABLE


# --- answered, and answered as the usual path ------------------------------------------------


def test_a_percent_encoded_password_is_answered_and_never_shown(pg_url: str, grades: Path) -> None:
    """(The test server trusts every login: the password is read, and not needed.)"""
    url = with_password(pg_url)
    assert "%40%3A%2F" in url
    first_ingest(url, grades)
    quick = run("--db", url, "ingest", str(grades), "--format", "json")
    assert quick == run("--db", usual_url(url), "ingest", str(grades), "--format", "json")
    assert quick[0] == 0 and b'"status": "unchanged"' in quick[1]
    assert imported("--db", url, "ingest", str(grades), "--format", "json").endswith(
        "sqlalchemy=False typer=False"
    )
    for secret in ("s3cr3t", "%40%3A"):
        assert secret.encode() not in quick[1] + quick[2]


def test_a_taken_query_is_answered(pg_url: str, grades: Path) -> None:
    url = f"{pg_url}?sslmode=disable&application_name=gradestore+test&connect_timeout=30"
    first_ingest(url, grades)
    assert answer_unchanged(url, [grades]) is not None
    assert imported("--db", url, "ingest", str(grades), "--format", "json").endswith(
        "sqlalchemy=False typer=False"
    )


# --- what is not certain goes the usual path -------------------------------------------------


def change_the_file(url: str, grades: Path) -> None:
    grades.write_text(GRADES.replace("John,C", "John,D"))


def delete_a_grade_by_hand(url: str, grades: Path) -> None:
    execute(url, "DELETE FROM enrollments WHERE grade = 'C'")


def downgrade_the_store(url: str, grades: Path) -> None:
    code, _, stderr = run("--db", url, "db", "downgrade", "0009")
    assert code == 0, stderr


def write_a_newer_revision(url: str, grades: Path) -> None:
    execute(url, "UPDATE alembic_version SET version_num = '0011'")


@pytest.mark.parametrize(
    "change",
    [change_the_file, delete_a_grade_by_hand, downgrade_the_store, write_a_newer_revision],
)
@pytest.mark.parametrize("output", [["--format", "json"], []])
def test_what_is_not_certain_gets_the_usual_path(
    pg_url: str,
    grades: Path,
    copy_of: Callable[[str], str],
    change: Callable[[str, Path], None],
    output: list[str],
) -> None:
    """The quick run and the usual one, each on its own copy of the changed store: the same
    bytes, the same exit code, the same rows after."""
    first_ingest(pg_url, grades)
    change(pg_url, grades)
    assert answer_unchanged(pg_url, [grades]) is None
    usual_store, imports_store = copy_of(pg_url), copy_of(pg_url)
    assert "sqlalchemy=True" in imported("--db", imports_store, "ingest", str(grades), *output)
    quick = run("--db", pg_url, "ingest", str(grades), *output)
    usual = run("--db", usual_url(usual_store), "ingest", str(grades), *output)
    assert quick == usual
    assert postgres_rows(pg_url) == postgres_rows(usual_store)


def test_a_store_held_by_a_writer_gets_the_usual_path(pg_url: str, grades: Path) -> None:
    """The usual path waits for the writer (whose work may change the answer); the quick
    answer holds the same lock while it answers."""
    first_ingest(pg_url, grades)
    engine = create_engine(pg_url)
    lock = text("SELECT pg_try_advisory_xact_lock(:key)")
    key = {"key": db.POSTGRES_WRITE_LOCK_KEY}
    try:
        with engine.connect() as writer:
            writer.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
            assert answer_unchanged(pg_url, [grades]) is None
            writer.rollback()
            assert answer_unchanged(pg_url, [grades]) is not None
            quick = quick_postgres.open_at_head(pg_url)
            assert quick is not None
            try:
                assert writer.execute(lock, key).scalar() is False
                writer.rollback()
            finally:
                quick.close()
            assert writer.execute(lock, key).scalar() is True
            writer.rollback()
    finally:
        engine.dispose()


def test_nothing_is_written_to_the_store(pg_url: str, grades: Path) -> None:
    """The quick answer's transaction is read-only."""
    first_ingest(pg_url, grades)
    quick = quick_postgres.open_at_head(pg_url)
    assert quick is not None
    try:
        connection = quick._connection
        assert connection.execute("SHOW transaction_read_only").fetchone() == ("on",)
    finally:
        quick.close()


def test_a_store_in_another_schema_is_answered_only_where_libpq_s_session_finds_it(
    postgres_server: PostgresServer,
    grades: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A search_path in the URL (``options=``) is not taken; one libpq sets for both paths
    (PGOPTIONS, like a role's or a database's own setting) is; a session that does not find
    the store's alembic_version is not answered."""
    empty = postgres_server.empty_database()
    try:
        execute(empty, "CREATE SCHEMA gs_store")
        in_schema = f"{empty}?options=-csearch_path%3Dgs_store"
        first_ingest(in_schema, grades)
        assert answer_unchanged(in_schema, [grades]) is None
        assert "sqlalchemy=True" in imported("--db", in_schema, "ingest", str(grades))
        assert answer_unchanged(empty, [grades]) is None  # public holds no store
        monkeypatch.setenv("PGOPTIONS", "-csearch_path=gs_store")
        assert answer_unchanged(empty, [grades]) is not None
        args = ("ingest", str(grades), "--format", "json")
        quick = run("--db", empty, *args)
        assert quick == run("--db", usual_url(empty), *args) == run("--db", in_schema, *args)
        assert quick[0] == 0 and b'"status": "unchanged"' in quick[1]
        assert imported("--db", empty, *args).endswith("sqlalchemy=False typer=False")
    finally:
        postgres_server.give_back(empty, empty=True)


@pytest.mark.parametrize(
    "make_url_of",
    [
        # A login the server refuses (it trusts known roles only: an unknown one fails).
        lambda url: with_password(make_url(url).set(username="gs_nobody").render_as_string(False)),
        lambda url: with_password(make_url(url).set(port=1).render_as_string(False)),
        lambda url: with_password(url) + "?sslmode=nonsense",
        lambda url: with_password(url) + "?connect_timeout=soon",
    ],
    ids=["unknown-role", "no-server", "bad-sslmode", "bad-timeout"],
)
def test_a_store_that_cannot_be_reached_gets_the_usual_path_s_masked_message(
    pg_url: str, grades: Path, make_url_of: Callable[[str], str]
) -> None:
    url = make_url_of(pg_url)
    assert answer_unchanged(url, [grades]) is None
    assert "sqlalchemy=True" in imported("--db", url, "ingest", str(grades))
    quick = run("--db", url, "ingest", str(grades))
    usual = run("--db", usual_url(url), "ingest", str(grades))
    marker = b"&target_session_attrs=any" if b"?" in url.encode() else b"?target_session_attrs=any"
    assert quick == (usual[0], usual[1], usual[2].replace(marker, b""))
    assert quick[0] != 0 and quick[2].startswith(b"gradestore: ")
    for secret in (b"s3cr3t", b"%40%3A"):
        assert secret not in quick[1] + quick[2]
