"""Start-up: a command line that names a command builds that command alone, and behaves as
the whole application does (gradestore.cli.build_app, command_named)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from gradestore import cli


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        sub = getattr(command, "commands", None)
        if not sub:
            paths.append(prefix)
            return
        for name, child in sub.items():
            walk(child, [*prefix, name])

    walk(get_command(cli.build_app()), [])
    return paths


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["report", "--section", "S"], "report"),
        (["--db", "sqlite:///x.db", "report"], "report"),
        (["--db", "report", "report"], "report"),
        (["--db=sqlite:///x.db", "db", "current"], "db"),
        (["analyses", "list"], "analyses"),
        (["zscore", "--group", "G"], "zscore"),
        (["--help"], None),
        (["-h", "report"], None),
        (["--version"], None),
        (["--db", "x"], None),
        (["reprot"], None),
        ([], None),
    ],
)
def test_the_command_a_command_line_names(args: list[str], named: str | None) -> None:
    assert cli.command_named(args) == named


def test_the_whole_application_has_every_command() -> None:
    commands = get_command(cli.app).commands  # type: ignore[attr-defined]
    assert sorted(commands) == sorted([*cli.SUB_APPS, *cli.COMMANDS])
    assert not set(cli.SUB_APPS) & set(cli.COMMANDS)


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_a_command_built_alone_answers_as_in_the_whole_application(path: list[str]) -> None:
    for args in (
        [*path, "--help"],
        [*path, "--no-such-option"],
        ["--db", "sqlite:///:memory:", *path, "-h"],
    ):
        whole = CliRunner().invoke(cli.build_app(), args)
        alone = CliRunner().invoke(cli.build_app(cli.command_named(args)), args)
        assert cli.command_named(args) in (path[0], None)
        assert (alone.exit_code, alone.stdout, alone.stderr) == (
            whole.exit_code,
            whole.stdout,
            whole.stderr,
        ), args


def test_a_command_imports_no_other_commands_module() -> None:
    code = (
        "import sys\nsys.argv = ['gradestore', 'report', '--help']\n"
        "from gradestore.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "others = sorted(m for m in sys.modules if m.endswith('_command'))\n"
        "sys.stderr.write(f'{others}\\n')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert completed.stderr.splitlines()[-1] == "['gradestore.cli.report_command']"


# --- ingest: the same bytes again are answered without the ORM, each file hashed once -------


def _ingest_and_count_hashes(monkeypatch: pytest.MonkeyPatch, db_url: str, csv: str) -> int:
    from gradestore import ingest, ingest_direct, ingest_staged
    from tests.helpers import run_cli

    calls: list[str] = []
    real = ingest.file_sha256

    def counted(path: object) -> str:
        calls.append(str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "file_sha256", counted)
    monkeypatch.setattr(ingest_direct, "file_sha256", counted)
    monkeypatch.setattr(ingest_staged, "file_sha256", counted)
    result = run_cli("--db", db_url, "ingest", csv, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return len(calls)


@pytest.mark.parametrize("rows", [3, 40_000])  # the usual path; a plain file's direct load
def test_an_ingest_hashes_its_file_once(
    monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path, rows: int
) -> None:
    csv = tmp_path / "grades.csv"
    lines = ["section,student_id,last_name,first_name,grade"]
    lines += [f"S{i // 30:05d}.01F25,{i:07d},Last{i},First{i},B" for i in range(rows)]
    csv.write_text("\n".join(lines) + "\n")
    assert _ingest_and_count_hashes(monkeypatch, db_url, str(csv)) == 1
    assert _ingest_and_count_hashes(monkeypatch, db_url, str(csv)) == 1  # unchanged


def test_the_same_bytes_again_import_no_orm_pandas_pydantic_rich_or_reader(
    sqlite_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "grades.csv"
    csv.write_text("section,student_id,last_name,first_name,grade\nS1.01F25,0001,Lee,Ann,A\n")
    first = subprocess.run(
        [sys.executable, "-m", "gradestore", "--db", sqlite_url, "ingest", str(csv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    code = (
        "import sys\nfrom gradestore.cli import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
        "heavy = sorted({m for m in sys.modules if m.startswith(("
        "'sqlalchemy.orm', 'gradestore.persistence.models', 'pandas', 'numpy', 'pydantic',"
        " 'alembic', 'rich', 'gradestore.ingest_', 'gradestore.readers.', 'gradestore.render',"
        " 'gradestore.results', 'gradestore.persistence.rows'))}"
        " - {'gradestore.readers.identity'})\n"
        "sys.stderr.write(f'exit={code} heavy={heavy}\\n')\n"
    )
    again = subprocess.run(
        [sys.executable, "-c", code, "--db", sqlite_url, "ingest", str(csv), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.stderr.splitlines()[-1] == "exit=0 heavy=[]", again.stderr
    assert '"status": "unchanged"' in again.stdout


def test_the_ingest_summary_is_render_s_json_byte_for_byte() -> None:
    """The command writes its JSON summary without render; the bytes are render's."""
    from gradestore import render
    from gradestore.cli.ingest_command import summary_json
    from gradestore.ingest import IngestReport, UnitResult
    from gradestore.kinds import FileKind, FileStatus
    from gradestore.readers.records import Problem

    warned = UnitResult('Ünï "q".csv', FileKind.CSV, FileStatus.STORED, files=1)
    warned.warn(Problem('Ünï "q".csv', 2, "student 1 is stored as 'Łee, Ann'", is_warning=True))
    bad = Problem("bad.sec", None, "cannot read: Permission denied")
    report = IngestReport(
        units=[
            warned,
            UnitResult("a.sec", FileKind.SEC, FileStatus.UNCHANGED, 1, sections_unchanged=1),
            UnitResult("bad.sec", FileKind.SEC, FileStatus.REJECTED, files=1, errors=[bad]),
        ],
        skipped_files=["notes \u00e9.txt"],
        dry_run=True,
    )
    assert summary_json(report) == render.ingest_json(report)


