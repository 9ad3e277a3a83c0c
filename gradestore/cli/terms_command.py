"""`gradestore terms`: the stored terms in time order."""

from __future__ import annotations

import typer

from gradestore.cli.common import (
    OutputFormat,
    handle_errors,
    print_renderables,
    state,
    write_stdout,
)


def register(app: typer.Typer) -> None:
    app.command("terms")(terms)


@handle_errors
def terms(
    ctx: typer.Context,
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """List the stored terms in time order (Winter, Spring, Summer, Fall within a year) with
    their sections and grades; terms gradestore does not recognise come after, marked."""
    from gradestore.render import terms_csv, terms_renderables, to_json
    from gradestore.term_listing import list_terms

    listing = list_terms(state(ctx).units(read_only=True))
    if output_format is OutputFormat.json:
        write_stdout(to_json(listing.as_json()))
    elif output_format is OutputFormat.csv:
        write_stdout(terms_csv(listing))
    else:
        print_renderables(lambda plain: terms_renderables(listing, plain))
