"""`gradestore report`: read stored analyses as tables, JSON, CSV or a legacy .lst file."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import typer

from gradestore.cli.common import OutputFormat, handle_errors, print_renderables, state
from gradestore.kinds import ListKind


def register(app: typer.Typer) -> None:
    app.command("report")(report)


@handle_errors
def report(
    ctx: typer.Context,
    section: str | None = typer.Option(
        None, "--section", metavar="S", help="One section: grades chart, z-tests, its students."
    ),
    group: str | None = typer.Option(
        None, "--group", metavar="G", help="One group: statistics, its sections by z."
    ),
    student: str | None = typer.Option(
        None, "--student", metavar="ID", help="One student: every grade and every list."
    ),
    list_name: ListKind | None = typer.Option(
        None, "--list", help="The good or the work list (with --output X.lst: the legacy format)."
    ),
    analysis_id: int | None = typer.Option(
        None, "--analysis", metavar="ID", help="Which analysis (default: the latest)."
    ),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write to FILE instead of the screen."
    ),
) -> None:
    """Report a stored analysis (the latest by default); with no option, the whole of it."""
    from gradestore import render, reports
    from gradestore.errors import UsageError

    chosen = [
        name
        for name, value in (
            ("--section", section),
            ("--group", group),
            ("--student", student),
            ("--list", list_name),
        )
        if value is not None
    ]
    if len(chosen) > 1:
        raise UsageError(
            f"give one of --section, --group, --student, --list (not {' and '.join(chosen)})"
        )
    wants_lst = output is not None and output.suffix.lower() == ".lst"
    if wants_lst and list_name is None:
        raise UsageError("a .lst file holds a list: use --list good or --list work with it")
    if student is not None and analysis_id is not None:
        raise UsageError("--student covers every analysis; leave out --analysis")

    units = state(ctx).units(read_only=True)
    if list_name is not None:
        with reports.open_list(units, list_name, analysis_id) as listing:
            if wants_lst:
                with output_stream(output) as out:
                    written = render.write_legacy_list(listing, out)
                typer.echo(f"wrote {written} students to {output}", err=True)
            else:
                _emit(
                    listing,
                    output_format,
                    output,
                    render.list_report_renderables,
                    render.write_list_csv,
                    render.write_list_json,
                )
        return
    if section is None and group is None and student is None:
        with reports.open_analysis(units, analysis_id) as analysis:
            _emit(
                analysis,
                output_format,
                output,
                render.full_report_renderables,
                _text_writer(render.full_report_csv),
                render.write_analysis_json,
            )
        return

    result: Any
    table: Callable[[Any, bool], list[Any]]
    as_csv: Callable[[Any], str]
    if section is not None:
        result = reports.section_report(units, section, analysis_id)
        table, as_csv = render.section_report_renderables, render.section_report_csv
    elif group is not None:
        result = reports.group_report(units, group, analysis_id)
        table, as_csv = render.group_report_renderables, render.group_report_csv
    else:
        assert student is not None
        result = reports.student_report(units, student)
        table, as_csv = render.student_report_renderables, render.student_report_csv
    _emit(
        result,
        output_format,
        output,
        table,
        _text_writer(as_csv),
        _text_writer(lambda result: render.to_json(result.as_json())),
    )


Writer = Callable[[Any, TextIO], Any]


def _text_writer(make_text: Callable[[Any], str]) -> Writer:
    return lambda result, out: out.write(make_text(result))


def _emit(
    result: Any,
    output_format: OutputFormat,
    output: Path | None,
    renderables: Callable[[Any, bool], list[Any]],
    write_csv: Writer,
    write_json: Writer,
) -> None:
    """Render ``result`` as asked: a table on the screen, or a file or stdout of any format."""
    if output_format is OutputFormat.table and output is None:
        print_renderables(lambda plain: renderables(result, plain))
        return
    with output_stream(output) as out:
        if output_format is OutputFormat.json:
            write_json(result, out)
        elif output_format is OutputFormat.csv:
            write_csv(result, out)
        else:
            from rich.console import Console

            console = Console(file=out, width=200, no_color=True, highlight=False)
            for part in renderables(result, True):
                console.print(part, markup=False) if isinstance(part, str) else console.print(part)


@contextmanager
def output_stream(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a file that appears only once it is complete (written aside, then renamed)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    from gradestore.errors import OutputError

    partial = path.with_name(f".{path.name}.partial")
    try:
        try:
            handle = partial.open("w", encoding="utf-8", newline="")
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror}") from error
        with handle as out:
            yield out
        try:
            os.replace(partial, path)
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror}") from error
    finally:
        partial.unlink(missing_ok=True)
