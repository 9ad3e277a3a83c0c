"""The console script: answers ``gradestore --version`` and ``--help`` (:mod:`gradestore.root_help`)
before anything heavy is imported, and the re-ingest of stored bytes, ``gradestore [--db URL]
ingest FILE [--format json|table]``, before Typer and SQLAlchemy are (when a SQLite or
PostgreSQL store surely holds FILE's bytes unchanged: gradestore.ingest.answer_unchanged).

Everything else goes to the Typer application in :mod:`gradestore.cli`, whose import (Typer,
Click, the command modules) costs a tenth of a second or more; a version check should not.
The re-ingest's command line is taken here only in its plainest shapes (below), which Typer
would parse into the same values; any other line, and any answer that is not certain, goes
to Typer and the command as always.

Start-up pauses Python's cyclic garbage collector: importing Typer, SQLAlchemy and a database
driver makes some 64,000 container objects that live as long as the process, and the collector
would scan them again and again, and once more at exit, while finding almost nothing (a few
hundred objects of the imports are garbage): a fifth of a report's CPU. The collector runs
again, with those objects set aside for good (``gc.freeze``), once the store is open, before a
command does its work (:func:`resume_collector`).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import TextIO

_collector_paused = False


def pause_collector() -> None:
    """Stop the cyclic collector for the start-up (see the module's docstring)."""
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def resume_collector() -> None:
    """Start the collector again if start-up paused it, keeping what start-up made out of its
    scans from now on; a no-op otherwise (a collector stopped by whoever embeds gradestore
    stays stopped)."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()


def main() -> None:
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        _hold_closed_streams()
    args = sys.argv[1:]
    if args == ["--version"]:
        from gradestore import __version__

        _answer(f"gradestore {__version__}\n")
        return
    from gradestore import root_help

    if root_help.answers(args):
        _answer(root_help.ROOT_HELP)
        return
    pause_collector()
    if answered_before_typer(args):
        return
    from gradestore.cli import main as cli_main

    cli_main()


def _answer(page: str) -> None:
    """Write a page that needs no command, failing as a command's output does: a reader that
    went away ends quietly (exit 141), a full disk or another write error in one line (74)."""
    try:
        sys.stdout.write(page)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        raise SystemExit(141) from None
    except OSError as error:
        sys.stderr.write(f"gradestore: standard output: {error.strerror or error}\n")
        raise SystemExit(os.EX_IOERR) from None


def _hold_closed_streams() -> None:
    """A standard stream closed by the caller (``gradestore ... >&-``): the next file opened
    would take its descriptor, and whatever wrote to that stream would write into the file
    (the store itself). Each closed descriptor is held by /dev/null; closed input and error
    streams then read and write nothing, and a closed output ends the command before it does
    anything, in one line (exit 74): there is nowhere to show what it did."""
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != descriptor:
                os.dup2(devnull, descriptor)
                os.close(devnull)
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    if sys.stdout is None:
        sys.stderr.write("gradestore: standard output is closed: nothing was done\n")
        raise SystemExit(os.EX_IOERR)


def plain_ingest(args: list[str]) -> tuple[str | None, str, str] | None:
    """``(--db value or None, FILE, format)`` for ``[--db URL | --db=URL] ingest FILE``, with
    ``--format json`` or ``--format table`` after or before FILE, each once; None for any
    other line (a help, another option, two files, a value that starts with ``-``, ...)."""
    db: str | None = None
    if args[:1] == ["--db"] and len(args) > 1:
        db, args = args[1], args[2:]
    elif args[:1] and args[0].startswith("--db="):
        db, args = args[0].removeprefix("--db="), args[1:]
    if db is not None and db.startswith("-"):
        return None
    if args[:1] != ["ingest"]:
        return None
    args = args[1:]
    output_format = "table"
    if len(args) == 3 and args[0] == "--format":
        output_format, args = args[1], args[2:]
    elif len(args) == 3 and args[1] == "--format":
        output_format, args = args[2], args[:1]
    if output_format not in ("json", "table") or len(args) != 1:
        return None
    path = args[0]
    if not path or path.startswith("-"):
        return None
    return db, path, output_format


def answered_before_typer(args: list[str]) -> bool:
    """Whether the command line was a plain re-ingest of bytes a store holds unchanged,
    and its summary has been printed: the bytes, the exit code (0) and the silence on
    standard error of the command's usual path. False (nothing printed) when it is not."""
    line = plain_ingest(args)
    if line is None or sys.stdout is None or sys.stderr is None or may_be_a_terminal(sys.stderr):
        return False  # a terminal's standard error gets the progress display's codes
    db, file, output_format = line
    try:
        from pathlib import Path

        from gradestore.ingest import IngestOptions, answer_unchanged, summary_json

        report = answer_unchanged(db, [Path(file)], IngestOptions())
        if report is None or not _encodable(file, sys.stdout, table=output_format == "table"):
            return False
        if output_format == "json":
            sys.stdout.write(summary_json(report))
        else:
            from gradestore.cli.ingest_command import print_table

            print_table(report)
    except (OSError, KeyboardInterrupt) as error:  # writing the summary, or Ctrl-C
        raise SystemExit(_as_the_command_ends(error)) from None
    return True


def _as_the_command_ends(error: BaseException) -> int:
    """What the command's own handling (cli.common.handle_errors) does with ``error``: its
    one line on standard error (a closed pipe: none), and the exit code it returns."""
    import typer

    from gradestore.cli.common import handle_errors

    def failing() -> None:
        raise error

    try:
        handle_errors(failing)()
    except typer.Exit as ended:
        return int(ended.exit_code)
    raise AssertionError("handle_errors let the error through")  # pragma: no cover


def _encodable(text: str, stream: TextIO, *, table: bool) -> bool:
    """Whether ``text`` (the file's name, the summary's one value not ours) can be written to
    ``stream`` as the usual path would, without an error; the table only on UTF-8 (what Rich
    draws it with elsewhere is Rich's to choose, in the usual path)."""
    import codecs

    encoding = getattr(stream, "encoding", None) or "utf-8"
    if table and codecs.lookup(encoding).name != "utf-8":
        return False
    try:
        text.encode(encoding, getattr(stream, "errors", None) or "strict")
    except (UnicodeError, LookupError):
        return False
    return True


def may_be_a_terminal(stream: TextIO | None) -> bool:
    """False when Rich would surely not take ``stream`` for a terminal: it is no tty and
    neither TTY_COMPATIBLE nor FORCE_COLOR says otherwise (then Rich is not imported).
    ``stream`` is None when the process was started with that descriptor closed."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return True
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (ValueError, OSError):  # closed
        return False
