"""The console script: answers ``gradestore --version`` and ``--help`` (:mod:`gradestore.root_help`)
before anything heavy is imported.

Everything else goes to the Typer application in :mod:`gradestore.cli`, whose import (Typer,
Click, the command modules) costs a tenth of a second or more; a version check should not.

Start-up pauses Python's cyclic garbage collector: importing Typer, SQLAlchemy and a database
driver makes some 64,000 container objects that live as long as the process, and the collector
would scan them again and again, and once more at exit, while finding almost nothing (a few
hundred objects of the imports are garbage): a fifth of a report's CPU. The collector runs
again, with those objects set aside for good (``gc.freeze``), once the store is open, before a
command does its work (:func:`resume_collector`).
"""

from __future__ import annotations

import gc
import sys

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
    from gradestore.cli import main as cli_main

    cli_main()


def _answer(page: str) -> None:
    """Write a page that needs no command, failing as a command's output does: a reader that
    went away ends quietly (exit 141), a full disk or another write error in one line (74)."""
    import os

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
    import os

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
