"""The console script: answers ``gradestore --version`` before anything heavy is imported.

Everything else goes to the Typer application in :mod:`gradestore.cli`, whose import (Typer,
Click, the command modules) costs a tenth of a second or more; a version check should not.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from gradestore import __version__

        sys.stdout.write(f"gradestore {__version__}\n")
        return
    from gradestore.cli import main as cli_main

    cli_main()
