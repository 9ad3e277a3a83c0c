"""`gradestore analyses [show ID | diff A B | delete ID... | prune --keep N]`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gradestore.cli.common import (
    OutputFormat,
    SummaryFormat,
    handle_errors,
    print_renderables,
    state,
    write_stdout,
)

if TYPE_CHECKING:
    from gradestore.history import Deletion

app = typer.Typer(
    help="The stored analyses: list them (newest first), show, compare, delete and prune.",
    invoke_without_command=True,
)

DRY_RUN_HELP = "Say what would be deleted; delete nothing."


@app.callback()
@handle_errors
def list_analyses(
    ctx: typer.Context,
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """List the stored analyses, newest first: id, when, scope, threshold and the options they
    were made with, how many tests and flags (after adjustment and by p alone)."""
    if ctx.invoked_subcommand is not None:
        return
    from gradestore.history import list_analyses as listed
    from gradestore.render import to_json
    from gradestore.render_history import analyses_csv, analyses_renderables

    entries = listed(state(ctx).units(read_only=True))
    if output_format is OutputFormat.json:
        write_stdout(to_json([entry.as_json() for entry in entries]))
    elif output_format is OutputFormat.csv:
        write_stdout(analyses_csv(entries))
    else:
        print_renderables(lambda plain: analyses_renderables(entries, plain))


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    analysis_id: int = typer.Argument(..., metavar="ID", help="The analysis (see the list)."),
    output_format: SummaryFormat = typer.Option(SummaryFormat.table, "--format"),
) -> None:
    """How one analysis was made, the analysis it follows, and its flagged tests."""
    from gradestore.history import show_analysis
    from gradestore.render import to_json
    from gradestore.render_history import detail_renderables

    detail = show_analysis(state(ctx).units(read_only=True), analysis_id)
    if output_format is SummaryFormat.json:
        write_stdout(to_json(detail.as_json()))
    else:
        print_renderables(lambda plain: detail_renderables(detail, plain))


@app.command("diff")
@handle_errors
def diff(
    ctx: typer.Context,
    before: int = typer.Argument(..., metavar="A", help="The earlier analysis."),
    after: int = typer.Argument(..., metavar="B", help="The later analysis."),
    mean_moved: float | None = typer.Option(
        None,
        "--mean-moved",
        metavar="X",
        help="Also list sections and groups whose mean GPA moved by more than X points.",
    ),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """Compare two analyses: sections and groups whose flag changed (new, vanished, or
    between 'by p alone' and not flagged), and means that moved by more than X."""
    from gradestore.history import diff_analyses
    from gradestore.render import to_json
    from gradestore.render_history import diff_csv, diff_renderables

    found = diff_analyses(state(ctx).units(read_only=True), before, after, mean_moved=mean_moved)
    if output_format is OutputFormat.json:
        write_stdout(to_json(found.as_json()))
    elif output_format is OutputFormat.csv:
        write_stdout(diff_csv(found))
    else:
        print_renderables(lambda plain: diff_renderables(found, plain))


@app.command("delete")
@handle_errors
def delete(
    ctx: typer.Context,
    analysis_ids: list[int] = typer.Argument(..., metavar="ID...", help="Analyses to delete."),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    output_format: SummaryFormat = typer.Option(SummaryFormat.table, "--format"),
) -> None:
    """Delete analyses and every row they hold, in one transaction (the seed API's analysis is
    kept; an unknown id deletes nothing)."""
    from gradestore.history import delete_analyses

    _show_deletion(
        delete_analyses(state(ctx).units(), analysis_ids, dry_run=dry_run), output_format
    )


@app.command("prune")
@handle_errors
def prune(
    ctx: typer.Context,
    keep: int = typer.Option(
        ..., "--keep", min=1, metavar="N", help="How many of each scope and options to keep."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_RUN_HELP),
    output_format: SummaryFormat = typer.Option(SummaryFormat.table, "--format"),
) -> None:
    """Keep the newest N analyses of each scope and options (so always the latest of each),
    delete the others in one transaction; the seed API's analysis is kept."""
    from gradestore.history import prune_analyses

    _show_deletion(prune_analyses(state(ctx).units(), keep, dry_run=dry_run), output_format)


def _show_deletion(deletion: Deletion, output_format: SummaryFormat) -> None:
    from gradestore.render import to_json
    from gradestore.render_history import deletion_line

    if output_format is SummaryFormat.json:
        write_stdout(to_json(deletion.as_json()))
    else:
        typer.echo(deletion_line(deletion))
