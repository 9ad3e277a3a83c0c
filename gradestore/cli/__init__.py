"""The command line: parse options, call one use case, render. No SQL, no statistics.

Heavy libraries (SQLAlchemy, pandas, scipy) are imported inside commands, so that
``gradestore --version`` and ``--help`` start fast. A command line that names a command
builds only that command (its module imported, its options made by Typer); help, a mistake
or no command builds them all, so every listing and message is Typer's own.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import typer

from gradestore import __version__
from gradestore.cli import fast_params
from gradestore.cli.common import AppState

# Option values of the plain types converted without importing pydantic (start-up time).
fast_params.install()

# The commands, in the order they are added: sub-applications (`db current`, ...), each a
# module's `app`; then each module's `register(app)`, which adds the commands named here.
SUB_APPS = ("db", "scale", "analyses", "sources", "groups")
COMMANDS = {
    "ingest": "ingest",
    "analyze": "analyze",
    "zscore": "analyze",
    "report": "report",
    "terms": "terms",
}


def build_app(only: str | None = None) -> typer.Typer:
    """The application with every command, or with ``only`` that one (for a command line that
    names it: nothing else is imported or built)."""
    app = typer.Typer(
        name="gradestore",
        help="Ingest student grade files, analyse them (GPA, group statistics, z-tests, good and "
        "work lists) and keep the results in SQL.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
        # Plain usage errors and help: one "Error: ..." line a cron log can hold, no boxes.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    for name in SUB_APPS:
        if only in (None, name):
            app.add_typer(_command_module(name).app, name=name)
    for module in dict.fromkeys(COMMANDS.values()):
        if only is None or COMMANDS.get(only) == module:
            _command_module(module).register(app)
    return app


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"gradestore.cli.{name}_command")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"gradestore {__version__}")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="Database URL (sqlite:///path.db or postgresql://...). Default: "
        "$GRADESTORE_DATABASE_URL, else the config file, else a SQLite file in your data folder.",
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    ctx.obj = AppState(db_url=db)
    ctx.call_on_close(ctx.obj.close)


def command_named(args: list[str]) -> str | None:
    """The command a command line names (after the options of `gradestore` itself), or None
    when it names none that exists, or asks for help or the version first."""
    rest = iter(args)
    for arg in rest:
        if arg == "--db":
            next(rest, None)
        elif not arg.startswith("--db="):
            if arg.startswith("-"):
                return None
            return arg if arg in SUB_APPS or arg in COMMANDS else None
    return None


def __getattr__(name: str) -> typer.Typer:
    """``gradestore.cli.app``: the application with every command, built when first asked."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    app = build_app()
    globals()["app"] = app
    return app


def main() -> None:
    try:
        build_app(command_named(sys.argv[1:]))(prog_name="gradestore")
    except BrokenPipeError:  # outside a command (help, a usage error) the reader went away
        from gradestore.cli.common import EXIT_CLOSED_PIPE, closed_pipe

        closed_pipe()
        raise SystemExit(EXIT_CLOSED_PIPE) from None
    except OSError as error:  # writing help or a usage error failed (a full disk)
        import os

        sys.stderr.write(f"gradestore: standard output: {error.strerror or error}\n")
        sys.exit(os.EX_IOERR)
    except Exception:
        # A bug, not a user's mistake (those are one line): the traceback helps whoever fixes
        # it, but never shows a password from a database URL.
        import os
        import traceback

        from gradestore.config import mask_secrets

        sys.stderr.write(mask_secrets(traceback.format_exc()))
        sys.exit(os.EX_SOFTWARE)
