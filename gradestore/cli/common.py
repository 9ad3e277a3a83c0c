"""What every command shares: the database setting, the two consoles, error handling."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ParamSpec, TextIO, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from gradestore.config import DatabaseSetting
    from gradestore.persistence.db import Database

P = ParamSpec("P")
R = TypeVar("R")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class SummaryFormat(StrEnum):
    """For commands whose output is a summary (ingest, analyze): no CSV."""

    table = "table"
    json = "json"


@dataclass
class AppState:
    db_url: str | None
    _database: Database | None = field(default=None, repr=False)

    def database_url(self) -> str:
        return self.database_setting().url

    def database_setting(self) -> DatabaseSetting:
        from gradestore.config import resolve_database

        return resolve_database(self.db_url)

    def close(self) -> None:
        """Close the database connections at the end of the command."""
        if self._database is not None:
            self._database.dispose()
            self._database = None

    def units(self, *, read_only: bool = False) -> Database:
        """The store's unit-of-work factory; the database is created at the latest schema if
        empty, refused if out of date. ``read_only`` commands create nothing: a missing or
        empty database is an error."""
        if self._database is None:
            from gradestore.entry import resume_collector
            from gradestore.persistence.db import open_store

            self._database = open_store(self.database_url(), create=not read_only)
            resume_collector()  # start-up is over: the command's own work begins
        return self._database


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj


def data_console(file: TextIO, **options: Any) -> Console:
    """The one kind of console gradestore prints with: text from data and the file system is
    shown literally (no markup, no emoji codes, no highlighting), so a student named ``[/]``
    or a folder ``[old] grades`` is printed as written. Escaping happens here, once."""
    from rich.console import Console

    return Console(file=file, markup=False, emoji=False, highlight=False, **options)


def stdout_console() -> Console:
    # Piped output is not wrapped at 80 columns: a cron job's log keeps whole lines.
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "200"))
    return data_console(sys.stdout, width=width, soft_wrap=False)


def stderr_console() -> Console:
    return data_console(sys.stderr, soft_wrap=True)


def echo_err(text: str) -> None:
    """One plain line on standard error, control characters made visible."""
    from gradestore.render import visible

    sys.stderr.write(visible(text) + "\n")


def fail(message: str, exit_code: int) -> typer.Exit:
    """Print one line on standard error (secrets masked) and return the Exit to raise."""
    from gradestore.config import mask_secrets

    echo_err(f"gradestore: {mask_secrets(message)}")
    return typer.Exit(exit_code)


# A reader that stops reading (`gradestore report | head`) ends the command quietly with the
# code a shell gives any program killed by SIGPIPE: 128 + 13.
EXIT_CLOSED_PIPE = 141


def closed_pipe() -> typer.Exit:
    """The Exit for a closed standard output; later writes (the interpreter's final flush
    included) go to /dev/null, so nothing more is said."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return typer.Exit(EXIT_CLOSED_PIPE)


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """User errors end as one line on standard error and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from gradestore.errors import GradestoreError

        try:
            return command(*args, **kwargs)
        except GradestoreError as error:
            raise fail(str(error), error.exit_code) from None
        except BrokenPipeError:
            raise closed_pipe() from None
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise fail(f"{where}{error.strerror or error}", os.EX_IOERR) from None
        except KeyboardInterrupt:
            raise fail("interrupted; nothing of the current file was stored", 130) from None

    return wrapper


def write_stdout(text: str) -> None:
    """JSON and CSV go straight to stdout, never through Rich (which would wrap them)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def print_renderables(build: Callable[[bool], list[Any]]) -> None:
    """Print Rich renderables on stdout; ``build(plain)`` makes them plain when piped."""
    console = stdout_console()
    plain = not console.is_terminal
    print_parts(console, build(plain), plain)


def print_parts(console: Console, parts: Iterable[Any], plain: bool) -> None:
    """Print renderables; ``plain`` text (a pipe, a file, cron) has no trailing padding."""
    if not plain:
        for part in parts:
            console.print(part)
        return
    with console.capture() as capture:
        for part in parts:
            console.print(part)
    console.file.write("".join(line.rstrip() + "\n" for line in capture.get().splitlines()))
    console.file.flush()
