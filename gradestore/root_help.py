"""``gradestore --help`` answered without importing Typer (issue 16: ``--help`` <= 0.1 s).

Importing Typer and its Click and building every command takes longer than the target on
these machines, for a page that only changes when a command or its help does. So the page is
kept here as Typer writes it at the width it uses on any terminal of 80 columns or more, and
in a pipe; any other command line, width or completion request goes to Typer.
tests/cli/test_root_help.py checks the page is still Typer's, byte for byte; after changing a
command or its help, write it again with ``python -m gradestore.root_help``.
"""

from __future__ import annotations

import os
import sys

# The page at Click's widest (its help is wrapped to min(columns, 80) - 2).
WIDE_COLUMNS = 80

ROOT_HELP = """\
Usage: gradestore [OPTIONS] COMMAND [ARGS]...

  Ingest student grade files, analyse them (GPA, group statistics, z-tests,
  good and work lists) and keep the results in SQL.

Options:
  --db URL    Database URL (sqlite:///path.db or postgresql://...). Default:
              $GRADESTORE_DATABASE_URL, else the config file, else a SQLite
              file in your data folder.
  --version   Print the version and exit.
  -h, --help  Show this message and exit.

Commands:
  ingest    Store grade files, each file whole or not at all.
  analyze   Compute section and group statistics, z-tests and the good...
  zscore    List the stored z-tests of an analysis, sections and groups,...
  report    Report a stored analysis (the latest by default); with no...
  terms     List the stored terms in time order (Winter, Spring, Summer,...
  db        Show or change the database schema (Alembic migrations).
  scale     The store's grade scale: which letters exist, their points,...
  analyses  The stored analyses: list them (newest first), show, compare,...
  sources   The ingested files (provenance) and what the store still...
  groups    Groups of sections.
"""


def answers(args: list[str]) -> bool:
    """Whether ``args`` (after the program's name) is the help that :data:`ROOT_HELP` holds."""
    return (
        args in (["--help"], ["-h"])
        and terminal_columns() >= WIDE_COLUMNS
        # Click's shell completion (`_GRADESTORE_COMPLETE=...`) answers instead of the help.
        and not any(name.startswith("_GRADESTORE_COMPLETE") for name in os.environ)
    )


def terminal_columns() -> int:
    """The width Click wraps help to, as ``shutil.get_terminal_size()`` finds it (without
    importing shutil, which costs more than the rest of this module)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    try:
        lines = int(os.environ["LINES"])
    except (KeyError, ValueError):
        lines = 0
    if columns <= 0 or lines <= 0:
        try:
            size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            size = os.terminal_size((80, 24))
        if columns <= 0:
            columns = size.columns or 80
    return columns


def typer_page() -> str:
    """The page as Typer writes it now, at :data:`WIDE_COLUMNS` (for the test, and to write
    this module again)."""
    import subprocess

    completed = subprocess.run(
        [sys.executable, "-c", "from gradestore.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(WIDE_COLUMNS), "LINES": "24"},
        check=True,
        timeout=120,
    )
    return completed.stdout


def _write_this_module() -> None:
    from pathlib import Path

    page = typer_page()
    if '"""' in page or "\\" in page or "@@PAGE@@" in page:
        raise SystemExit("the help page holds characters this module cannot keep as they are")
    path = Path(__file__)
    source = path.read_text(encoding="utf-8")
    start = source.index('ROOT_HELP = """\\\n') + len('ROOT_HELP = """\\\n')
    end = source.index('"""', start)
    path.write_text(source[:start] + page + source[end:], encoding="utf-8")


if __name__ == "__main__":
    _write_this_module()
