"""The re-ingest of stored bytes answered before Typer and SQLAlchemy (gradestore.entry,
gradestore.ingest.answer_unchanged, persistence/quick_sqlite.py and quick_postgres.py): the
same bytes on standard output and error, the same exit code and the same store as the usual
path, and the usual path whenever the answer is not certain.

The usual path is reached with the same store named ``sqlite+pysqlite:///PATH`` (a driver
named: the quick answer does not take it); messages name the store by its path, so both
runs can be compared byte for byte. A PostgreSQL store is named with a harmless libpq
keyword the quick answer does not take (``target_session_attrs=any``, libpq's default) for
the usual path (see also tests/cli/test_quick_postgres.py). Real processes, real SQLite files
and a real server; nothing is mocked except where a process cannot be made to see it (a
store it may not write, as root).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.main import get_command

from gradestore import cli, config, entry, ingest
from gradestore.ingest import IngestOptions, answer_unchanged
from gradestore.persistence import db, quick_sqlite

HEADER = "section,student_id,last_name,first_name,grade\n"
GRADES = HEADER + "S1,001,Smith,John,A\nS1,002,Doe,Jane,B\nS2,001,Smith,John,C\n"
# A fresh process reports what it imported on its last line of standard error.
IMPORTS = (
    "import sys\nfrom gradestore.entry import main\ncode = 0\n"
    "try:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
    "sys.stdout.flush()\n"
    "sys.stderr.write(f\"exit={code} sqlalchemy={'sqlalchemy' in sys.modules}"
    " typer={'typer' in sys.modules}\\n\")\n"
)
Outcome = tuple[int, bytes, bytes]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Outcome:
    """``gradestore ARGS`` in a real process, its output piped (as under cron)."""
    completed = subprocess.run(
        [sys.executable, "-m", "gradestore", *args],
        capture_output=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )
    return completed.returncode, completed.stdout, completed.stderr


def imported(*args: str, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", IMPORTS, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    return completed.stderr.splitlines()[-1]


def stored(store: Path) -> dict[str, list[tuple[object, ...]]] | bytes | None:
    """Every table's rows, sorted, without the times a run writes (a file that is no store:
    its bytes; none: None)."""
    if not store.is_file():
        return None
    if not store.read_bytes().startswith(b"SQLite format 3\0"):
        return store.read_bytes()
    times = {"ingested_at", "created_at", "set_at", "timestamp"}
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        found = {}
        for table in tables:
            columns = [
                column[1]
                for column in connection.execute(f'PRAGMA table_info("{table}")')
                if column[1] not in times
            ]
            selected = ", ".join(f'"{column}"' for column in columns)
            found[table] = sorted(
                connection.execute(f'SELECT {selected} FROM "{table}"').fetchall(), key=repr
            )
    connection.close()
    return found


def first_ingest(store_url: str, grades: Path) -> None:
    code, _, stderr = run("--db", store_url, "ingest", str(grades))
    assert code == 0, stderr


def quick_and_usual(store: Path, *args: str, **kwargs: object) -> tuple[Outcome, Outcome]:
    """The command on the store as it is now, once as ``sqlite:///`` (quick answer allowed)
    and once, on a copy of the same store put back at the same path, as the usual path;
    asserts both leave the same rows."""
    saved = store.with_name(store.name + ".saved")
    exists = store.is_file()
    if exists:
        shutil.copyfile(store, saved)
    quick = run("--db", f"sqlite:///{store}", *args, **kwargs)  # type: ignore[arg-type]
    after_quick = stored(store)
    remove_store(store)
    if exists:
        shutil.copyfile(saved, store)
    usual = run("--db", f"sqlite+pysqlite:///{store}", *args, **kwargs)  # type: ignore[arg-type]
    assert stored(store) == after_quick
    return quick, usual


def usual_url(url: str) -> str:
    """The same store, named so that the quick answer does not take it."""
    if url.startswith("sqlite:///"):
        return url.replace("sqlite:///", "sqlite+pysqlite:///", 1)
    return f"{url}{'&' if '?' in url else '?'}target_session_attrs=any"


def postgres_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows of a PostgreSQL store, sorted, without the times a run writes."""
    times = {"ingested_at", "created_at", "set_at", "timestamp"}
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = {}
            for table in sorted(inspect(connection).get_table_names()):
                columns = [
                    column["name"]
                    for column in inspect(connection).get_columns(table)
                    if column["name"] not in times
                ]
                selected = ", ".join(f'"{column}"' for column in columns)
                result = connection.execute(text(f'SELECT {selected} FROM "{table}"'))
                found[table] = sorted((tuple(row) for row in result), key=repr)
    finally:
        engine.dispose()
    return found


