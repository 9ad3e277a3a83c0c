"""Mistaken or hostile configuration: secrets never shown, explicit settings that do not work
are exit 78 naming what is wrong, read-only commands create nothing, broken stores are one
line, and `db downgrade` works on a store holding data."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from gradestore.config import mask_secrets
from gradestore.persistence import db
from tests.helpers import REPO_ROOT, run_cli, run_gradestore, table_counts

SAMPLE = REPO_ROOT / "sample_data"


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- secrets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("postgresql://u:s3cret@h/db", "s3cret"),
        ("postgresql+psycopg://u:p@ss@host:5432/db", "ss"),
        ("postgresql://u:p%40ss@host/db", "%40ss"),
        ("postgresql://u@h/db?password=secret&sslmode=require", "secret"),
        ("postgresql://u@h/db?sslmode=require&PASSWORD=secret", "secret"),
        ("postgresql://u@h/db?sslpassword=secret", "secret"),
        ("host=h user=u password=secret dbname=g", "secret"),
        ("host=h password='se cret' dbname=g", "se cret"),
        ('File "x.py", line 3: OperationalError("postgresql://u:secret@h/db")', "secret"),
    ],
)
def test_mask_secrets_hides_every_form_of_password(text: str, secret: str) -> None:
    masked = mask_secrets(text)
    assert secret not in masked
    assert "***" in masked


def test_mask_secrets_keeps_what_is_not_secret() -> None:
    assert mask_secrets("postgresql+psycopg://u:pw@h:5432/g?sslmode=require") == (
        "postgresql+psycopg://u:***@h:5432/g?sslmode=require"
    )
    assert mask_secrets("sqlite:////srv/grades.db") == "sqlite:////srv/grades.db"
    assert db.masked_url("postgresql+psycopg://u@h/g?password=x") == (
        "postgresql+psycopg://u@h/g?password=***"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:p@zz@127.0.0.1:1/grades",
        "postgresql://postgres@127.0.0.1:1/grades?password=zz",
        "postgresql://postgres:p%40zz@127.0.0.1:1/grades",
    ],
)
def test_db_current_of_an_unreachable_server_shows_no_part_of_the_password(url: str) -> None:
    result = run_cli("--db", url, "db", "current")
    assert result.exit_code == 69
    line = one_line(result.stderr)
    assert "zz" not in line
    assert line.startswith("gradestore: cannot connect to postgresql+psycopg://postgres")


@pytest.mark.postgres
def test_db_current_of_a_real_server_masks_both_password_forms(
    postgres_server: object,
) -> None:
    from tests.helpers import postgres_server_url

    server = postgres_server_url()
    assert server is not None
    host = server.split("@", 1)[1]  # trust authentication: the password is not checked
    for url in (
        f"postgresql://postgres:p@ss@{host}",
        f"postgresql://postgres@{host}?password=secret",
    ):
        result = run_cli("--db", url, "db", "current")
        assert result.exit_code == 0, result.stderr
        assert "p@ss" not in result.stdout and "ss@" not in result.stdout
        assert "secret" not in result.stdout
        assert result.stdout.splitlines()[1] == "from: --db"


def test_an_unexpected_error_shows_a_traceback_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gradestore import cli
    from gradestore.cli import db_command

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("lost postgresql://u:s3cret@h/db?password=hidden")

    monkeypatch.setattr(db_command.typer, "echo", broken)
    monkeypatch.setattr(sys, "argv", ["gradestore", "--db", "sqlite:///:memory:", "db", "current"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 70
    stderr = capsys.readouterr().err
    assert "Traceback" in stderr and "RuntimeError" in stderr
    assert "s3cret" not in stderr and "hidden" not in stderr


# --- explicit configuration that does not work -------------------------------------------------


def test_a_missing_config_file_named_by_the_environment_is_exit_78(tmp_path: Path) -> None:
    result = run_gradestore(
        "db", "current", cwd=tmp_path, env={"GRADESTORE_CONFIG": "missing.toml"}
    )
    assert result.exit_code == 78
    assert one_line(result.stderr) == (
        "gradestore: $GRADESTORE_CONFIG names missing.toml, which does not exist"
    )
    assert not (tmp_path / "xdg-data").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "the config file is a folder, not a file"),
        ('databse_url = "sqlite:////tmp/x.db"\n',
         "unknown key 'databse_url' (did you mean 'database_url'?); known keys: database_url"),
        ("", "the config file sets no database_url"),
        ("database_url = 3\n", "database_url must be a non-empty string"),
        ("database_url = [\n", "not a valid TOML config file: "),
    ],
)  # fmt: skip
def test_a_config_file_that_does_not_work_is_exit_78_naming_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, message: str
) -> None:
    config = tmp_path / "config.toml"
    if content is None:
        config.mkdir()
    else:
        config.write_text(content)
    monkeypatch.setenv("GRADESTORE_CONFIG", str(config))
    result = run_cli("db", "current")
    assert result.exit_code == 78
    assert one_line(result.stderr).startswith(f"gradestore: {config}: {message}")
    assert not (tmp_path / "xdg-data").exists()  # never the default store instead


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "'mysql://u@h/db' names database kind 'mysql'; gradestore supports "
         "sqlite and postgresql"),
        ("postgresql://u:pw@h:abc/db", "the port in 'postgresql+psycopg://u:***@h:abc/db' is not "
         "a number"),
        ("://nothing", "cannot parse database URL '://nothing'"),
    ],
)  # fmt: skip
def test_a_url_that_cannot_work_is_exit_78_naming_where_it_came_from(
    url: str, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = run_cli("--db", url, "report")
    assert result.exit_code == 78
    assert one_line(result.stderr) == f"gradestore: --db: {message}"
    monkeypatch.setenv("GRADESTORE_DATABASE_URL", url)
    result = run_cli("db", "current")
    assert one_line(result.stderr) == f"gradestore: $GRADESTORE_DATABASE_URL: {message}"
    monkeypatch.delenv("GRADESTORE_DATABASE_URL")
    config = tmp_path / "c.toml"
    config.write_text(f'database_url = "{url}"\n')
    monkeypatch.setenv("GRADESTORE_CONFIG", str(config))
    result = run_cli("zscore")
    assert one_line(result.stderr) == f"gradestore: config file {config}: {message}"


def test_db_current_says_where_the_url_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "s.db"
    assert run_cli("--db", str(store), "db", "upgrade").exit_code == 0

    def source() -> str:
        result = run_cli("db", "current")
        assert result.exit_code == 0, result.stderr
        return result.stdout.splitlines()[1]

    assert run_cli("--db", str(store), "db", "current").stdout.splitlines()[1] == "from: --db"
    config = tmp_path / "c.toml"
    config.write_text(f'database_url = "{store}"\n')
    monkeypatch.setenv("GRADESTORE_CONFIG", str(config))
    assert source() == f"from: config file {config}"
    monkeypatch.setenv("GRADESTORE_DATABASE_URL", str(store))
    assert source() == "from: $GRADESTORE_DATABASE_URL"
    monkeypatch.delenv("GRADESTORE_DATABASE_URL")
    monkeypatch.setenv("GRADESTORE_CONFIG", str(tmp_path / "absent-but-default.toml"))
    monkeypatch.delenv("GRADESTORE_CONFIG")
    assert run_cli("db", "upgrade").exit_code == 0
    assert source() == ("from: the default (no --db, $GRADESTORE_DATABASE_URL or config file)")


# --- commands that only read create nothing ------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["db", "current"], ["report"], ["zscore"], ["report", "--list", "good"],
     ["ingest", "--dry-run", str(SAMPLE / "grades.csv")]],
)  # fmt: skip
def test_read_only_commands_never_create_a_database(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "typo" / "store.db"
    result = run_cli("--db", str(missing), *command)
    assert result.exit_code == 66
    assert one_line(result.stderr) == f"gradestore: no database at {missing}"
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("command", [["report"], ["zscore"], ["ingest", "--dry-run", "x.csv"]])
def test_read_only_commands_leave_an_empty_database_empty(
    empty_db_url: str, command: list[str], tmp_path: Path
) -> None:
    if command[0] == "ingest":
        command = ["ingest", "--dry-run", str(SAMPLE / "grades.csv")]
    if empty_db_url.startswith("sqlite"):
        sqlite3.connect(empty_db_url.removeprefix("sqlite:///")).close()  # an empty file
    result = run_cli("--db", empty_db_url, *command)
    assert result.exit_code == 66
    assert "no gradestore store in" in one_line(result.stderr)
    engine = create_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder under /tmp that another user may read (pytest's own folders are private)."""
    folder = Path(tempfile.mkdtemp(prefix="gradestore-ro-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run as another user",
)


@needs_root
def test_a_read_only_store_can_be_reported_from(shared_folder: Path) -> None:
    store = shared_folder / "store.db"
    assert run_cli("--db", str(store), "ingest", str(SAMPLE / "grades.csv")).exit_code == 0
    assert run_cli("--db", str(store), "analyze").exit_code == 0
    expected = run_cli("--db", str(store), "report", "--format", "json").stdout
    store.chmod(0o444)
    shared_folder.chmod(0o555)

    def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             sys.executable, "-m", "gradestore", "--db", str(store), *args],
            capture_output=True, text=True, cwd="/", timeout=120,
            env={**os.environ, "HOME": "/nonexistent", "PYTHONPATH": str(REPO_ROOT)},
        )  # fmt: skip

    report = as_nobody("report", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert report.stdout == expected
    assert as_nobody("zscore", "--group", "COMSC210").returncode == 0
    current = as_nobody("db", "current")
    assert current.returncode == 0, current.stderr
    assert "(latest)" in current.stdout
    refused = as_nobody("analyze")
    assert refused.returncode == 69
    assert "readonly" in one_line(refused.stderr)
    shared_folder.chmod(0o755)


# --- broken stores and migrations ---------------------------------------------------------------


def test_a_file_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.db"
    text_file.write_text("these are my notes, not a database\n" * 200)
    for command in (["report"], ["db", "current"], ["ingest", str(SAMPLE / "grades.csv")]):
        result = run_cli("--db", str(text_file), *command)
        assert result.exit_code == 78
        assert one_line(result.stderr) == (
            f"gradestore: {text_file} is not a SQLite database, or is damaged "
            "(file is not a database)"
        )


def test_a_damaged_store_is_one_line(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    assert run_cli("--db", str(store), "ingest", str(SAMPLE / "grades.csv")).exit_code == 0
    data = bytearray(store.read_bytes())
    data[4096 * 3 : 4096 * 40] = b"\xff" * (4096 * 37)  # pages of tables and indexes
    store.write_bytes(bytes(data))
    result = run_cli("--db", str(store), "report", "--student", "1607574")
    assert result.exit_code in (69, 78)
    assert "malformed" in one_line(result.stderr) or "not a database" in result.stderr


def test_db_upgrade_to_an_unknown_revision_is_one_line(tmp_path: Path) -> None:
    result = run_cli("--db", str(tmp_path / "s.db"), "db", "upgrade", "nonsense")
    assert result.exit_code == 64
    assert one_line(result.stderr) == (
        "gradestore: cannot upgrade to 'nonsense': Can't locate revision identified by 'nonsense'"
    )


def test_downgrade_and_upgrade_a_store_holding_data(db_url: str) -> None:
    assert run_cli("--db", db_url, "ingest", str(SAMPLE / "legacy")).exit_code == 0
    assert run_cli("--db", db_url, "analyze").exit_code == 0
    engine = db.open_database(db_url)
    before = table_counts(engine)
    report = run_cli("--db", db_url, "report", "--format", "json").stdout
    for revision in ("0002", "0001"):
        result = run_cli("--db", db_url, "db", "downgrade", revision)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip().endswith(f"to {revision}")
    upgraded = run_cli("--db", db_url, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert table_counts(engine) == before
    after = run_cli("--db", db_url, "report", "--format", "json").stdout
    # Below 0005 the test figures' columns are dropped: they come back null, all else is equal.
    assert without_test_figures(after, nulled=True) == without_test_figures(report)
    gone = run_cli("--db", db_url, "db", "downgrade", "base")
    assert gone.exit_code == 0, gone.stderr
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()


TEST_FIGURES = ("p_adjusted", "significant_adjusted", "effect_size", "no_test_reason")
ANALYSIS_FIGURES = ("adjust", "overdispersion", "tests", "expected_false_flags")


def without_test_figures(report: str, *, nulled: bool = False) -> dict[str, Any]:
    """The report's JSON without what migrations 0005 and 0008 added (checked null when
    ``nulled``): the test figures, and the listed students' history by term."""
    data = json.loads(report)
    history = ("earlier_terms_on_work_list", "earlier_terms_on_good_list", "first_term_listed")
    students = [*data["good_list"], *data["work_list"]]
    for entry in [data, *data["sections"], *data["groups"], *students]:
        for key in (*TEST_FIGURES, *ANALYSIS_FIGURES, *history):
            if key in entry:
                value = entry.pop(key)
                assert not nulled or value is None, (key, value)
    return data
