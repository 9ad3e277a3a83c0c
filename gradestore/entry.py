"""The console script: answers ``gradestore --version`` before anything heavy is imported.

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
    if sys.argv[1:] == ["--version"]:
        from gradestore import __version__

        sys.stdout.write(f"gradestore {__version__}\n")
        return
    pause_collector()
    from gradestore.cli import main as cli_main

    cli_main()
