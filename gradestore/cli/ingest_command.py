"""`gradestore ingest PATH...`"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gradestore.cli.common import (
    SummaryFormat,
    echo_err,
    handle_errors,
    print_parts,
    state,
    stderr_console,
    stdout_console,
)
from gradestore.entry import may_be_a_terminal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from gradestore.ingest import IngestReport, ProgressCallback
    from gradestore.readers import Problem

MAX_PROBLEMS_SHOWN = 20


def visible(text: str) -> str:
    """render.visible, imported when used: render imports the results model, which
    `gradestore --help` does not need."""
    from gradestore.render import visible as render_visible

    return render_visible(text)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


@handle_errors
def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ...,
        metavar="PATH",
        help="Grade files (.csv, .sec, .grp, .run, .lst, any case) or folders of them.",
        show_default=False,
    ),
    group: str | None = typer.Option(
        None, "--group", metavar="NAME", help="Put every ingested section into this group."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Replace the grades of sections already stored with other grades."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check the files and report what would change; write nothing."
    ),
    output_format: SummaryFormat = typer.Option(
        SummaryFormat.table, "--format", help="The summary as a table (for people) or JSON."
    ),
) -> None:
    """Store grade files, each file whole or not at all. Re-ingesting the same data is a no-op."""
    from gradestore.ingest import IngestOptions, answer_unchanged, ingest_paths

    options = IngestOptions(group=group, replace=replace, dry_run=dry_run)
    terminal = may_be_a_terminal(sys.stderr)
    # Stored bytes on SQLite, answered without SQLAlchemy (not on a terminal: the progress
    # display below writes its codes there even when there is nothing to show).
    report = None if terminal else answer_unchanged(state(ctx).db_url, paths, options)
    if report is None:
        units = state(ctx).units(read_only=dry_run)
        # Piped or under cron, Rich's console is not even made.
        with _Progress(stderr_console if terminal else None) as progress:
            report = ingest_paths(units, paths, options, progress=progress)

    shown: set[str] = set()  # a file read by two units (a .GRP and a .RUN) warns once
    for unit in report.units:
        _print_problems(unit.errors, "errors", shown)
        _print_problems(unit.warnings, "warnings", shown, unit.warnings_not_kept)
    if output_format is SummaryFormat.json:
        sys.stdout.write(summary_json(report))
    else:
        print_table(report)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def summary_json(report: IngestReport) -> str:
    """gradestore.ingest.summary_json (imported when used: not for `ingest --help`)."""
    from gradestore.ingest import summary_json as ingest_summary_json

    return ingest_summary_json(report)


def print_table(report: IngestReport) -> None:
    """The summary for people: a table, then the files read through a .RUN or .GRP already and
    the files skipped (a table on a terminal, plain text when piped)."""
    from gradestore.kinds import FileStatus
    from gradestore.render import ingest_table

    out = stdout_console()
    plain = not out.is_terminal
    parts: list[Any] = [ingest_table(report, plain=plain)]
    already = sum(1 for unit in report.units if unit.status is FileStatus.ALREADY_DONE)
    if already:
        parts.append(f"{already} file(s) already read through a .RUN or .GRP above.")
    if report.skipped_files:
        parts.append(f"skipped {len(report.skipped_files)} file(s) that are not grade files:")
        parts.extend(f"  {visible(skipped)}" for skipped in report.skipped_files)
    print_parts(out, parts, plain)


def _print_problems(problems: list[Problem], what: str, shown: set[str], not_kept: int = 0) -> None:
    """At most MAX_PROBLEMS_SHOWN lines a file, then how many more there are (``not_kept``:
    warnings only counted, not kept); a problem with the whole file (such as the reader's own
    "stopped after") is always shown."""
    per_file: dict[str, int] = {}
    hidden: dict[str, int] = {}
    for problem in problems:
        line = str(problem)
        if line in shown:
            continue
        shown.add(line)
        if problem.line is not None:
            per_file[problem.path] = per_file.get(problem.path, 0) + 1
            if per_file[problem.path] > MAX_PROBLEMS_SHOWN:
                hidden[problem.path] = hidden.get(problem.path, 0) + 1
                continue
        echo_err(line)
    for path, count in hidden.items():
        extra = not_kept if len(hidden) == 1 else 0
        echo_err(f"{path}: ... and {count + extra} more {what}")
    if not_kept and len(hidden) != 1:
        echo_err(f"... and {not_kept} more {what}")


class _Progress:
    """Rows read so far, on a terminal's standard error; nothing when piped or under cron."""

    def __init__(self, make_console: Callable[[], Console] | None) -> None:
        """``make_console``: the console to show it on, made when the block starts; None: no
        progress is shown."""
        self._make_console = make_console
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressCallback | None:
        if self._make_console is None:
            return None
        console = self._make_console()
        if not console.is_terminal:
            return None
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._progress.start()
        return self._advance

    def _advance(self, path: str, rows: int, phase: str) -> None:
        assert self._progress is not None
        if path not in self._tasks:
            # A new file: the line of the one before is done, so it goes.
            for done in self._tasks.values():
                self._progress.remove_task(done)
            self._tasks = {path: self._progress.add_task(visible(path), total=None)}
        task = self._tasks[path]
        self._progress.update(task, advance=rows, description=f"{visible(path)}: {phase}")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
