"""``gradestore --help`` from the kept page (gradestore.root_help), and what the entry point
does before any command: a closed standard stream, a full disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradestore import root_help

# Runs the console script's entry point, then says on stderr whether Typer was imported.
_ENTRY = (
    "import sys\n"
    "from gradestore.entry import main\n"
    "try:\n    main()\nexcept SystemExit as stop:\n    code = stop.code\nelse:\n    code = 0\n"
    "sys.stderr.write(f'typer imported: {\"typer\" in sys.modules}\\n')\n"
    "sys.exit(code)\n"
)


def _entry(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _ENTRY, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LINES": "24", **env},
        timeout=120,
    )


def _typer(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from gradestore.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LINES": "24", **env},
        timeout=120,
    )


def test_the_kept_page_is_typers_own() -> None:
    # After changing a command or its help: python -m gradestore.root_help
    assert root_help.typer_page() == root_help.ROOT_HELP


@pytest.mark.parametrize("option", ["--help", "-h"])
@pytest.mark.parametrize("columns", ["80", "200"])
def test_help_is_the_kept_page_without_typer(option: str, columns: str) -> None:
    answered = _entry(option, COLUMNS=columns)
    assert answered.returncode == 0
    assert answered.stdout == root_help.ROOT_HELP == _typer(option, COLUMNS=columns).stdout
    assert answered.stderr == "typer imported: False\n"


def test_a_narrow_terminal_gets_typers_page_at_its_width() -> None:
    answered = _entry("--help", COLUMNS="60")
    typer_answer = _typer("--help", COLUMNS="60")
    assert answered.returncode == typer_answer.returncode == 0
    assert answered.stdout == typer_answer.stdout != root_help.ROOT_HELP
    assert max(len(line) for line in answered.stdout.splitlines()) <= 58
    assert answered.stderr == "typer imported: True\n"


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--help", "report"], {}),
        (["report", "--help"], {}),
        (["--help"], {"_GRADESTORE_COMPLETE": "bash_source"}),
    ],
)
def test_other_command_lines_go_to_typer(args: list[str], env: dict[str, str]) -> None:
    answered = _entry(*args, COLUMNS="80", **env)
    assert answered.stderr.splitlines()[-1] == "typer imported: True"
    assert answered.stdout == _typer(*args, COLUMNS="80", **env).stdout


def test_the_terminal_width_is_read_as_shutil_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    for columns in ("100", "79", "0", "-3", "wide", None):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert root_help.terminal_columns() == shutil.get_terminal_size().columns, columns


def _closing(stream: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """gradestore ARGS with a standard stream closed, as `gradestore ARGS >&-` in a shell."""
    redirect = {0: "<&-", 1: ">&-", 2: "2>&-"}[stream]
    return subprocess.run(
        ["sh", "-c", f'exec "$@" {redirect}', "sh", sys.executable, "-m", "gradestore", *args],
        capture_output=stream != 1,
        stderr=subprocess.PIPE if stream == 1 else None,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args", [["--version"], ["--help"], ["db", "--help"], ["--db", "sqlite:///s.db", "analyses"]]
)
def test_a_closed_output_ends_before_anything_is_done(args: list[str], tmp_path: Path) -> None:
    closed = _closing(1, *args, cwd=tmp_path)
    assert closed.returncode == os.EX_IOERR
    assert closed.stderr == "gradestore: standard output is closed: nothing was done\n"
    assert not (tmp_path / "s.db").exists()


def test_closed_input_and_error_streams_are_held_by_dev_null(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    for stream in (0, 2):
        closed = _closing(stream, "--db", f"sqlite:///{store}", "db", "upgrade", cwd=tmp_path)
        assert closed.returncode == 0
        closed = _closing(stream, "--db", f"sqlite:///{store}", "db", "current", cwd=tmp_path)
        assert closed.returncode == 0
        assert "(latest)" in closed.stdout
    # No stream's descriptor was handed to the store: it is still a database.
    import sqlite3

    with sqlite3.connect(store) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--version"], ["--help"], ["db", "--help"]])
def test_a_full_disk_is_one_line(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        answered = subprocess.run(
            [sys.executable, "-m", "gradestore", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "80"},
            timeout=120,
        )
    assert answered.returncode == os.EX_IOERR
    assert answered.stderr == "gradestore: standard output: No space left on device\n"
