"""The command line: parse options, call one use case, render. No SQL, no statistics.

Heavy libraries (SQLAlchemy, pandas, scipy) are imported inside commands, so that
``gradestore --version`` and ``--help`` start fast.
"""

from __future__ import annotations

import typer

from gradestore import __version__
from gradestore.cli import (
    analyses_command,
    analyze_command,
    db_command,
    fast_params,
    groups_command,
    ingest_command,
    report_command,
    scale_command,
    sources_command,
    terms_command,
)
from gradestore.cli.common import AppState

# Option values of the plain types converted without importing pydantic (start-up time).
fast_params.install()

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


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"gradestore {__version__}")
        raise typer.Exit()


@app.callback()
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


app.add_typer(db_command.app, name="db")
app.add_typer(scale_command.app, name="scale")
app.add_typer(analyses_command.app, name="analyses")
app.add_typer(sources_command.app, name="sources")
app.add_typer(groups_command.app, name="groups")
ingest_command.register(app)
analyze_command.register(app)
report_command.register(app)
terms_command.register(app)


def main() -> None:
    try:
        app(prog_name="gradestore")
    except BrokenPipeError:  # outside a command (help, a usage error) the reader went away
        from gradestore.cli.common import EXIT_CLOSED_PIPE, closed_pipe

        closed_pipe()
        raise SystemExit(EXIT_CLOSED_PIPE) from None
    except Exception:
        # A bug, not a user's mistake (those are one line): the traceback helps whoever fixes
        # it, but never shows a password from a database URL.
        import os
        import sys
        import traceback

        from gradestore.config import mask_secrets

        sys.stderr.write(mask_secrets(traceback.format_exc()))
        sys.exit(os.EX_SOFTWARE)