def quick_and_usual_at(url: str, *args: str) -> tuple[Outcome, Outcome]:
    """quick_and_usual on either backend: on PostgreSQL both runs on the store as it is, and
    neither may change its rows."""
    if url.startswith("sqlite:///"):
        return quick_and_usual(Path(url.removeprefix("sqlite:///")), *args)
    before = postgres_rows(url)
    quick = run("--db", url, *args)
    assert postgres_rows(url) == before
    usual = run("--db", usual_url(url), *args)
    assert postgres_rows(url) == before
    return quick, usual


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def remove_store(store: Path) -> None:
    """The store's files (a folder in its place stays)."""
    for suffix in ("", "-wal", "-shm"):
        if not Path(f"{store}{suffix}").is_dir():
            Path(f"{store}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def store(sqlite_url: str) -> Path:
    return Path(sqlite_url.removeprefix("sqlite:///"))


@pytest.fixture
def grades(tmp_path: Path) -> Path:
    path = tmp_path / "grades.csv"
    path.write_text(GRADES)
    return path


@pytest.mark.parametrize("output", [["--format", "json"], [], ["--format", "table"]])
def test_stored_bytes_are_answered_without_sqlalchemy_as_the_usual_path_answers(
    db_url: str, grades: Path, output: list[str]
) -> None:
    first_ingest(db_url, grades)
    quick, usual = quick_and_usual_at(db_url, "ingest", str(grades), *output)
    assert quick == usual
    assert quick[0] == 0 and b"unchanged" in quick[1] and quick[2] == b""
    line = imported("--db", db_url, "ingest", str(grades), *output)
    typer_imported = output != ["--format", "json"]  # the table is printed by the command's code
    assert line == f"exit=0 sqlalchemy=False typer={typer_imported}"


def test_the_format_before_the_file_and_a_sec_file_are_answered_too(
    store: Path, tmp_path: Path
) -> None:
    section = tmp_path / "S9.01F25.SEC"
    section.write_text('S9.01F25 4.0\n"Smith, John","0000001","A-"\n')
    url = f"sqlite:///{store}"
    first_ingest(url, section)
    quick, usual = quick_and_usual(store, "ingest", "--format", "json", str(section))
    assert quick == usual and b'"status": "unchanged"' in quick[1]
    assert imported("--db", url, "ingest", "--format", "json", str(section)).endswith(
        "sqlalchemy=False typer=False"
    )


def test_the_store_from_the_environment_is_answered_as_the_usual_path(
    store: Path, grades: Path
) -> None:
    first_ingest(f"sqlite:///{store}", grades)
    env = {config.ENV_DATABASE_URL: str(store)}  # a bare path: a SQLite file
    quick = run("ingest", str(grades), "--format", "json", env=env)
    usual = run("--db", f"sqlite+pysqlite:///{store}", "ingest", str(grades), "--format", "json")
    assert quick == usual
    assert imported("ingest", str(grades), "--format", "json", env=env).endswith(
        "sqlalchemy=False typer=False"
    )


@pytest.mark.parametrize(
    "name",
    [
        "grades [old] é.csv",
        "spaces and 'quotes\" .csv",
        "new\nline.csv",
        "tab\tand \x1b[31mescape.csv",
        "Ünïcödé 成绩.CSV",
    ],
)
@pytest.mark.parametrize("output", [["--format", "json"], []])
def test_hostile_file_names_get_the_usual_path_s_bytes(
    store: Path, tmp_path: Path, name: str, output: list[str]
) -> None:
    grades = tmp_path / name
    grades.write_text(GRADES)
    first_ingest(f"sqlite:///{store}", grades)
    quick, usual = quick_and_usual(store, "ingest", str(grades), *output)
    assert quick == usual and quick[0] == 0


def test_a_name_standard_output_cannot_encode_gets_the_usual_path(
    store: Path, tmp_path: Path
) -> None:
    grades = tmp_path / "plain é.csv"
    grades.write_text(GRADES)
    first_ingest(f"sqlite:///{store}", grades)
    env = {"PYTHONIOENCODING": "ascii"}
    quick, usual = quick_and_usual(store, "ingest", str(grades), "--format", "json", env=env)
    assert quick == usual and quick[0] == os.EX_SOFTWARE  # the command's own failure
    # Not answered before Typer: the command writes it, and fails, where it always did.
    assert "typer=True" in imported(
        "--db", f"sqlite:///{store}", "ingest", str(grades), "--format", "json", env=env
    )


def change_nothing(store: Path, grades: Path) -> None:
    pass


def change_the_file(store: Path, grades: Path) -> None:
    grades.write_text(GRADES.replace("John,C", "John,D"))


def delete_a_grade_by_hand(store: Path, grades: Path) -> None:
    with sqlite3.connect(store) as connection:
        connection.execute("DELETE FROM enrollments WHERE grade = 'C'")
    connection.close()


def downgrade_the_store(store: Path, grades: Path) -> None:
    code, _, stderr = run("--db", f"sqlite:///{store}", "db", "downgrade", "0009")
    assert code == 0, stderr


def write_a_newer_revision(store: Path, grades: Path) -> None:
    """A store a newer gradestore upgraded (its tables otherwise the same)."""
    with sqlite3.connect(store) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0011'")
    connection.close()


def leave_the_journal(store: Path, grades: Path) -> None:
    with sqlite3.connect(store) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
    connection.close()


def remove_the_store(store: Path, grades: Path) -> None:
    store.unlink()


def make_the_store_a_folder(store: Path, grades: Path) -> None:
    store.unlink()
    store.mkdir()


def damage_the_store(store: Path, grades: Path) -> None:
    store.write_bytes(b"not a database" * 1000)


@pytest.mark.parametrize(
    "change",
    [
        change_the_file,
        delete_a_grade_by_hand,
        downgrade_the_store,
        write_a_newer_revision,
        leave_the_journal,
        remove_the_store,
        make_the_store_a_folder,
        damage_the_store,
    ],
)
@pytest.mark.parametrize("output", [["--format", "json"], []])
def test_what_is_not_certain_gets_the_usual_path(
    store: Path, grades: Path, change: object, output: list[str]
) -> None:
    first_ingest(f"sqlite:///{store}", grades)
    change(store, grades)  # type: ignore[operator]
    assert answer_unchanged(f"sqlite:///{store}", [grades]) is None
    saved = store.with_name("changed.db")
    if store.is_file():
        shutil.copyfile(store, saved)
    line = imported("--db", f"sqlite:///{store}", "ingest", str(grades), *output)
    assert "sqlalchemy=True" in line
    remove_store(store)
    if saved.exists():
        shutil.copyfile(saved, store)
    quick, usual = quick_and_usual(store, "ingest", str(grades), *output)
    assert quick == usual


def test_a_missing_store_is_not_created_by_the_quick_answer(tmp_path: Path, grades: Path) -> None:
    """Today's ingest creates a missing store (the usual path); the quick answer does not."""
    missing = tmp_path / "folder" / "new.db"
    assert answer_unchanged(f"sqlite:///{missing}", [grades]) is None
    assert not missing.parent.exists()
    quick, usual = quick_and_usual(missing, "ingest", str(grades), "--format", "json")
    assert quick == usual and quick[0] == 0 and b'"status": "stored"' in quick[1]


def test_a_file_stored_again_in_part_is_read_and_compared_by_the_usual_path(
    store: Path, grades: Path
) -> None:
    """A file that stored only some of its grades (the rest were there) keeps no proof: its
    next re-ingest reads it (and says unchanged after comparing), as before."""
    url = f"sqlite:///{store}"
    first_ingest(url, grades)
    delete_a_grade_by_hand(store, grades)
    code, out, _ = run("--db", url, "ingest", str(grades), "--format", "json")
    assert code == 0 and b'"status": "stored"' in out and b'"grades_added": 1' in out
    assert answer_unchanged(url, [grades]) is None
    quick, usual = quick_and_usual(store, "ingest", str(grades), "--format", "json")
    assert quick == usual and b'"status": "unchanged"' in quick[1]


def test_options_that_change_the_answer_and_other_lines_get_the_usual_path(
    store: Path, grades: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{store}"
    first_ingest(url, grades)
    assert answer_unchanged(url, [grades]) is not None
    for options in (
        IngestOptions(dry_run=True),
        IngestOptions(replace=True),
        IngestOptions(group="G"),
    ):
        assert answer_unchanged(url, [grades], options) is None
    assert answer_unchanged(url, [grades, grades]) is None
    assert answer_unchanged(url, [tmp_path]) is None  # a folder
    assert answer_unchanged(url, [tmp_path / "missing.csv"]) is None
    lst = tmp_path / "work.lst"
    lst.write_text("")
    assert answer_unchanged(url, [lst]) is None
    for args in (
        ["ingest", str(grades), "--dry-run", "--format", "json"],
        ["ingest", str(grades), str(grades), "--format", "json"],
        ["ingest", str(grades), "--format", "JSON"],
        ["ingest", str(grades), "--format=json"],
    ):
        quick, usual = quick_and_usual(store, *args)
        assert quick == usual, args


def test_a_store_held_by_a_writer_gets_the_usual_path(store: Path, grades: Path) -> None:
    """The usual path waits for the writer (whose work may change the answer)."""
    url = f"sqlite:///{store}"
    first_ingest(url, grades)
    writer = sqlite3.connect(store, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        assert answer_unchanged(url, [grades]) is None
        writer.execute("ROLLBACK")
        assert answer_unchanged(url, [grades]) is not None
    finally:
        writer.close()


def test_a_store_this_process_may_not_write_gets_the_usual_path(
    store: Path, grades: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Mocked: these tests run as root, whom no file mode stops.)"""
    url = f"sqlite:///{store}"
    first_ingest(url, grades)
    real = os.access
    for unwritable in (store, store.parent):
        monkeypatch.setattr(
            quick_sqlite.os,
            "access",
            lambda path, mode, _u=unwritable: (
                real(path, mode) and not (Path(path) == _u and mode & os.W_OK)
            ),
        )
        assert answer_unchanged(url, [grades]) is None
    monkeypatch.setattr(quick_sqlite.os, "access", real)
    assert answer_unchanged(url, [grades]) is not None


def test_the_quick_answer_is_sources_store_s_answer(db_url: str, grades: Path) -> None:
    """The same question in both stores, on each backend: the file's newest row whose proof
    holds."""
    from gradestore.persistence import quick_postgres

    first_ingest(db_url, grades)
    quick_store = quick_postgres if db_url.startswith("postgresql") else quick_sqlite
    database = db.open_store(db_url)
    try:
        with database(write=False) as unit:
            digest = unit.connection.execute(text("SELECT sha256 FROM source_files")).scalar()
        assert isinstance(digest, str)
        for statement in (
            None,
            "UPDATE source_files SET sections_stored = 7, grades_stored = 9",
            "INSERT INTO source_files (path, sha256, ingested_at, row_count, grades_stored,"
            " sections_stored) VALUES ('other', :sha, '2026-01-01', 5, 5, 1)",
            "UPDATE source_files SET grades_stored = 0 WHERE path = 'other'",
            "UPDATE source_files SET grades_stored = 0",
        ):
            if statement is not None:
                with database(write=True) as unit:
                    unit.connection.execute(text(statement), {"sha": digest})
                    unit.commit()
            with database(write=False) as unit:
                expected = unit.sources.unchanged_source(digest)
            quick = quick_store.open_at_head(db_url)
            assert quick is not None
            try:
                assert quick.unchanged_source(digest) == expected, statement
                assert quick.unchanged_source("0" * 64) is None
            finally:
                quick.close()
    finally:
        database.dispose()


def test_the_expected_revision_is_the_store_s_head() -> None:
    assert quick_sqlite.HEAD_REVISION == db.HEAD_REVISION == db.head_revision()


@pytest.mark.parametrize(
    "database",
    [
        "/tmp/a b/store.db",
        "relative/store.db",
        "/tmp/x@y:z/store.db",
        "/tmp/[brackets]/st&re=1.db",
        "/tmp/Ünï/成绩.db",
        "//double//slash.db",
    ],
)
def test_a_plain_sqlite_url_names_the_file_sqlalchemy_opens(database: str) -> None:
    url = f"sqlite:///{database}"
    assert config.check_url(config.DatabaseSetting(url, "--db"))
    parsed = make_url(url)
    assert parsed.get_backend_name() == "sqlite" and not parsed.query
    assert parsed.database is not None
    assert quick_sqlite.plain_sqlite_file(url) == Path(os.path.abspath(parsed.database))


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///a%20b.db",  # SQLAlchemy unescapes it
        "sqlite:///store.db?mode=ro&uri=true",
        "sqlite:///store.db#x",
        "sqlite:///~/store.db",
        "sqlite:///:memory:",
        "sqlite://",
        "sqlite:///",
        "sqlite:///file:store.db",
        "sqlite+pysqlite:///store.db",
        "SQLITE:///store.db",
        "postgresql+psycopg://user:secret@host/db",
    ],
)
def test_other_urls_are_not_taken(url: str) -> None:
    assert quick_sqlite.plain_sqlite_file(url) is None
    assert answer_unchanged(url, [Path("grades.csv")]) is None


def test_a_digest_computed_for_a_file_that_must_be_read_is_not_computed_again(
    store: Path, grades: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{store}"
    calls: list[Path] = []
    real = ingest.file_sha256
    monkeypatch.setattr(ingest, "file_sha256", lambda path: calls.append(path) or real(path))
    assert answer_unchanged(url, [grades]) is None  # an empty store: hashed, not there
    assert ingest._sha256(grades) == real(grades) and len(calls) == 1
    assert answer_unchanged(url, [grades]) is None
    grades.write_text(GRADES + "S3,004,Lee,Ann,B\n")  # written since: hashed again
    assert ingest._sha256(grades) == real(grades) and len(calls) == 3


# --- the command line taken before Typer is one Typer reads the same way ---------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ingest", "g.csv"],
        ["ingest", "g.csv", "--format", "json"],
        ["ingest", "--format", "table", "g.csv"],
        ["--db", "sqlite:///s.db", "ingest", "g.csv", "--format", "json"],
        ["--db=sqlite:///s.db", "ingest", "--format", "json", "dir/g.csv"],
        ["--db", "s.db", "ingest", "a b [c].csv"],
    ],
)
def test_a_plain_ingest_line_is_what_typer_parses(args: list[str]) -> None:
    line = entry.plain_ingest(args)
    assert line is not None
    group = get_command(cli.build_app("ingest"))
    root = group.make_context("gradestore", list(args))
    rest = [*root._protected_args, *root.args]  # type: ignore[attr-defined]
    command = group.get_command(root, rest[0])  # type: ignore[attr-defined]
    assert command is not None
    parsed = command.make_context(rest[0], rest[1:], parent=root)
    assert (root.params["db"], parsed.params["paths"], parsed.params["output_format"]) == (
        line[0],
        [Path(line[1])],
        line[2],
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--version"],
        ["ingest"],
        ["ingest", "--help"],
        ["ingest", "g.csv", "-h"],
        ["ingest", "a.csv", "b.csv"],
        ["ingest", "g.csv", "--format"],
        ["ingest", "g.csv", "--format", "JSON"],
        ["ingest", "g.csv", "--format=json"],
        ["ingest", "g.csv", "--dry-run"],
        ["ingest", "g.csv", "--replace", "--format", "json"],
        ["ingest", "-", "--format", "json"],
        ["ingest", "--", "g.csv"],
        ["ingest", ""],
        ["--db", "--version", "ingest", "g.csv"],
        ["--db"],
        ["--db", "s.db", "--db", "t.db", "ingest", "g.csv"],
        ["report", "g.csv"],
        ["ingest", "g.csv", "--format", "json", "--format", "table"],
    ],
)
def test_any_other_line_goes_to_typer(args: list[str]) -> None:
    assert entry.plain_ingest(args) is None


@pytest.mark.parametrize("output", [["--format", "json"], []])
def test_a_summary_that_cannot_be_written_fails_as_in_the_usual_path(
    store: Path, grades: Path, output: list[str]
) -> None:
    """Standard output on a full disk (/dev/full): the command's own one line and exit code."""
    first_ingest(f"sqlite:///{store}", grades)
    outcomes = []
    for url in (f"sqlite:///{store}", f"sqlite+pysqlite:///{store}"):
        with open("/dev/full", "w") as full:
            completed = subprocess.run(
                [sys.executable, "-m", "gradestore", "--db", url, "ingest", str(grades), *output],
                stdout=full,
                stderr=subprocess.PIPE,
                timeout=120,
            )
        outcomes.append((completed.returncode, completed.stderr))
    assert outcomes[0] == outcomes[1] and outcomes[0][0] != 0
