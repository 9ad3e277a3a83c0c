"""`gradestore sources [remove ID]`: the ingested files, and taking one back."""

from __future__ import annotations

import typer

from gradestore.cli.common import (
    OutputFormat,
    SummaryFormat,
    handle_errors,
    print_renderables,
    state,
    write_stdout,
)

app = typer.Typer(
    help="The ingested files (provenance) and what the store still holds from each; "
    "`sources remove ID` takes one back.",
    invoke_without_command=True,
)


@app.callback()
@handle_errors
def list_sources(
    ctx: typer.Context,
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """List the ingested files, oldest first: id, when, sha256, path, and the grades, .lst
    entries and memberships the store still holds from each."""
    if ctx.invoked_subcommand is not None:
        return
    from gradestore.render import to_json
    from gradestore.render_history import sources_csv, sources_renderables
    from gradestore.sources import list_sources as listed
    from gradestore.sources import source_json

    sources = listed(state(ctx).units(read_only=True))
    if output_format is OutputFormat.json:
        write_stdout(to_json([source_json(row) for row in sources]))
    elif output_format is OutputFormat.csv:
        write_stdout(sources_csv(sources))
    else:
        print_renderables(lambda plain: sources_renderables(sources, plain))


@app.command("remove")
@handle_errors
def remove(
    ctx: typer.Context,
    source_id: int = typer.Argument(..., metavar="ID", help="The file (see `gradestore sources`)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; remove nothing."),
    output_format: SummaryFormat = typer.Option(SummaryFormat.table, "--format"),
) -> None:
    """Take an ingested file back, in one transaction: its grades and .lst entries, the
    memberships it added, and the sections, students and groups it created that nothing
    else holds. Analyses stay, with the sections and groups they name."""
    from gradestore.render import to_json
    from gradestore.render_history import removal_line
    from gradestore.sources import remove_source

    removal = remove_source(state(ctx).units(), source_id, dry_run=dry_run)
    if output_format is SummaryFormat.json:
        write_stdout(to_json(removal.as_json()))
    else:
        typer.echo(removal_line(removal))
