"""`gradestore report`: read stored analyses as tables, JSON, CSV or a legacy .lst file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from gradestore.cli.common import (
    OutputFormat,
    handle_errors,
    print_renderables,
    state,
    write_output,
)


class ListName(StrEnum):
    good = "good"
    work = "work"


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
    list_name: ListName | None = typer.Option(
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

    engine = state(ctx).engine()
    result: Any
    if section is not None:
        result = reports.section_report(engine, section, analysis_id)
        table, as_csv = render.section_report_renderables, render.section_report_csv
    elif group is not None:
        result = reports.group_report(engine, group, analysis_id)
        table, as_csv = render.group_report_renderables, render.group_report_csv
    elif student is not None:
        result = reports.student_report(engine, student)
        table, as_csv = render.student_report_renderables, render.student_report_csv
    elif list_name is not None:
        result = reports.list_report(engine, list_name.value, analysis_id)
        table, as_csv = render.list_report_renderables, render.list_report_csv
        if wants_lst:
            write_output(render.legacy_list(result), output)
            typer.echo(f"wrote {len(result.students)} students to {output}", err=True)
            return
    else:
        result = reports.analysis_report(engine, analysis_id)
        table, as_csv = render.full_report_renderables, render.full_report_csv

    if output_format is OutputFormat.json:
        write_output(render.to_json(result.as_json()), output)
    elif output_format is OutputFormat.csv:
        write_output(as_csv(result), output)
    elif output is not None:
        _write_table_file(output, table(result, True))
    else:
        print_renderables(lambda plain: table(result, plain))


def _write_table_file(path: Path, renderables: list[Any]) -> None:
    from rich.console import Console

    with path.open("w", encoding="utf-8") as handle:
        console = Console(file=handle, width=200, no_color=True, highlight=False)
        for renderable in renderables:
            console.print(renderable, markup=False) if isinstance(renderable, str) else (
                console.print(renderable)
            )