def test_a_plain_file_loaded_directly_imports_no_orm_or_alembic(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The direct load (ingest_direct) writes with SQLAlchemy Core and the DBAPI alone: the
    ORM models, about 0.1 s of a 1M-grade ingest's start, are not imported."""
    csv = tmp_path / "grades.csv"
    lines = ["section,student_id,last_name,first_name,grade,group,credit_hours,term"]
    lines += [
        f"S{i // 30:05d}.01F25,{i % 9000:07d},Last{i % 9000},First{i % 9000},B,G{i // 120},3,F25"
        for i in range(40_000)
    ]
    csv.write_text("\n".join(lines) + "\n")
    assert csv.stat().st_size > 1 << 20  # large enough for the fast reader
    code = (
        "import sys\nfrom gradestore.cli import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
        "heavy = sorted({m for m in sys.modules if m.startswith(("
        "'sqlalchemy.orm', 'gradestore.persistence.models', 'alembic'))})\n"
        "direct = 'gradestore.ingest_direct' in sys.modules\n"
        "sys.stderr.write(f'exit={code} direct={direct} heavy={heavy}\\n')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--db", sqlite_url, "ingest", str(csv), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stderr.splitlines()[-1] == "exit=0 direct=True heavy=[]", done.stderr
    assert '"grades_added": 40000' in done.stdout
    assert '"memberships_added": 1334' in done.stdout


# --- the cyclic garbage collector: paused for the start-up, running for the command's work ----


def test_the_collector_is_paused_for_the_start_up_and_runs_for_the_work(
    sqlite_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "grades.csv"
    csv.write_text("section,student_id,last_name,first_name,grade\nS1.01F25,0001,Lee,Ann,A\n")
    code = (
        "import gc, sys\n"
        "import gradestore.ingest as ingest, gradestore.persistence.db as db\n"
        "seen = []\n"
        "def spy(real, name):\n"
        "    def call(*args, **kwargs):\n"
        "        seen.append((name, gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "        return real(*args, **kwargs)\n"
        "    return call\n"
        "db.open_store = spy(db.open_store, 'open')\n"
        "ingest.ingest_paths = spy(ingest.ingest_paths, 'ingest')\n"
        "from gradestore.entry import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "sys.stderr.write(f'{seen}\\n')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, "--db", sqlite_url, "ingest", str(csv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    # Opening the store is start-up (collector off); the ingest runs with it on again, the
    # start-up's objects frozen out of its scans.
    expected = "[('open', False, False), ('ingest', True, True)]"
    assert completed.stderr.splitlines()[-1] == expected


def test_resuming_leaves_a_collector_that_start_up_did_not_pause_as_it_is() -> None:
    import gc

    from gradestore import entry

    gc.disable()
    try:
        entry.resume_collector()
        assert not gc.isenabled()
    finally:
        gc.enable()
    entry.pause_collector()
    try:
        assert not gc.isenabled()
    finally:
        entry.resume_collector()
        gc.unfreeze()
    assert gc.isenabled()


# --- ingest's progress: Rich is asked only when standard error may be a terminal -------------


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    "environ",
    [{}, {"FORCE_COLOR": "1"}, {"FORCE_COLOR": ""}, {"TTY_COMPATIBLE": "1"},
     {"TTY_COMPATIBLE": "0"}, {"TERM": "dumb"}],
)  # fmt: skip
@pytest.mark.parametrize("tty", [True, False])
def test_rich_is_skipped_only_where_it_would_see_no_terminal(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], tty: bool
) -> None:
    from rich.console import Console

    from gradestore.cli.ingest_command import may_be_a_terminal

    for variable in ("FORCE_COLOR", "TTY_COMPATIBLE", "TERM"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    stream = _Stream(tty)
    rich_says = Console(file=stream).is_terminal
    if not may_be_a_terminal(stream):
        assert not rich_says
    assert may_be_a_terminal(stream) is (tty or bool(environ.keys() - {"TERM"}))


def test_an_ingest_started_with_standard_error_closed_stores_its_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A cron line with ``2>&-``: Python then has no sys.stderr, and asking it whether it is
    a terminal must not fail the ingest."""
    import os

    from sqlalchemy import create_engine, text

    csv = tmp_path / "grades.csv"
    csv.write_text("section,student_id,last_name,first_name,grade\nS1.01F25,0001,Lee,Ann,A\n")
    completed = subprocess.run(
        [sys.executable, "-m", "gradestore", "--db", sqlite_url, "ingest", str(csv)],
        stdout=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(2),
    )
    assert completed.returncode == 0, completed.stdout
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM enrollments")).scalar_one() == 1
    engine.dispose()


# --- a section's, a group's or a student's report as JSON: no Rich, no ORM, no Alembic -------

# What start-up leaves out of these reports (JSON is written without Rich).
_NOT_IMPORTED_BY_A_JSON_REPORT = ("rich", "sqlalchemy.orm", "gradestore.persistence.models",
                                  "alembic", "pandas", "numpy", "scipy", "pydantic")  # fmt: skip


def test_a_json_report_of_one_section_group_or_student_imports_no_rich(
    sqlite_url: str, tmp_path: Path
) -> None:
    from tests.helpers import run_cli

    csv = tmp_path / "grades.csv"
    csv.write_text(
        "section,student_id,last_name,first_name,grade,group\n"
        "S1.01F25,0001,Lee,Ann,A,G\nS1.01F25,0002,Kim,Bo,D,G\nS2.01F25,0001,Lee,Ann,B,G\n"
    )
    assert run_cli("--db", sqlite_url, "ingest", str(csv)).exit_code == 0
    assert run_cli("--db", sqlite_url, "analyze").exit_code == 0
    code = (
        f"import sys\nNOT = {_NOT_IMPORTED_BY_A_JSON_REPORT!r}\n"
        "from gradestore.entry import main\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "sys.stderr.write(f'{sorted({m for m in sys.modules if m.startswith(NOT)})}\\n')\n"
    )
    for option, value in (("--section", "S1.01F25"), ("--group", "G"), ("--student", "0001")):
        args = ["--db", sqlite_url, "report", option, value, "--format", "json"]
        completed = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
        )
        assert completed.returncode == 0, completed.stderr
        assert completed.stderr.splitlines()[-1] == "[]", (option, completed.stderr)
        assert completed.stdout == run_cli(*args).stdout  # the same bytes as in-process
